"""Figures of the Relevance page: x, the root point x̃, ∂y/∂x, R and R over the input.

Gamma is a display contrast applied here, never in the computation:
``sign(R) · (|R| / max|R|)^γ`` maps R to ``[-1, 1]`` (γ < 1 lifts small
relevances, γ > 1 keeps only the strongest).  The relevance panel is the last
trace of :func:`relevance_figure` and the coloured layer is the last trace of
:func:`overlay_figure`, so a gamma or opacity change patches just those.
"""

from __future__ import annotations

import numpy as np

from . import theme
from .images import Panel, encode, grid_figure, heatmap

RELEVANCE_TRACE = 3  # index of the R panel in relevance_figure
OVERLAY_TRACE = 1  # index of the R layer in overlay_figure


def gamma_map(r: np.ndarray, gamma: float) -> np.ndarray:
    """``sign(R) · (|R| / max|R|)^γ`` (all zeros when R is zero everywhere)."""
    r = np.asarray(r, np.float64)
    m = float(np.max(np.abs(r))) if r.size else 0.0
    if not np.isfinite(m) or m == 0:
        return np.zeros_like(r)
    return np.sign(r) * (np.abs(r) / m) ** float(gamma)


def channel_view(a: np.ndarray, channel: str) -> np.ndarray:
    """``(H, W)`` view of ``(H, W, C)``: the sum over channels (``"sum"``) or channel ``"0"``, ``"1"``, ..."""
    a = np.asarray(a)
    return a.sum(axis=-1) if channel == "sum" else a[:, :, int(channel)]


def _image_panel(x: np.ndarray, channel: str, title: str, value_range) -> Panel:
    if x.shape[-1] == 3 and channel == "sum":
        return Panel(x, title, "rgb", tuple(value_range))
    c = 0 if channel == "sum" else int(channel)
    return Panel(x[:, :, c], title, "image", tuple(value_range), "x")


def relevance_figure(x, root, grad, relevance, *, gamma: float, channel: str = "sum",
                     value_range=(0.0, 1.0), score_name: str = "y") -> dict:
    """Four panels: x, x̃, ∂y/∂x and R (after gamma), all ``(H, W, C)`` inputs.

    For RGB images ``channel="sum"`` shows x and x̃ in colour and the gradient
    and relevance summed over the channels; ``"0"``, ``"1"``, ``"2"`` show one
    channel of each.
    """
    suffix = "" if channel == "sum" or x.shape[-1] == 1 else f" [channel {channel}]"
    summed = " (Σ over channels)" if channel == "sum" and x.shape[-1] > 1 else ""
    panels = [
        _image_panel(x, channel, "input x" + suffix, value_range),
        _image_panel(root, channel, "root point x̃" + suffix, value_range),
        Panel(channel_view(grad, channel), f"∂{score_name}/∂x{summed}{suffix}", "signed", None, "∂y/∂x", True),
        Panel(gamma_map(channel_view(relevance, channel), gamma), f"R, γ = {gamma:g}{summed}{suffix}", "signed",
              1.0, "R (scaled)", True),
    ]
    return grid_figure(panels, cols=4, height_per_row=260, horizontal_spacing=0.07)


def overlay_figure(x, relevance, *, gamma: float, opacity: float, channel: str = "sum",
                   value_range=(0.0, 1.0)) -> dict:
    """R (after gamma, red > 0, blue < 0) drawn over the input with the given opacity."""
    base = heatmap(_image_panel(x, channel, "input", value_range))
    if base["type"] == "heatmap":
        base["hovertemplate"] = "x=%{x}<br>y=%{y}<br>input=%{z:.3g}<extra></extra>"
    layer = {"type": "heatmap", "z": encode(gamma_map(channel_view(relevance, channel), gamma)),
             "colorscale": theme.DIVERGING, "zmin": -1.0, "zmax": 1.0, "zmid": 0.0, "opacity": float(opacity),
             "name": "R over x", "colorbar": {"thickness": 10, "len": 0.8, "outlinewidth": 0},
             "hovertemplate": "x=%{x}<br>y=%{y}<br>R (scaled)=%{z:.3g}<extra></extra>"}
    layout = theme.base_layout()
    layout.update(height=340, width=None, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                  xaxis={"visible": False, "constrain": "domain"},
                  yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain"},
                  title={"text": f"R over the input (opacity {opacity:g})", "font": {"size": 12}})
    return {"data": [base, layer], "layout": layout}


def gamma_z(relevance, gamma: float, channel: str = "sum") -> dict:
    """The encoded z of the R panel and layer for a new gamma (for a ``Patch``)."""
    return encode(gamma_map(channel_view(relevance, channel), gamma))
