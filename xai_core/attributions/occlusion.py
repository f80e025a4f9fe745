"""Occlusion ("blanking"): slide a patch over the image and record the drop of the class score.

Patches of ``patch × patch`` pixels start every ``stride`` pixels (the last
ones are clipped at the border, so every pixel is covered when
``stride <= patch``).  For each patch ``P`` the occluded image has ``P``
replaced by the fill (zero, the image's per-channel mean, or a Gaussian blur
of the image with σ = patch / 2), and its drop ``f_t(x) − f_t(x_P)`` is spread
over the patch's pixels; a pixel's value is the mean drop of the patches
covering it.  All occluded images of a chunk are scored in batches.

References:
    Zeiler, M. D. and Fergus, R. (2014). Visualizing and understanding
    convolutional networks. ECCV.
"""

from __future__ import annotations

import numpy as np

from .base import Attribution, pixel_map

FILLS = ("zero", "mean", "blur")


def patch_masks(height: int, width: int, patch: int, stride: int) -> np.ndarray:
    """Boolean masks ``(P, H, W)`` of every patch position."""
    if patch < 1 or stride < 1:
        raise ValueError(f"patch and stride must be >= 1, got {patch} and {stride}")
    rows = list(range(0, max(1, height - patch + stride), stride))
    cols = list(range(0, max(1, width - patch + stride), stride))
    masks = np.zeros((len(rows) * len(cols), height, width), bool)
    for i, (r, c) in enumerate((r, c) for r in rows for c in cols):
        masks[i, r:r + patch, c:c + patch] = True
    return masks


def fill_image(x: np.ndarray, fill: str, sigma: float, low=0.0) -> np.ndarray:
    """What replaces removed pixels, per image ``(N, H, W, C)``; ``zero`` is black, i.e. ``low``, the low end
    of the model's value range (0 for [0, 1] or 0–255 inputs, −1 for [−1, 1] ones, one value per channel
    for standardised ones)."""
    if fill == "zero":
        return np.broadcast_to(np.asarray(low, x.dtype), x.shape).copy()
    if fill == "mean":
        return np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape).astype(np.float32)
    if fill == "blur":
        from ..filters import root_point

        return root_point(x, "gaussian", sigma)
    raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")


class Occlusion(Attribution):
    """Occlusion sensitivity (Zeiler & Fergus 2014).

    Args:
        patch: Patch side in pixels.
        stride: Step between patches.
        fill: ``zero``, ``mean`` or ``blur``.
    """

    def __init__(self, model, *, patch: int = 4, stride: int = 2, fill: str = "zero", **kwargs):
        super().__init__(model, **kwargs)
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
        self.patch, self.stride, self.fill = int(patch), int(stride), fill
        self.masks = patch_masks(*self.input_shape[:2], self.patch, self.stride)
        self.evals_per_image = len(self.masks) + 1

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        m = self.masks[None, :, :, :, None].astype(np.float32)  # (1, P, H, W, 1)
        fill = fill_image(x, self.fill, self.patch / 2.0, self.value_range[0])
        occluded = x[:, None] * (1 - m) + fill[:, None] * m  # (N, P, H, W, C)
        p = len(self.masks)
        everything = self.scores(np.concatenate([x, occluded.reshape(-1, *self.input_shape)]))  # one pass
        base, scores = everything[:len(x)], everything[len(x):].reshape(len(x), p, -1)
        drop = base[np.arange(len(x)), t][:, None] - scores[np.arange(len(x)), :, t]  # (N, P)
        cover = self.masks.sum(axis=0)
        total = np.einsum("np,phw->nhw", drop.astype(np.float64), self.masks.astype(np.float64))
        return pixel_map(total / np.maximum(cover, 1), self.input_shape[2])
