"""The look of every KernelScope figure: one small layout "template" and the colour scales.

Figures are plain plotly JSON dictionaries (see :mod:`dashboard.figures.images`
for why); :func:`base_layout` gives the shared layout they all start from.  The
same look is registered as the plotly template ``"kernelscope"`` for the odd
``go.Figure`` built in notebooks or exports.
"""

from __future__ import annotations

import copy

FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
COLORWAY = ["#2f6db5", "#d9622b", "#3a9a5b", "#8e5bb5", "#c23b4e", "#6b7a8f", "#d6a226", "#1f9fa6"]


def _scale(name: str) -> list:
    """A plotly colour scale as an explicit list: plotly.js knows only a few names
    (and none of the reversed "_r" ones), and figures here are sent as raw JSON."""
    from plotly.colors import get_colorscale

    return [[round(float(p), 4), c] for p, c in get_colorscale(name)]


# Colour scales by the meaning of the data
DIVERGING = _scale("RdBu_r")  # signed values, always symmetric around 0: blue < 0 < red
MAGNITUDE = _scale("Viridis")  # non-negative values (spectra, saliency)
PHASE = _scale("Twilight")  # cyclic, -pi .. pi
GRAY = [[0.0, "rgb(0,0,0)"], [1.0, "rgb(255,255,255)"]]  # images: black = low, white = high
ERROR = _scale("Magma")  # absolute errors (often on a log scale)

TEMPLATE_NAME = "kernelscope"
_AXIS = {"gridcolor": "#e6e9ee", "zerolinecolor": "#cfd5dd", "linecolor": "#cfd5dd"}
_LAYOUT = {
    "font": {"family": FONT, "size": 12, "color": "#1f2933"},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "colorway": COLORWAY,
    "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
    "hoverlabel": {"font": {"family": FONT}},
    "xaxis": dict(_AXIS),
    "yaxis": dict(_AXIS),
}


def base_layout() -> dict:
    """A fresh copy of the shared layout."""
    return copy.deepcopy(_LAYOUT)


def register_template() -> None:
    """Register the look as the plotly template ``"kernelscope"``."""
    import plotly.graph_objects as go
    import plotly.io as pio

    pio.templates[TEMPLATE_NAME] = go.layout.Template(layout=_LAYOUT)


def line_figure(traces: list[dict], *, height: int = 340, xaxis: dict | None = None,
                yaxis: dict | None = None, legend_below: bool = True, title: str | None = None) -> dict:
    """A figure dict for line/marker plots with the shared look."""
    layout = base_layout()
    layout["height"] = height
    layout["xaxis"].update(xaxis or {})
    layout["yaxis"].update(yaxis or {})
    if legend_below:
        layout["legend"] = {"orientation": "h", "y": -0.25}
    if title:
        layout["title"] = {"text": title, "font": {"size": 14}}
        layout["margin"] = dict(layout["margin"], t=50)
    return {"data": traces, "layout": layout}
