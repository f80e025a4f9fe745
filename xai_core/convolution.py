"""The convolution theorem, applied to what a Keras ``Conv2D`` layer computes.

A Keras/TensorFlow convolution layer computes a *cross-correlation*::

    out[i, j] = sum_{u, v} x[i + u - pt, j + v - pl] * k[u, v]

with ``"same"`` padding anchoring the kernel at ``pt = (kh - 1) // 2``,
``pl = (kw - 1) // 2`` and zeros outside the image.  Writing it as a true
convolution ``out = x (*) h`` needs the flipped kernel ``h[m, n] = k[pt - m, pl - n]``.
By the convolution theorem ``F{x (*) h} = F{x} . F{h}``: one product of two
spectra, one inverse FFT.

Two ways of embedding ``h`` in an FFT grid:

* ``"circular"``: the grid has the image's size; the product of the spectra is
  a circular convolution, so values near one edge wrap around to the other.
* ``"linear"``: the image is zero-padded by ``kh - 1`` rows and ``kw - 1``
  columns first; the circular convolution of the padded arrays equals the
  zero-padded linear convolution, which is exactly what ``tf.nn.conv2d`` with
  ``padding="SAME"`` computes (up to float rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = ("linear", "circular")


def same_padding(kernel_size: int) -> tuple[int, int]:
    """TensorFlow's ``SAME`` padding (before, after) for stride 1."""
    total = kernel_size - 1
    return total // 2, total - total // 2


def embed_kernel(k: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The flipped kernel ``h`` of a cross-correlation, embedded in an FFT grid.

    ``h[(pt - u) mod N, (pl - v) mod M] = k[u, v]``, so that the circular
    convolution of an ``N x M`` image with ``h`` is the ``"same"``
    cross-correlation with ``k`` (with wrap-around at the edges).
    """
    k = np.asarray(k, dtype=np.float64)
    kh, kw = k.shape
    n, m = shape
    if kh > n or kw > m:
        raise ValueError(f"kernel {k.shape} is larger than the FFT grid {shape}")
    pt, pl = same_padding(kh)[0], same_padding(kw)[0]
    h = np.zeros((n, m))
    rows = (pt - np.arange(kh)) % n
    cols = (pl - np.arange(kw)) % m
    h[np.ix_(rows, cols)] = k
    return h


def fft_grid(image_shape: tuple[int, int], kernel_shape: tuple[int, int], mode: str) -> tuple[int, int]:
    """FFT size for ``mode`` (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "circular":
        return tuple(int(s) for s in image_shape)
    return image_shape[0] + kernel_shape[0] - 1, image_shape[1] + kernel_shape[1] - 1


def fft_cross_correlate(x: np.ndarray, k: np.ndarray, mode: str = "linear") -> np.ndarray:
    """``"same"`` cross-correlation of a 2-D image with a 2-D kernel via the FFT.

    With ``mode="linear"`` the result equals ``tf.nn.conv2d(x, k, 1, "SAME")``;
    with ``mode="circular"`` the image is treated as periodic.
    """
    x = np.asarray(x, dtype=np.float64)
    grid = fft_grid(x.shape, np.shape(k), mode)
    xf = np.fft.rfft2(x, s=grid)
    hf = np.fft.rfft2(embed_kernel(k, grid))
    return np.fft.irfft2(xf * hf, s=grid)[: x.shape[0], : x.shape[1]]


def fft_conv2d(x: np.ndarray, kernels: np.ndarray, mode: str = "linear") -> np.ndarray:
    """A whole ``Conv2D`` layer (stride 1, ``"same"``, no bias) in the Fourier domain.

    Args:
        x: ``(H, W, C_in)`` or ``(N, H, W, C_in)``.
        kernels: ``(kh, kw, C_in, C_out)`` Keras weights.
        mode: ``"linear"`` (equals ``tf.nn.conv2d``) or ``"circular"``.

    Returns:
        float64 array of shape ``(..., H, W, C_out)``.
    """
    x = np.asarray(x, dtype=np.float64)
    kernels = np.asarray(kernels, dtype=np.float64)
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    n, hgt, wid, cin = x.shape
    kh, kw, kcin, cout = kernels.shape
    if kcin != cin:
        raise ValueError(f"input has {cin} channels, kernels expect {kcin}")
    grid = fft_grid((hgt, wid), (kh, kw), mode)
    xf = np.fft.rfft2(x, s=grid, axes=(1, 2))  # (N, G0, G1', Cin)
    pt, pl = same_padding(kh)[0], same_padding(kw)[0]
    h = np.zeros(grid + (cin, cout))
    rows = (pt - np.arange(kh)) % grid[0]
    cols = (pl - np.arange(kw)) % grid[1]
    h[rows[:, None], cols[None, :]] = kernels
    hf = np.fft.rfft2(h, axes=(0, 1))  # (G0, G1', Cin, Cout)
    yf = np.einsum("nabi,abio->nabo", xf, hf)
    y = np.fft.irfft2(yf, s=grid, axes=(1, 2))[:, :hgt, :wid]
    return y[0] if squeeze else y


@dataclass
class TheoremSteps:
    """Every intermediate array of one FFT convolution, for display.

    All spectra are centred (``fftshift``) complex arrays on the FFT grid.
    """

    mode: str
    grid: tuple[int, int]
    image: np.ndarray
    kernel: np.ndarray
    image_spectrum: np.ndarray
    kernel_embedded: np.ndarray
    kernel_spectrum: np.ndarray
    product: np.ndarray
    result: np.ndarray
    reference: np.ndarray

    @property
    def difference(self) -> np.ndarray:
        return self.result - self.reference

    @property
    def max_abs_error(self) -> float:
        return float(np.max(np.abs(self.difference)))

    @property
    def relative_error(self) -> float:
        scale = float(np.max(np.abs(self.reference)))
        return self.max_abs_error / scale if scale > 0 else self.max_abs_error


def tf_cross_correlate(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Reference: ``tf.nn.conv2d`` of one channel with one kernel slice, ``SAME``, stride 1."""
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float32)
    k = np.asarray(k, dtype=np.float32)
    out = tf.nn.conv2d(x[None, :, :, None], k[:, :, None, None], strides=1, padding="SAME")
    return out.numpy()[0, :, :, 0].astype(np.float64)


def theorem_steps(x: np.ndarray, k: np.ndarray, mode: str = "linear",
                  reference: np.ndarray | None = None) -> TheoremSteps:
    """Run the convolution theorem on one channel and one kernel slice.

    Args:
        x: ``(H, W)`` input channel.
        k: ``(kh, kw)`` kernel slice as stored by Keras.
        mode: ``"linear"`` (zero-padded) or ``"circular"``.
        reference: The spatial result to compare with; default
            :func:`tf_cross_correlate` (what Keras computes).
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    grid = fft_grid(x.shape, k.shape, mode)
    xpad = np.zeros(grid)
    xpad[: x.shape[0], : x.shape[1]] = x
    h = embed_kernel(k, grid)
    xf = np.fft.fft2(xpad)
    hf = np.fft.fft2(h)
    prod = xf * hf
    result = np.real(np.fft.ifft2(prod))[: x.shape[0], : x.shape[1]]
    ref = tf_cross_correlate(x, k) if reference is None else np.asarray(reference, np.float64)
    shift = np.fft.fftshift
    return TheoremSteps(
        mode=mode,
        grid=grid,
        image=x,
        kernel=k,
        image_spectrum=shift(xf),
        kernel_embedded=h,
        kernel_spectrum=shift(hf),
        product=shift(prod),
        result=result,
        reference=ref,
    )
