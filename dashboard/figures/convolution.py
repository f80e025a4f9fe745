"""Figures of the Convolution page."""

from __future__ import annotations

import numpy as np

from xai_core.convolution import TheoremSteps
from xai_core.fourier import magnitude

from .images import Panel, grid_figure, symmetric_limit


def theorem_figure(steps: TheoremSteps, log: bool = True) -> dict:
    """Two rows: the spatial domain on top, the Fourier domain below.

    Top: the layer's input channel x, the flipped kernel h zero-padded to the
    FFT grid (centred), the inverse FFT of the product, and Keras' result.
    Bottom: |F{x}|, |F{h}|, |F{x}·F{h}| (all centred) and the difference
    between the inverse FFT and Keras' result.
    """
    lab = "log₁₀(1+|·|)" if log else "|·|"
    out_lim = symmetric_limit(steps.result, steps.reference)
    grid = f"{steps.grid[0]}×{steps.grid[1]}"
    panels = [
        Panel(steps.image, "input channel x", "signed" if steps.image.min() < 0 else "image", None, "x"),
        Panel(np.fft.fftshift(steps.kernel_embedded), f"kernel h, flipped, padded to {grid}", "signed", None, "h"),
        Panel(steps.result, "IFFT(F{x}·F{h})", "signed", out_lim, "y"),
        Panel(steps.reference, "Keras: tf.nn.conv2d", "signed", out_lim, "y", colorbar=True),
        Panel(magnitude(steps.image_spectrum, log), f"{lab} of F{{x}}", "magnitude", None, "|F|"),
        Panel(magnitude(steps.kernel_spectrum, log), f"{lab} of F{{h}}", "magnitude", None, "|F|"),
        Panel(magnitude(steps.product, log), f"{lab} of F{{x}}·F{{h}}", "magnitude", None, "|F|"),
        Panel(steps.difference, "IFFT − Keras", "signed", None, "Δ", colorbar=True),
    ]
    return grid_figure(panels, cols=4, height_per_row=230, horizontal_spacing=0.05)
