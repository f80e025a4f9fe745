"""Pure builders for image-like arrays: arrays in, a plotly figure (as a dict) out.

A *panel* is one 2-D array shown as a heatmap with a meaning that fixes its
colour scale:

* ``"signed"``: diverging, symmetric around 0 (kernels, gradients, relevance);
* ``"magnitude"``: sequential from 0 (spectral magnitudes);
* ``"phase"``: cyclic from -pi to pi;
* ``"image"``: grayscale between the given limits;
* ``"error"``: sequential, for absolute errors (often log10);
* ``"rgb"``: an ``(H, W, 3)`` colour image, sent as PNG data.

Figures are built as plain dictionaries in plotly's JSON schema rather than
``go.Figure`` objects: validating a grid of 30 heatmaps through
``make_subplots`` costs a quarter of a second, building the dictionary well
under a millisecond.  Arrays travel as base64 typed arrays (``{"dtype": "f4",
"bdata": ..., "shape": ...}``, 4 bytes a pixel), which plotly.js decodes, so
hover still shows the exact numbers at a small payload.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

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
        z: 2-D array (or ``(H, W, 3)`` RGB for ``kind="rgb"``).
        title: Panel title.
        kind: ``signed``, ``magnitude``, ``phase``, ``image``, ``error`` or ``rgb``.
        limit: For ``signed``: the symmetric limit (default ``max|z|``); for
            ``magnitude``/``error``: the maximum; for ``image``/``rgb``: ``(low, high)``.
        hover: Name of the value in the hover label.
        colorbar: Show a colour bar next to this panel.
    """

    z: np.ndarray
    title: str = ""
    kind: str = "signed"
    limit: float | tuple[float, float] | None = None
    hover: str = "value"
    colorbar: bool = False


