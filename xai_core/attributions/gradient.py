"""Plain gradients: saliency ``|∂y/∂x|``, the signed gradient ``∂y/∂x`` and gradient × input.

References:
    Simonyan, K., Vedaldi, A. and Zisserman, A. (2014). Deep inside
    convolutional networks: visualising image classification models and
    saliency maps. ICLR workshop.
    Shrikumar, A., Greenside, P., Shcherbina, A. and Kundaje, A. (2016). Not
    just a black box: learning important features through propagating
    activation differences. arXiv:1605.01713 (gradient × input).
"""

from __future__ import annotations

import numpy as np

from .base import Attribution


class Gradient(Attribution):
    """The signed gradient ``∂ score[target] / ∂x`` (N, H, W, C)."""

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return self.gradients(x, t)


class Saliency(Attribution):
    """Saliency ``|∂ score[target] / ∂x|`` per input value (Simonyan et al. 2014).

    Unlike Xplique (which keeps the maximum over channels) every channel keeps
    its own value, so the map has the input's shape.
    """

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.abs(self.gradients(x, t))


class GradientInput(Attribution):
    """Gradient × input ``x · ∂ score[target] / ∂x`` (Shrikumar et al. 2016).

    For a linear score ``w·x + b`` this is ``w·x``: each value's contribution.
    """

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return x * self.gradients(x, t)
