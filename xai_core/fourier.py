"""Discrete Fourier views of convolution kernels and images.

Conventions used throughout KernelScope:

* Spectra are two-dimensional DFTs computed with :mod:`numpy.fft` (no
  normalisation on the forward transform), of arrays zero-padded to the chosen
  FFT size with the data in the top-left corner.
* A *centred* spectrum has been passed through :func:`numpy.fft.fftshift`, so
  the zero frequency sits at index ``(N // 2, M // 2)``.
* Frequencies are in cycles per pixel, in ``[-0.5, 0.5)``.
"""

from __future__ import annotations

import numpy as np


def pad_to(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Zero-pad a 2-D array at the bottom and right to ``shape``.

    Raises:
        ValueError: if ``a`` is larger than ``shape`` in either dimension.
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {a.shape}")
    h, w = int(shape[0]), int(shape[1])
    if a.shape[0] > h or a.shape[1] > w:
        raise ValueError(f"cannot pad an array of shape {a.shape} to the smaller size {(h, w)}")
    out = np.zeros((h, w), dtype=np.result_type(a.dtype, np.float32))
    out[: a.shape[0], : a.shape[1]] = a
    return out


def spectrum(a: np.ndarray, size: int | tuple[int, int] | None = None, centered: bool = True) -> np.ndarray:
    """2-D DFT of ``a`` zero-padded to ``size`` (default: its own size).

    Args:
        a: 2-D real array (a kernel slice or an image channel).
        size: FFT size, an int for a square transform or ``(N, M)``.
        centered: Move the zero frequency to the centre with ``fftshift``.

    Returns:
        Complex128 array of shape ``size``.
    """
    a = np.asarray(a, dtype=np.float64)
    if size is None:
        shape = a.shape
    elif np.isscalar(size):
        shape = (int(size), int(size))
    else:
        shape = (int(size[0]), int(size[1]))
    f = np.fft.fft2(pad_to(a, shape))
    return np.fft.fftshift(f) if centered else f


def magnitude(f: np.ndarray, log: bool = False) -> np.ndarray:
    """``|F|``, or ``log10(1 + |F|)`` when ``log`` is true."""
    m = np.abs(f)
    return np.log10(1.0 + m) if log else m


def phase(f: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    """Phase angle of ``F`` in radians, set to 0 where ``|F|`` is below ``tol``.

    The phase of a numerically zero coefficient is noise; zeroing it keeps the
    phase plot honest.
    """
    p = np.angle(f)
    p[np.abs(f) < tol] = 0.0
    return p


def frequencies(n: int, centered: bool = True) -> np.ndarray:
    """Frequencies (cycles per pixel) of an ``n``-point DFT axis."""
    f = np.fft.fftfreq(n)
    return np.fft.fftshift(f) if centered else f


def radial_profile(power: np.ndarray, centered: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged profile of a 2-D spectrum.

    Every coefficient is assigned to the ring ``round(r)`` where ``r`` is its
    distance from the zero frequency measured in frequency bins of the shorter
    axis; the profile is the mean over each ring up to the Nyquist radius.

    Args:
        power: 2-D array (typically ``|F|**2``).
        centered: Whether ``power`` is centred (``fftshift``-ed).

    Returns:
        ``(freq, profile)``: ring radius in cycles per pixel (0 to 0.5) and the
        mean of ``power`` over each ring.
    """
    power = np.asarray(power, dtype=np.float64)
    if not centered:
        power = np.fft.fftshift(power)
    n, m = power.shape
    fy = np.fft.fftshift(np.fft.fftfreq(n))[:, None]
    fx = np.fft.fftshift(np.fft.fftfreq(m))[None, :]
    radius = np.hypot(fy, fx)
    step = 1.0 / min(n, m)
    ring = np.rint(radius / step).astype(np.int64)
    n_rings = min(n, m) // 2 + 1
    keep = ring < n_rings
    sums = np.bincount(ring[keep], weights=power[keep], minlength=n_rings)
    counts = np.bincount(ring[keep], minlength=n_rings)
    profile = np.divide(sums, counts, out=np.zeros(n_rings), where=counts > 0)
    return np.arange(n_rings) * step, profile


def layer_power_profile(kernels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged power spectrum of every 2-D slice of a kernel tensor.

    Args:
        kernels: ``(kh, kw, c_in, c_out)`` weights.
        size: FFT size (each slice is zero-padded to ``size x size``).

    Returns:
        ``(freq, profile)`` where profile is the mean over all slices of
        :func:`radial_profile` of ``|F{k}|**2``.
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    kh, kw = kernels.shape[:2]
    slices = kernels.reshape(kh, kw, -1)
    padded = np.zeros((size, size, slices.shape[-1]))
    padded[:kh, :kw] = slices
    power = np.abs(np.fft.fft2(padded, axes=(0, 1))) ** 2
    power = np.fft.fftshift(power.mean(axis=-1))
    return radial_profile(power)


def band_character(freq: np.ndarray, profile: np.ndarray) -> str:
    """Describe a radial power profile as low-pass, high-pass, band-pass or flat.

    The profile's maximum decides: at the zero frequency is low-pass, at the
    outermost ring high-pass, in between band-pass; a profile whose maximum is
    within 10 % of its minimum is flat (all-pass).
    """
    profile = np.asarray(profile, dtype=np.float64)
    if profile.size == 0 or not np.all(np.isfinite(profile)):
        return "undefined"
    lo, hi = profile.min(), profile.max()
    if hi <= 0 or (hi - lo) <= 0.1 * hi:
        return "flat (all-pass)"
    peak = int(np.argmax(profile))
    if peak == 0:
        return "low-pass"
    if peak == profile.size - 1:
        return "high-pass"
    return f"band-pass (peak at {freq[peak]:.2f} cycles/pixel)"
