"""Top-k influential pixels: a binary mask of the k pixels where a method's map is largest in magnitude.

A pixel's importance is ``Σ_c |a_c|`` of the wrapped method's map ``a`` (by
default the saliency ``|∂y/∂x|``); the mask is 1 on the ``k`` most important
pixels (ties broken by position) and 0 elsewhere, repeated over channels.

References:
    Simonyan, K., Vedaldi, A. and Zisserman, A. (2014). Deep inside
    convolutional networks: visualising image classification models and
    saliency maps. ICLR workshop.
"""

from __future__ import annotations

import numpy as np

from .base import Attribution, pixel_map


def top_k_mask(maps: np.ndarray, k: int) -> np.ndarray:
    """``(N, H, W)`` mask of the ``k`` pixels with the largest ``Σ_c |map|``."""
    maps = np.asarray(maps)
    importance = np.abs(maps).sum(axis=-1).reshape(len(maps), -1)
    k = int(np.clip(k, 0, importance.shape[1]))
    order = np.argsort(-importance, axis=1, kind="stable")[:, :k]
    mask = np.zeros_like(importance, dtype=np.float32)
    np.put_along_axis(mask, order, 1.0, axis=1)
    return mask.reshape(maps.shape[:-1])


class TopK(Attribution):
    """Binary mask of the ``k`` most influential pixels of a method's map.

    Args:
        k: Number of pixels.
        method: Registry key (or class) of the wrapped method.
        method_params: Its options.
    """

    def __init__(self, model, *, k: int = 20, method="saliency", method_params: dict | None = None, **kwargs):
        super().__init__(model, **kwargs)
        if isinstance(method, str):
            from .registry import method_class

            method = method_class(method)
        self.inner = method(model, batch_size=self.batch_size, seed=self.seed, value_range=self.value_range,
                            **(method_params or {}))
        self.k = int(k)
        self.evals_per_image = self.inner.evals_per_image

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return pixel_map(top_k_mask(self.inner.explain(x, t), self.k), self.input_shape[2])
