"""Filters that make the root point x̃ of a Taylor decomposition.

Each filter maps an image ``(H, W, C)`` (or a batch ``(N, H, W, C)``) and a
strength ``sigma >= 0`` to a perturbed copy of the same shape, computed per
channel with scikit-image.  ``sigma = 0`` returns the input unchanged for all
three, so the relevance ``dy/dx · (x − x̃)`` is then exactly zero.

* ``gaussian``: ``skimage.filters.gaussian(x, sigma=σ, mode="nearest",
  truncate=4.0, preserve_range=True, channel_axis=-1)``: a Gaussian blur with
  standard deviation σ pixels (a low-pass copy).
* ``sharpness``: ``skimage.filters.unsharp_mask(x, radius=σ, amount=1,
  preserve_range=True, channel_axis=2)``, i.e. ``x + (x − gaussian_σ(x))``
  per channel, where this blur uses ``mode="reflect"`` (scikit-image's choice
  inside ``unsharp_mask``): the input with its high frequencies boosted.  Not
  clipped, so values may leave the input range slightly.  (``channel_axis``
  must be the positive index 2: scikit-image 0.26 slices channels with
  ``slice_at_axis``, which treats ``-1`` as the first axis.)
* ``nearest``: ``skimage.transform.rescale(x, 1 / (1 + σ), order=0,
  anti_aliasing=False)`` then ``skimage.transform.resize(·, (H, W), order=0)``:
  nearest-neighbour down-sampling by the factor ``1 + σ`` and back up to the
  input size (a pixelated copy).
"""

from __future__ import annotations

import numpy as np

FILTERS = ("gaussian", "sharpness", "nearest")
LABELS = {
    "gaussian": "Gaussian blur",
    "sharpness": "Sharpness (unsharp mask)",
    "nearest": "Nearest (pixelate)",
}
DESCRIPTIONS = {
    "gaussian": "x̃ = Gaussian blur of x with standard deviation σ pixels (skimage.filters.gaussian).",
    "sharpness": "x̃ = x + (x − blur_σ(x)): unsharp masking with radius σ and amount 1 (skimage.filters.unsharp_mask).",
    "nearest": "x̃ = x down-sampled by 1 + σ with nearest neighbour and scaled back up (a pixelated copy).",
}


def _one(x: np.ndarray, name: str, sigma: float) -> np.ndarray:
    from skimage.filters import gaussian, unsharp_mask
    from skimage.transform import rescale, resize

    if sigma == 0:
        return x.copy()
    if name == "gaussian":
        return gaussian(x, sigma=sigma, mode="nearest", truncate=4.0, preserve_range=True, channel_axis=-1)
    if name == "sharpness":
        return unsharp_mask(x, radius=sigma, amount=1.0, preserve_range=True, channel_axis=2)
    if name == "nearest":
        small = rescale(x, 1.0 / (1.0 + sigma), order=0, anti_aliasing=False, preserve_range=True,
                        channel_axis=-1)
        return resize(small, x.shape, order=0, anti_aliasing=False, preserve_range=True)
    raise ValueError(f"filter must be one of {', '.join(FILTERS)}, got {name!r}")


def root_point(x: np.ndarray, name: str = "gaussian", sigma: float = 1.0) -> np.ndarray:
    """The filtered copy x̃ of ``x`` (see the module docstring for the exact definitions).

    Args:
        x: ``(H, W, C)`` or ``(N, H, W, C)`` float image(s).
        name: ``gaussian``, ``sharpness`` or ``nearest``.
        sigma: Filter strength, ``>= 0``.

    Returns:
        float32 array shaped like ``x``.
    """
    if name not in FILTERS:
        raise ValueError(f"filter must be one of {', '.join(FILTERS)}, got {name!r}")
    sigma = float(sigma)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3:
        return _one(x, name, sigma).astype(np.float32)
    if x.ndim == 4:
        return np.stack([_one(xi, name, sigma) for xi in x]).astype(np.float32)
    raise ValueError(f"expected (H, W, C) or (N, H, W, C), got shape {x.shape}")
