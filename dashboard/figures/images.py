"""Pure plotly builders for image-like arrays: arrays in, ``go.Figure`` out.

A *panel* is one 2-D array shown as a heatmap with a meaning that fixes its
colour scale:

* ``"signed"``: diverging, symmetric around 0 (kernels, gradients, relevance);
* ``"magnitude"``: sequential from 0 (spectral magnitudes);
* ``"phase"``: cyclic from -pi to pi;
* ``"image"``: grayscale between the given limits;
* ``"error"``: sequential, for absolute errors (optionally log10).

Heatmaps carry float32 arrays, which plotly sends as base64 typed arrays
(4 bytes a pixel), so hover shows the exact numbers at a small payload.  RGB
images are sent as PNG data (see :func:`rgb_panel`).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import theme

SCALES = {
    "signed": theme.DIVERGING,
    "magnitude": theme.MAGNITUDE,
    "phase": theme.PHASE,
    "image": theme.GRAY,
    "error": theme.ERROR,
}


@dataclass
class Panel:
    """One heatmap panel of a grid figure.

    Attributes:
        z: 2-D array (or ``(H, W, 3)`` uint8/float RGB for ``kind="rgb"``).
        title: Panel title.
        kind: ``signed``, ``magnitude``, ``phase``, ``image``, ``error`` or ``rgb``.
        limit: For ``signed``: the symmetric limit (default ``max|z|``); for
            ``magnitude``/``error``: the maximum; for ``image``: ``(low, high)``.
        hover: Name of the value in the hover label.
        colorbar: Show a colour bar next to this panel.
    """

    z: np.ndarray
    title: str = ""
    kind: str = "signed"
    limit: float | tuple[float, float] | None = None
    hover: str = "value"
    colorbar: bool = False


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest ``|value|`` over all arrays (1.0 when they are all zero)."""
    m = max((float(np.max(np.abs(a))) if np.size(a) else 0.0) for a in arrays)
    return m if m > 0 and np.isfinite(m) else 1.0


def _finite32(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float32)
    return np.where(np.isfinite(z), z, np.float32(np.nan))


def to_png_data_uri(rgb: np.ndarray, value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """Encode an ``(H, W, 3)`` array in ``value_range`` (or uint8) as a PNG data URI."""
    from PIL import Image

    a = np.asarray(rgb)
    if a.dtype != np.uint8:
        lo, hi = value_range
        a = np.clip((a.astype(np.float64) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
        a = np.round(a * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def heatmap(panel: Panel) -> go.BaseTraceType:
    """The trace for one panel."""
    if panel.kind == "rgb":
        return go.Image(source=to_png_data_uri(panel.z), hoverinfo="skip")
    z = _finite32(panel.z)
    kw: dict = dict(z=z, colorscale=SCALES[panel.kind], showscale=panel.colorbar,
                    hovertemplate=f"x=%{{x}}<br>y=%{{y}}<br>{panel.hover}=%{{z:.4g}}<extra></extra>")
    if panel.kind == "signed":
        m = float(panel.limit) if panel.limit is not None else symmetric_limit(z[np.isfinite(z)])
        kw.update(zmin=-m, zmax=m, zmid=0.0)
    elif panel.kind == "phase":
        kw.update(zmin=-np.pi, zmax=np.pi)
    elif panel.kind == "image":
        lo, hi = panel.limit if panel.limit is not None else (float(np.nanmin(z)), float(np.nanmax(z)))
        kw.update(zmin=lo, zmax=hi if hi > lo else lo + 1.0)
    elif panel.kind in ("magnitude", "error"):
        finite = z[np.isfinite(z)]
        top = float(panel.limit) if panel.limit is not None else (float(finite.max()) if finite.size else 1.0)
        low = 0.0 if panel.kind == "magnitude" else (float(finite.min()) if finite.size else 0.0)
        kw.update(zmin=low, zmax=top if top > low else low + 1.0)
    if panel.colorbar:
        kw["colorbar"] = dict(thickness=10, len=0.9, outlinewidth=0)
    return go.Heatmap(**kw)


def grid_figure(panels: list[Panel | None], cols: int, *, height_per_row: int = 190,
                row_titles: list[str] | None = None, title: str | None = None,
                horizontal_spacing: float = 0.03, vertical_spacing: float | None = None) -> go.Figure:
    """A grid of square image panels (``None`` leaves a cell empty)."""
    rows = max(1, int(np.ceil(len(panels) / cols)))
    if vertical_spacing is None:
        vertical_spacing = min(0.12, 0.35 / rows)
    fig = make_subplots(
        rows=rows, cols=cols,
        subplot_titles=[p.title if p is not None else "" for p in panels] + [""] * (rows * cols - len(panels)),
        row_titles=row_titles, horizontal_spacing=horizontal_spacing, vertical_spacing=vertical_spacing,
    )
    for i, panel in enumerate(panels):
        if panel is None:
            continue
        r, c = divmod(i, cols)
        fig.add_trace(heatmap(panel), row=r + 1, col=c + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor=None)
    for i in range(rows * cols):
        suffix = "" if i == 0 else str(i + 1)
        fig.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", constrain="domain")
    fig.update_annotations(font_size=11)
    theme.apply(fig, height=max(220, rows * height_per_row + 60), margin=dict(l=10, r=10, t=50, b=10))
    if title:
        fig.update_layout(title_text=title)
    return fig


def message_figure(text: str, height: int = 240) -> go.Figure:
    """An empty figure that says why there is nothing to show."""
    fig = go.Figure()
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=14, color="#52606d"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return theme.apply(fig, height=height)
