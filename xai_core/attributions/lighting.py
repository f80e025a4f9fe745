"""Lighting: set one pixel (or patch) to the maximum value at a time and record each class's change.

For every patch position ``P`` the lit image has ``P`` set to the top of the
value range, and ``f_k(x_P) − f_k(x)`` is recorded for every class ``k``: a map
per class (:meth:`Lighting.class_maps`).  ``explain`` returns the target class's
map.  Patch geometry as in :mod:`~xai_core.attributions.occlusion` (values
averaged over overlapping patches).

References:
    Zeiler, M. D. and Fergus, R. (2014). Visualizing and understanding
    convolutional networks. ECCV (the occlusion family this inverts:
    instead of removing evidence it adds maximal intensity).
"""

from __future__ import annotations

import numpy as np

from .base import Attribution, pixel_map
from .occlusion import patch_masks


class Lighting(Attribution):
    """Per-class change of the score when a patch is set to the maximum value.

    Args:
        patch: Patch side in pixels (1 = one pixel at a time).
        stride: Step between patches (default: the patch side).
    """

    def __init__(self, model, *, patch: int = 1, stride: int | None = None, **kwargs):
        super().__init__(model, **kwargs)
        self.patch = int(patch)
        self.stride = int(stride) if stride else self.patch
        self.masks = patch_masks(*self.input_shape[:2], self.patch, self.stride)
        self.evals_per_image = len(self.masks) + 1

    def class_maps(self, images, *, progress=None) -> np.ndarray:
        """``(N, K, H, W)``: the change of every class's score, per pixel."""
        x = np.asarray(images, np.float32)
        x = x[None] if x.ndim == 3 else x
        per_chunk = max(1, self.batch_size // self.evals_per_image)
        out = []
        for start in range(0, len(x), per_chunk):
            out.append(self._maps(x[start:start + per_chunk]))
            if progress is not None:
                progress(min(1.0, (start + per_chunk) / len(x)))
        return np.concatenate(out)

    def _maps(self, x: np.ndarray) -> np.ndarray:
        m = self.masks[None, :, :, :, None].astype(np.float32)
        lit = x[:, None] * (1 - m) + self.value_range[1] * m
        p = len(self.masks)
        everything = self.scores(np.concatenate([x, lit.reshape(-1, *self.input_shape)]))  # one pass
        base, scores = everything[:len(x)], everything[len(x):].reshape(len(x), p, -1)
        change = scores - base[:, None, :]  # (N, P, K)
        cover = np.maximum(self.masks.sum(axis=0), 1)
        return (np.einsum("npk,phw->nkhw", change.astype(np.float64), self.masks.astype(np.float64))
                / cover).astype(np.float32)

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        maps = self._maps(x)
        return pixel_map(maps[np.arange(len(x)), t], self.input_shape[2])
