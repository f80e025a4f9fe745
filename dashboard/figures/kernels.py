"""Figures of the Kernels page."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .images import Panel, encode, grid_figure, message_figure, symmetric_limit
from .theme import line_figure


@dataclass
class LayerKernels:
    """The drawn kernels of one layer, ready to plot."""

    layer: str
    kernels: list[np.ndarray]  # (kh, kw) each
    channels: list[tuple[int, int]]  # (c_in, c_out) each
    magnitudes: list[np.ndarray]  # centred |F| (or log) each
    phases: list[np.ndarray]


def kernel_grid(layers: list[LayerKernels], log: bool = False) -> dict:
    """Rows = layers; for each drawn kernel: weights, |F| and phase side by side.

    Weights share one symmetric colour scale per layer, as do magnitudes.
    """
    if not layers or not any(layer.kernels for layer in layers):
        return message_figure("This model has no 2-D convolution layers to draw kernels from.")
    per_row = max(len(layer.kernels) for layer in layers)
    panels: list[Panel | None] = []
    for layer in layers:
        wmax = symmetric_limit(*layer.kernels)
        fmax = max(float(np.max(m)) for m in layer.magnitudes) or 1.0
        for k, (ci, co), mag, ph in zip(layer.kernels, layer.channels, layer.magnitudes, layer.phases):
            panels += [
                Panel(k, f"{layer.layer} [{ci}→{co}]", "signed", wmax, "w"),
                Panel(mag, f"{layer.layer} [{ci}→{co}] " + ("log₁₀(1+|F|)" if log else "|F|"), "magnitude",
                      fmax, "|F|"),
                Panel(ph, f"{layer.layer} [{ci}→{co}] phase", "phase", None, "rad"),
            ]
        panels += [None] * (3 * (per_row - len(layer.kernels)))
    fig = grid_figure(panels, cols=3 * per_row, height_per_row=150, horizontal_spacing=0.012)
    # short visible titles; the full name stays in each trace's name
    for ann in fig["layout"]["annotations"]:
        text = ann["text"]
        if text.endswith(" phase"):
            ann["text"] = "phase"
        elif "|F|" in text:
            ann["text"] = "log₁₀(1+|F|)" if log else "|F|"
    return fig


def power_profiles(curves: list[tuple[str, np.ndarray, np.ndarray, str]]) -> dict:
    """One line per layer: radially averaged power ``(label, freq, profile, character)``."""
    if not curves:
        return message_figure("No convolution layers.", height=320)
    traces = []
    for label, freq, profile, character in curves:
        norm = profile / profile[0] if profile[0] > 0 else profile
        traces.append({
            "type": "scatter", "mode": "lines+markers", "x": encode(freq), "y": encode(norm),
            "name": f"{label}: {character}",
            "hovertemplate": "f=%{x:.3f} cycles/px<br>power / power(0)=%{y:.3g}<extra>" + label + "</extra>",
        })
    return line_figure(traces, height=360,
                       xaxis={"title": {"text": "spatial frequency (cycles per pixel)"}, "range": [0, 0.5]},
                       yaxis={"title": {"text": "mean power, relative to f = 0"}, "type": "log"})