def encode(a: np.ndarray, dtype: str = "f4") -> dict:
    """A numpy array as a plotly typed-array spec (float32 by default; NaN for non-finite)."""
    a = np.asarray(a)
    if dtype == "f4":
        a = a.astype(np.float32, copy=False)
        if not np.all(np.isfinite(a)):
            a = np.where(np.isfinite(a), a, np.float32(np.nan))
    else:
        a = a.astype(np.dtype(dtype), copy=False)
    spec = {"dtype": dtype, "bdata": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")}
    if a.ndim > 1:
        spec["shape"] = ", ".join(str(s) for s in a.shape)
    return spec


def decode(spec) -> np.ndarray:
    """Inverse of :func:`encode` (also accepts plain lists); for tests and exports."""
    if isinstance(spec, dict) and "bdata" in spec:
        a = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=np.dtype(spec["dtype"]))
        if "shape" in spec:
            a = a.reshape([int(s) for s in str(spec["shape"]).split(",")])
        return a
    return np.asarray(spec)


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest finite ``|value|`` over all arrays (1.0 when they are all zero)."""
    m = 0.0
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        finite = np.abs(a[np.isfinite(a)])
        if finite.size:
            m = max(m, float(finite.max()))
    return m if m > 0 else 1.0


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


def heatmap(panel: Panel, xaxis: str = "x", yaxis: str = "y") -> dict:
    """The trace dict for one panel on the given axes."""
    if panel.kind == "rgb":
        lim = panel.limit if isinstance(panel.limit, tuple) else (0.0, 1.0)
        return {"type": "image", "source": to_png_data_uri(panel.z, lim), "xaxis": xaxis, "yaxis": yaxis,
                "hoverinfo": "skip", "name": panel.title}
    z = np.asarray(panel.z, dtype=np.float64)
    finite = z[np.isfinite(z)]
    trace = {
        "type": "heatmap", "z": encode(z), "xaxis": xaxis, "yaxis": yaxis, "name": panel.title,
        "colorscale": SCALES[panel.kind], "showscale": panel.colorbar,
        "hovertemplate": f"x=%{{x}}<br>y=%{{y}}<br>{panel.hover}=%{{z:.4g}}<extra></extra>",
    }
    if panel.kind == "signed":
        m = float(panel.limit) if panel.limit is not None else symmetric_limit(finite)
        trace.update(zmin=-m, zmax=m, zmid=0.0)
    elif panel.kind == "phase":
        trace.update(zmin=-np.pi, zmax=np.pi)
    elif panel.kind == "image":
        if panel.limit is not None:
            lo, hi = panel.limit
        else:
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        trace.update(zmin=lo, zmax=hi if hi > lo else lo + 1.0)
    else:  # magnitude, error
        top = float(panel.limit) if panel.limit is not None else (float(finite.max()) if finite.size else 1.0)
        low = 0.0 if panel.kind == "magnitude" else (float(finite.min()) if finite.size else 0.0)
        trace.update(zmin=low, zmax=top if top > low else low + 1.0)
    if panel.colorbar:
        trace["colorbar"] = {"thickness": 10, "len": 0.8, "outlinewidth": 0}
    return trace


def _domains(n: int, spacing: float) -> list[tuple[float, float]]:
    width = (1.0 - spacing * (n - 1)) / n
    return [(i * (width + spacing), i * (width + spacing) + width) for i in range(n)]


def grid_figure(panels: list[Panel | None], cols: int, *, height_per_row: int = 190,
                row_titles: list[str] | None = None, title: str | None = None,
                horizontal_spacing: float = 0.03, vertical_spacing: float | None = None) -> dict:
    """A grid of square image panels (``None`` leaves a cell empty), as a figure dict."""
    rows = max(1, int(np.ceil(len(panels) / cols)))
    if vertical_spacing is None:
        vertical_spacing = min(0.12, 0.35 / rows)
    xdom = _domains(cols, horizontal_spacing)
    ydom = list(reversed(_domains(rows, vertical_spacing)))  # row 0 on top
    data, layout, annotations = [], theme.base_layout(), []
    for i, panel in enumerate(panels):
        if panel is None:
            continue
        r, c = divmod(i, cols)
        k = "" if i == 0 else str(i + 1)
        trace = heatmap(panel, f"x{k}", f"y{k}")
        if panel.colorbar and trace["type"] == "heatmap":
            # a slim colour bar hugging the panel's right edge
            trace["colorbar"] = {"thickness": 8, "len": ydom[r][1] - ydom[r][0], "lenmode": "fraction",
                                 "x": xdom[c][1] + 0.002, "xanchor": "left", "y": (ydom[r][0] + ydom[r][1]) / 2,
                                 "yanchor": "middle", "outlinewidth": 0, "tickfont": {"size": 9},
                                 "exponentformat": "e"}
        data.append(trace)
        layout[f"xaxis{k}"] = {"domain": list(xdom[c]), "anchor": f"y{k}", "showticklabels": False,
                               "showgrid": False, "zeroline": False, "ticks": "", "constrain": "domain"}
        layout[f"yaxis{k}"] = {"domain": list(ydom[r]), "anchor": f"x{k}", "showticklabels": False,
                               "showgrid": False, "zeroline": False, "ticks": "", "autorange": "reversed",
                               "scaleanchor": f"x{k}", "constrain": "domain"}
        if panel.title:
            annotations.append({"text": panel.title, "x": (xdom[c][0] + xdom[c][1]) / 2, "y": ydom[r][1],
                                "xref": "paper", "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                                "showarrow": False, "font": {"size": 11}})
    for r, text in enumerate(row_titles or []):
        annotations.append({"text": text, "x": 1.0, "y": (ydom[r][0] + ydom[r][1]) / 2, "xref": "paper",
                            "yref": "paper", "xanchor": "left", "textangle": 90, "showarrow": False})
    layout.update(height=max(220, rows * height_per_row + 60), annotations=annotations,
                  margin={"l": 10, "r": 30, "t": 60 if title else 40, "b": 10})
    if title:
        layout["title"] = {"text": title}
    return {"data": data, "layout": layout}


def message_figure(text: str, height: int = 240) -> dict:
    """An empty figure that says why there is nothing to show."""
    layout = theme.base_layout()
    layout.update(height=height, xaxis={"visible": False}, yaxis={"visible": False},
                  annotations=[{"text": text, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                                "showarrow": False, "font": {"size": 14, "color": "#52606d"}}])
    return {"data": [], "layout": layout}


def panel_traces(fig: dict) -> dict[str, dict]:
    """Map each panel's title to its trace (for tests and exports)."""
    return {t.get("name", ""): t for t in fig["data"]}
