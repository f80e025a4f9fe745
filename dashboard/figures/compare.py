"""Figures of the Compare page: a grid of attribution maps and their deletion/insertion curves.

Maps are shown on an honest scale: each method's row shares one symmetric
limit, the ``clip``-th percentile of ``|map|`` over the row's cells (so a few
extreme pixels do not wash the rest out, and two classes of one method stay
comparable), then ``sign(v) · |v / limit|^γ`` clipped to [-1, 1] on a diverging
scale centred on zero.  Maps are summed over channels first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .images import Panel, encode, grid_figure, message_figure
from .theme import COLORWAY, line_figure


@dataclass
class Cell:
    """One map of the grid: a method explaining one class."""

    method: str  # display label
    class_name: str
    probability: float
    attribution: np.ndarray  # (H, W, C) raw
    scores: dict = field(default_factory=dict)  # short name -> value


def honest_scale(maps: list[np.ndarray], clip: float = 99.0, gamma: float = 1.0) -> tuple[list[np.ndarray], float]:
    """Maps (summed over channels) scaled by their shared ``clip`` percentile of ``|v|`` with gamma.

    Returns:
        The scaled maps in [-1, 1] and the shared limit (in the maps' units).
    """
    if not 50.0 <= clip <= 100.0:
        raise ValueError(f"clip percentile must be in [50, 100], got {clip}")
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    flat = [np.asarray(m, np.float64).sum(axis=-1) if np.ndim(m) == 3 else np.asarray(m, np.float64) for m in maps]
    values = np.concatenate([np.abs(f).ravel() for f in flat]) if flat else np.zeros(1)
    limit = float(np.percentile(values, clip)) if values.size else 0.0
    if limit <= 0:
        limit = float(values.max()) if values.size and values.max() > 0 else 1.0
    return [np.sign(f) * np.clip(np.abs(f) / limit, 0.0, 1.0) ** gamma for f in flat], limit


def _score_text(scores: dict) -> str:
    return " · ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in scores.items())


def map_grid(image: np.ndarray, rows: list[list[Cell]], *, clip: float = 99.0, gamma: float = 1.0,
             image_range: tuple[float, float] = (0.0, 1.0)) -> dict:
    """Rows = methods, columns = the input then one map per class, titled with the metric scores."""
    if not rows or not rows[0]:
        return message_figure("Choose at least one method and press Run.")
    cols = 1 + max(len(r) for r in rows)
    panels: list[Panel | None] = []
    for i, row in enumerate(rows):
        scaled, limit = honest_scale([c.attribution for c in row], clip, gamma)
        if i == 0:
            img = np.asarray(image, np.float64)
            panels.append(Panel(img, "input", "rgb", image_range) if img.shape[-1] == 3
                          else Panel(img[..., 0], "input", "image", image_range, "x"))
        else:
            panels.append(None)
        for cell, z in zip(row, scaled):
            title = f"{cell.method} → {cell.class_name} ({cell.probability:.2f})"
            if cell.scores:
                title += "<br>" + _score_text(cell.scores)
            panels.append(Panel(z, title, "signed", 1.0, f"map / {limit:.3g}", colorbar=False))
        panels += [None] * (cols - 1 - len(row))
    fig = grid_figure(panels, cols=cols, height_per_row=230, horizontal_spacing=0.02,
                      row_titles=[row[0].method for row in rows])
    for ann in fig["layout"]["annotations"]:
        ann.setdefault("font", {})["size"] = 10
    return fig


def curves_figure(curves: list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]]) -> dict:
    """Deletion (left) and insertion (right) curves: ``(method, class, fractions, deletion, insertion)``."""
    if not curves:
        return message_figure("Deletion and insertion curves appear here after a run.", height=300)
    methods = list(dict.fromkeys(c[0] for c in curves))
    classes = list(dict.fromkeys(c[1] for c in curves))
    dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
    traces = []
    for method, cls, frac, dele, ins in curves:
        colour = COLORWAY[methods.index(method) % len(COLORWAY)]
        dash = dashes[classes.index(cls) % len(dashes)]
        for xaxis, yaxis, y, kind in (("x", "y", dele, "deletion"), ("x2", "y2", ins, "insertion")):
            traces.append({"type": "scatter", "mode": "lines", "x": encode(frac), "y": encode(y),
                           "name": f"{method} → {cls}", "legendgroup": f"{method}|{cls}",
                           "showlegend": kind == "deletion", "xaxis": xaxis, "yaxis": yaxis,
                           "line": {"color": colour, "dash": dash, "width": 2},
                           "hovertemplate": f"{kind}: %{{x:.0%}} of pixels<br>score %{{y:.3f}}"
                                            f"<extra>{method} → {cls}</extra>"})
    fig = line_figure(traces, height=360)
    layout = fig["layout"]
    layout["xaxis"].update(domain=[0, 0.47], title={"text": "fraction of pixels removed (most important first)"})
    layout["yaxis"].update(title={"text": "class score"})
    layout["xaxis2"] = dict(layout["xaxis"], domain=[0.53, 1.0], anchor="y2",
                            title={"text": "fraction of pixels inserted (most important first)"})
    layout["yaxis2"] = dict(layout["yaxis"], anchor="x2", title={"text": ""})
    layout["annotations"] = [
        {"text": "Deletion (lower area is better)", "x": 0.235, "y": 1.08, "xref": "paper", "yref": "paper",
         "showarrow": False},
        {"text": "Insertion (higher area is better)", "x": 0.765, "y": 1.08, "xref": "paper", "yref": "paper",
         "showarrow": False},
    ]
    layout["margin"] = dict(layout["margin"], t=40)
    return fig
