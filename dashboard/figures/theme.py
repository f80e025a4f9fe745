"""The one plotly template of KernelScope, and its colour scales.

The template is deliberately small (it travels with every figure): a white
background, a quiet grid, the app's font and colourway.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
COLORWAY = ["#2f6db5", "#d9622b", "#3a9a5b", "#8e5bb5", "#c23b4e", "#6b7a8f", "#d6a226", "#1f9fa6"]

# Colour scales by the meaning of the data
DIVERGING = "RdBu_r"  # signed values, always symmetric around 0
MAGNITUDE = "Viridis"  # non-negative values (spectra, saliency)
PHASE = "Twilight"  # cyclic, -pi .. pi
GRAY = "gray"  # images
ERROR = "Magma"  # absolute errors (often on a log scale)

TEMPLATE_NAME = "kernelscope"

_template = go.layout.Template(
    layout=go.Layout(
        font=dict(family=FONT, size=12, color="#1f2933"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=COLORWAY,
        margin=dict(l=40, r=20, t=40, b=40),
        xaxis=dict(gridcolor="#e6e9ee", zerolinecolor="#cfd5dd", linecolor="#cfd5dd"),
        yaxis=dict(gridcolor="#e6e9ee", zerolinecolor="#cfd5dd", linecolor="#cfd5dd"),
        hoverlabel=dict(font=dict(family=FONT)),
        title=dict(font=dict(size=14)),
    )
)
pio.templates[TEMPLATE_NAME] = _template


def apply(fig: go.Figure, **layout) -> go.Figure:
    """Give ``fig`` the KernelScope template and any extra layout settings."""
    fig.update_layout(template=TEMPLATE_NAME, **layout)
    return fig
