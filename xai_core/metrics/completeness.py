"""Completeness residual: how far a map's sum is from the score difference it should explain.

Integrated Gradients and the Taylor decomposition should satisfy
``Σ a = f(x) − f(x')``; the residual ``Σ a − (f(x) − f(x'))`` (and its size
relative to ``|f(x) − f(x')|``) says how well they do.

References:
    Sundararajan, M., Taly, A. and Yan, Q. (2017). Axiomatic attribution for
    deep networks. ICML (the completeness axiom).
"""

from __future__ import annotations

import numpy as np


def completeness_residual(attribution: np.ndarray, score_x: float, score_baseline: float) -> tuple[float, float]:
    """``(residual, relative residual)`` with ``residual = Σ a − (f(x) − f(x'))``."""
    delta = float(score_x) - float(score_baseline)
    residual = float(np.sum(np.asarray(attribution, np.float64))) - delta
    return residual, (abs(residual) / abs(delta) if delta != 0 else float("inf"))
