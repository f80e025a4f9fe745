"""Figures and tables of the Model-summary page."""

from __future__ import annotations

import numpy as np
from dash import html

from xai_core.summary import KernelView, LayerTable

from .images import Panel, grid_figure, symmetric_limit

VIEW_TITLES = {"all": "All layers", "conv": "Convolution layers", "dense": "Dense layers",
               "other": "Other layers (normalisation, activations, padding, pooling, dropout, ...)"}


def _shape_text(shape) -> str:
    if shape and isinstance(shape[0], tuple):
        return ", ".join(_shape_text(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def layer_table_component(table: LayerTable, model_name: str) -> html.Div:
    """The rows of a :class:`LayerTable` as an HTML table with totals, like ``model.summary()``."""
    head = html.Tr([html.Th("#", className="num"), html.Th("layer"), html.Th("type"), html.Th("output shape"),
                    html.Th("parameters", className="num"), html.Th("trainable", className="num")])
    rows = [html.Tr([html.Td(str(i), className="num"), html.Td(r.key), html.Td(r.type_name),
                     html.Td(_shape_text(r.output_shape)), html.Td(f"{r.params:,}", className="num"),
                     html.Td(f"{r.trainable:,}", className="num")])
            for i, r in enumerate(table.rows)]
    total = html.Tr([html.Td(""), html.Td(html.Strong(f"Total ({len(table.rows)} layers)")), html.Td(""),
                     html.Td(""), html.Td(html.Strong(f"{table.total:,}"), className="num"),
                     html.Td(html.Strong(f"{table.trainable:,}"), className="num")])
    note = (f"{model_name}: {VIEW_TITLES[table.kind]} · total parameters {table.total:,} "
            f"(trainable {table.trainable:,}, non-trainable {table.non_trainable:,})")
    body = rows + [total] if rows else [html.Tr(html.Td("no layers of this kind", colSpan=6))] + [total]
    return html.Div([html.P(note, className="caption"),
                     html.Table([html.Thead(head), html.Tbody(body)], className="table summary-table")])


def kernel_view_figure(image: np.ndarray, view: KernelView, value_range=(0.0, 1.0)) -> dict:
    """Six panels: the input image, x̄, k̄, |F(k̄)|, x̄ ⋆ k̄ and the true output channel."""
    img = Panel(image, "input image", "rgb", tuple(value_range)) if image.shape[-1] == 3 else \
        Panel(image[:, :, 0], "input image", "image", tuple(value_range), "x")
    c = view.in_channels
    kh, kw = view.kernel_mean.shape
    if view.source_channel is None:
        x_title, k_title = f"{view.layer} input, mean of {c} channel(s)", f"kernel {view.out_channel}, mean over inputs"
        approx_title = "x̄ ⋆ k̄ (averaged input, averaged kernel)"
    else:  # depthwise: the one input channel and the one real kernel
        s = view.source_channel
        x_title, k_title = f"{view.layer} input channel {s}", f"kernel {view.out_channel} (input {s})"
        approx_title = f"x_{s} ⋆ k (depthwise: the whole pre-activation)"
    panels = [
        img,
        Panel(view.input_mean, x_title, "image", None, "x̄"),
        Panel(view.kernel_mean, f"{k_title} ({kh}×{kw})", "signed", symmetric_limit(view.kernel_mean), "k̄", True),
        Panel(view.kernel_magnitude, "|F(k̄)| (centred)", "magnitude", None, "|F|", True),
        Panel(view.approx, approx_title, "signed", None, "x̄⋆k̄", True),
        Panel(view.actual, f"true output channel {view.out_channel}", "signed", None, "activation", True),
    ]
    return grid_figure(panels, cols=3, height_per_row=280, horizontal_spacing=0.06)
