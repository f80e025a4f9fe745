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
