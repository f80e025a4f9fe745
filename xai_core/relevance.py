"""First-order Taylor decomposition around a filtered root point.

For a class score ``y = f_c(x)`` and a root point ``x̃`` near ``x``::

    f_c(x) ≈ f_c(x̃) + ∂f_c/∂x|_x · (x − x̃)

so the relevance of each input value is ``R = ∂y/∂x · (x − x̃)`` and
``Σ R ≈ f_c(x) − f_c(x̃)``.  The *first-order residual*
``f_c(x) − f_c(x̃) − Σ R`` says how far the linear approximation is from exact
(zero for a model that is linear between x̃ and x).  Here the gradient is taken
at ``x`` (as in the research app); the root point comes from
:mod:`xai_core.filters`.

References:
    Montavon, G., Lapuschkin, S., Binder, A., Samek, W. and Müller, K.-R.
    (2017). Explaining nonlinear classification decisions with deep Taylor
    decomposition. Pattern Recognition 65, 211–222.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .filters import root_point

GradientFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def taylor_relevance(grad: np.ndarray, x: np.ndarray, root: np.ndarray) -> np.ndarray:
    """``R = grad · (x − root)``, element-wise, float32."""
    return (np.asarray(grad, np.float64) * (np.asarray(x, np.float64) - np.asarray(root, np.float64))).astype(
        np.float32)


@dataclass
class TaylorResult:
    """Everything the relevance page shows, for one image and one class.

    Attributes:
        x: The input ``(H, W, C)``.
        root: The root point x̃.
        grad: ``∂y/∂x`` at ``x``.
        relevance: ``grad · (x − root)``.
        scores_x: All class scores at x (probabilities or logits, see ``softmax``).
        scores_root: All class scores at x̃.
        target: The explained class.
        softmax: True if the scores are probabilities.
    """

    x: np.ndarray
    root: np.ndarray
    grad: np.ndarray
    relevance: np.ndarray
    scores_x: np.ndarray
    scores_root: np.ndarray
    target: int
    softmax: bool

    @property
    def relevance_sum(self) -> float:
        return float(np.sum(self.relevance, dtype=np.float64))

    @property
    def delta(self) -> float:
        """``f(x) − f(x̃)`` for the target class."""
        return float(self.scores_x[self.target]) - float(self.scores_root[self.target])

    @property
    def residual(self) -> float:
        """``f(x) − f(x̃) − Σ R``: the error of the first-order approximation."""
        return self.delta - self.relevance_sum


def explain(gradient_fn: GradientFn, x: np.ndarray, target: int | None = None, *, filter_name: str = "gaussian",
            sigma: float = 1.0, softmax: bool = True, root: np.ndarray | None = None,
            grad: np.ndarray | None = None) -> TaylorResult:
    """Taylor relevance of one image.

    Args:
        gradient_fn: ``(x_batch, targets) -> (scores, grads)``, e.g.
            ``functools.partial(entry.gradients, softmax=True)``.
        x: ``(H, W, C)`` image.
        target: Class to explain (default: the predicted class).
        filter_name, sigma: Root-point filter (see :func:`xai_core.filters.root_point`).
        softmax: Whether ``gradient_fn`` returns probabilities (for the record).
        root: A precomputed root point (skips the filter).
        grad: A precomputed gradient at ``x`` for ``target`` (skips the backward pass).
    """
    x = np.asarray(x, np.float32)
    root = root_point(x, filter_name, sigma) if root is None else np.asarray(root, np.float32)
    batch = np.stack([x, root])
    if target is None:
        scores, _ = gradient_fn(batch[:1], np.zeros(1, np.int32))
        target = int(np.argmax(scores[0]))
    scores, grads = gradient_fn(batch, np.full(2, target, np.int32))
    g = grads[0] if grad is None else np.asarray(grad, np.float32)
    return TaylorResult(x, root, g, taylor_relevance(g, x, root), scores[0], scores[1], int(target), softmax)
