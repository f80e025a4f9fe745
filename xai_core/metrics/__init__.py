"""Quality scores of attribution maps: deletion/insertion, MuFidelity, sanity checks, completeness."""

from .completeness import completeness_residual
from .deletion import Curve, deletion_curve, insertion_curve
from .fidelity import mu_fidelity
from .sanity import RandomisationStep, cascading_randomisation, label_randomisation, similarity

__all__ = ["Curve", "RandomisationStep", "cascading_randomisation", "completeness_residual", "deletion_curve",
           "insertion_curve", "label_randomisation", "mu_fidelity", "similarity"]
