"""First-order Taylor relevance around a filtered root point (the relevance page's method).

``R = ∂y/∂x|_x · (x − x̃)`` with ``x̃`` a filtered copy of ``x``
(:func:`xai_core.filters.root_point`); ``Σ R ≈ f(x) − f(x̃)``.

References:
    Montavon, G., Lapuschkin, S., Binder, A., Samek, W. and Müller, K.-R.
    (2017). Explaining nonlinear classification decisions with deep Taylor
    decomposition. Pattern Recognition 65, 211–222.
"""

from __future__ import annotations

import numpy as np

from ..filters import FILTERS, root_point
from ..relevance import taylor_relevance
from .base import Attribution


class Taylor(Attribution):
    """Taylor relevance ``grad(x) · (x − x̃)``.

    Args:
        filter: Root-point filter: ``gaussian``, ``sharpness`` or ``nearest``.
        sigma: Filter strength (pixels).
    """

    def __init__(self, model, *, filter: str = "gaussian", sigma: float = 1.0, **kwargs):
        super().__init__(model, **kwargs)
        if filter not in FILTERS:
            raise ValueError(f"filter must be one of {', '.join(FILTERS)}, got {filter!r}")
        self.filter, self.sigma = filter, float(sigma)

    def baseline(self, x: np.ndarray) -> np.ndarray:
        return root_point(x, self.filter, self.sigma)

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return taylor_relevance(self.gradients(x, t), x, self.baseline(x))
