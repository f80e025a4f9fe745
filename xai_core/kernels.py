"""Drawing kernels from convolution layers and looking at them in the Fourier domain.

A *kernel* is one 2-D slice ``W[:, :, c_in, c_out]`` of a layer's effective
kernel tensor (see :func:`xai_core.graph.effective_kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import fourier


@dataclass(frozen=True)
class KernelDraw:
    """One drawn kernel slice."""

    layer: str
    c_in: int
    c_out: int
    kernel: np.ndarray  # (kh, kw)


def draw(kernels: np.ndarray, count: int, rng: np.random.Generator, layer: str = "") -> list[KernelDraw]:
    """Draw ``count`` distinct ``(c_in, c_out)`` slices of ``kernels`` at random.

    Args:
        kernels: ``(kh, kw, C_in, C_out)``.
        count: How many slices (at most ``C_in * C_out``).
        rng: The generator that fixes the draw.
        layer: Layer key stored with each draw.
    """
    kernels = np.asarray(kernels)
    if kernels.ndim != 4:
        raise ValueError(f"expected (kh, kw, C_in, C_out) kernels, got shape {kernels.shape}")
    cin, cout = kernels.shape[2:]
    count = max(0, min(int(count), cin * cout))
    flat = rng.choice(cin * cout, size=count, replace=False)
    return [KernelDraw(layer, int(i // cout), int(i % cout), kernels[:, :, i // cout, i % cout]) for i in flat]


def resolve_fft_size(choice: str | int, kernel_shape: tuple[int, int], input_shape: tuple[int, int]) -> int:
    """FFT size for a UI choice: ``"kernel"``, ``"input"`` or a number (never below the kernel)."""
    k = max(kernel_shape)
    if choice == "kernel":
        return k
    if choice == "input":
        return max(k, max(input_shape))
    try:
        n = int(choice)
    except (TypeError, ValueError):
        raise ValueError(f"FFT size must be 'kernel', 'input' or a number, got {choice!r}") from None
    if not 1 <= n <= 1024:
        raise ValueError(f"FFT size must be between 1 and 1024, got {n}")
    return max(k, n)


@dataclass
class KernelSpectrum:
    """A kernel and its centred spectrum on an ``size x size`` grid."""

    kernel: np.ndarray
    size: int
    spectrum: np.ndarray

    @property
    def magnitude(self) -> np.ndarray:
        return fourier.magnitude(self.spectrum)

    def log_magnitude(self) -> np.ndarray:
        return fourier.magnitude(self.spectrum, log=True)

    @property
    def phase(self) -> np.ndarray:
        return fourier.phase(self.spectrum, tol=1e-9 * max(1e-30, float(np.abs(self.spectrum).max())))


def kernel_spectrum(kernel: np.ndarray, size: int) -> KernelSpectrum:
    """Zero-pad ``kernel`` to ``size x size`` and take its centred DFT."""
    return KernelSpectrum(np.asarray(kernel, np.float64), int(size), fourier.spectrum(kernel, size, centered=True))


def layer_slices(layer) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The 2-D kernels a convolution layer really has, as ``(kh, kw, n)`` plus their ``(c_in, c_out)``.

    For ``Conv2D`` and ``SeparableConv2D`` every pair of the effective kernel
    (see :func:`xai_core.graph.effective_kernel`) is a kernel.  A
    ``DepthwiseConv2D`` with depth multiplier ``m`` has only ``C_in * m``
    kernels: output channel ``c * m + j`` sees input channel ``c`` only; the
    other pairs of its effective kernel are zero and are left out.
    """
    from .graph import effective_kernel

    if type(layer).__name__ == "DepthwiseConv2D":
        dw = np.asarray(layer.kernel, np.float64)
        kh, kw, cin, m = dw.shape
        pairs = [(c, c * m + j) for c in range(cin) for j in range(m)]
        return dw.reshape(kh, kw, cin * m), pairs
    k = np.asarray(effective_kernel(layer), np.float64)
    kh, kw, cin, cout = k.shape
    pairs = [(i, o) for i in range(cin) for o in range(cout)]
    return k.reshape(kh, kw, cin * cout), pairs


def mean_power_spectrum(slices: np.ndarray, size: int) -> np.ndarray:
    """Mean over ``n`` kernels of ``|DFT_size(k)|²`` (uncentred), without one FFT per kernel.

    ``|F{k}|²`` is the DFT of the kernel's autocorrelation, so the mean power
    is the DFT of the mean autocorrelation.  The autocorrelation of a
    ``kh × kw`` kernel has ``(2kh − 1)(2kw − 1)`` lags; each is one dot product
    over all kernels at once.  Lags are wrapped modulo ``size`` (the DFT of a
    zero-padded kernel on a ``size`` grid sees the circular autocorrelation),
    which makes the result exact for every ``size ≥ max(kh, kw)``.

    Args:
        slices: ``(kh, kw, n)`` kernels.
        size: FFT size.
    """
    s = np.asarray(slices, np.float64)
    kh, kw, n = s.shape
    acf = np.zeros((size, size))
    for dy in range(-(kh - 1), kh):
        ys = slice(max(0, -dy), kh - max(0, dy))
        ys2 = slice(max(0, dy), kh - max(0, -dy))
        for dx in range(-(kw - 1), kw):
            xs = slice(max(0, -dx), kw - max(0, dx))
            xs2 = slice(max(0, dx), kw - max(0, -dx))
            acf[dy % size, dx % size] += float(np.sum(s[ys, xs] * s[ys2, xs2])) / max(n, 1)
    return np.real(np.fft.fft2(acf))


def mean_power_profile(slices: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged :func:`mean_power_spectrum` (same result as ``fourier.layer_power_profile``)."""
    power = np.fft.fftshift(np.maximum(mean_power_spectrum(slices, size), 0.0))
    return fourier.radial_profile(power)


def draw_pairs(pairs: list[tuple[int, int]], count: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``count`` distinct pairs drawn at random from ``pairs``."""
    count = max(0, min(int(count), len(pairs)))
    return [pairs[i] for i in rng.choice(len(pairs), size=count, replace=False)]
