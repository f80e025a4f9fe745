"""Helpers the metrics share: a batched scorer and pixel rankings."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ScoreFn = Callable[[np.ndarray], np.ndarray]


def scorer(model, batch_size: int = 256) -> ScoreFn:
    """``images (N, H, W, C) -> scores (N, K)`` through the model's cached compiled forward pass."""
    from ..attributions.base import chunked, predict_fn

    fn = predict_fn(model)
    return lambda x: chunked(fn, (np.asarray(x, np.float32),), batch_size)[0]


def pixel_importance(attribution: np.ndarray) -> np.ndarray:
    """``(H, W)``: the map summed over channels (signed: positive evidence ranks first)."""
    a = np.asarray(attribution, np.float64)
    return a.sum(axis=-1) if a.ndim == 3 else a


def ranking(attribution: np.ndarray) -> np.ndarray:
    """Flat pixel indices from the most to the least important (ties by position)."""
    return np.argsort(-pixel_importance(attribution).ravel(), kind="stable")
