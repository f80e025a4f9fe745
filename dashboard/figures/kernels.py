"""Figures of the Kernels page."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from . import theme
from .images import Panel, grid_figure, message_figure, symmetric_limit


@dataclass
class LayerKernels:
    """The drawn kernels of one layer, ready to plot."""

    layer: str
    kernels: list[np.ndarray]  # (kh, kw) each
    channels: list[tuple[int, int]]  # (c_in, c_out) each
    magnitudes: list[np.ndarray]  # centred |F| (or log) each
    phases: list[np.ndarray]


def kernel_grid(layers: list[LayerKernels], log: bool = False) -> go.Figure:
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
                Panel(mag, "log₁₀(1+|F|)" if log else "|F|", "magnitude", fmax, "|F|"),
                Panel(ph, "phase", "phase", None, "rad"),
            ]
        panels += [None] * (3 * (per_row - len(layer.kernels)))
    return grid_figure(panels, cols=3 * per_row, height_per_row=150, horizontal_spacing=0.012)


def power_profiles(curves: list[tuple[str, np.ndarray, np.ndarray, str]]) -> go.Figure:
    """One line per layer: radially averaged power ``(label, freq, profile, character)``."""
    if not curves:
        return message_figure("No convolution layers.", height=320)
    fig = go.Figure()
    for label, freq, profile, character in curves:
        norm = profile / profile[0] if profile[0] > 0 else profile
        fig.add_trace(go.Scatter(
            x=freq, y=norm, mode="lines+markers", name=f"{label}: {character}",
            hovertemplate="f=%{x:.3f} cycles/px<br>power / power(0)=%{y:.3g}<extra>" + label + "</extra>",
        ))
    fig.update_xaxes(title_text="spatial frequency (cycles per pixel)", range=[0, 0.5])
    fig.update_yaxes(title_text="mean power, relative to f = 0", type="log")
    return theme.apply(fig, height=360, legend=dict(orientation="h", y=-0.25))
