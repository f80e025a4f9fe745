"""Chain-rule page: ∂y/∂x = (∂g/∂x)^T ∂y/∂g, in 1-D and through the linear stack of an image model."""

from __future__ import annotations

from dash import dcc, html

from xai_core.filters import FILTERS, LABELS

from .. import ids
from ..components.controls import control, graph, message_area, panel, switch

PATH = "/chainrule"
NAME = "Chain rule"
DESCRIPTION = ("The chain rule through y = h(g(x)): a worked 1-D example, then the image model's gradient from "
               "∂y/∂g and the fused kernels, in the spatial and the Fourier domain, against GradientTape.")


def _number(component_id, value, **kw):
    return dcc.Input(id=component_id, type="number", value=value, debounce=True, className="number-input", **kw)


def layout(**_query):
    scalar_controls = html.Div(
        [
            control("x", _number(ids.CR_X_INPUT, 3), "A number."),
            control("b", dcc.Input(id=ids.CR_B_INPUT, type="text", value="3, 4", debounce=True,
                                   className="number-input"), "Numbers separated by commas."),
        ],
        className="controls",
    )
    image_controls = html.Div(
        [
            control("Image", _number(ids.CR_IMAGE_INPUT, 0, min=0, step=1), "Index of a bundled sample image."),
            control("Class", dcc.Dropdown(id=ids.CR_CLASS_DROPDOWN, options=[], value="predicted", clearable=False,
                                          style={"width": "160px"}), "y is this class's score."),
            control("Score", switch(ids.CR_SOFTMAX_SWITCH, "softmax", value=True),
                    "On: y is the class probability (as on the Relevance page). Off: its logit."),
            control("Root point", dcc.Dropdown(id=ids.CR_FILTER_DROPDOWN, value="gaussian", clearable=False,
                                               options=[{"label": LABELS[f], "value": f} for f in FILTERS],
                                               style={"width": "220px"}),
                    "The filter that makes x̃ for the Taylor panel (as on the Relevance page)."),
            control("Sigma σ", _number(ids.CR_SIGMA_INPUT, 1.0, min=0, max=5, step=0.25),
                    "Filter strength, 0 to 5."),
            control("Channel of g", _number(ids.CR_CHANNEL_INPUT, 0, min=0, step=1), "Output channel c."),
            control("Pixel row", _number(ids.CR_ROW_INPUT, 14, min=0, step=1), "Pixel p for ∂g/∂x_p."),
            control("Pixel column", _number(ids.CR_COL_INPUT, 14, min=0, step=1)),
        ],
        className="controls",
    )
    return html.Div(
        [
            html.H2("The chain rule through the split y = h(g(x))"),
            html.P("A worked example first: g = x·b, y = Σ g⁵. GradientTape gives ∂y/∂g and ∂g/∂x; their product "
                   "is ∂y/∂x, the same number the tape finds directly.", className="lead"),
            scalar_controls,
            message_area(ids.CR_SCALAR_MESSAGE),
            html.Div(id=ids.CR_SCALAR_TABLE, className="numbers"),
            html.H3("The image model"),
            html.P("For a linear stack g, ∂y/∂g comes from the head h alone and ∂g/∂x is the same for every "
                   "image: the column for pixel p is F⁻¹{F{δ_p}·F{K123}}. The gradient is their product, computed "
                   "spatially (the layers' vector-Jacobian product), in the Fourier domain layer by layer (exact), "
                   "and with the fused kernels (exact in the interior, with the edge error of the fused map).",
                   className="lead"),
            image_controls,
            message_area(ids.CR_MESSAGE),
            html.Div(id=ids.CR_CAPTION_TEXT, className="caption"),
            panel("∂y/∂g from the head h", graph(ids.CR_DYDG_GRAPH),
                  subtitle="g(x) and ∂y/∂g for the chosen channel."),
            panel("Pixel-wise partial-derivative spectrum", graph(ids.CR_PIXEL_GRAPH),
                  subtitle="F{∂x/∂x_p}·F{K123}: its real part, its magnitude, and its inverse FFT ∂g_c/∂x_p."),
            panel("∂y/∂x by the chain rule vs GradientTape", graph(ids.CR_GRADIENT_GRAPH),
                  html.Div(id=ids.CR_GRADIENT_TEXT, className="numbers")),
            panel("Taylor decomposition through the split", graph(ids.CR_TAYLOR_GRAPH),
                  html.Div(id=ids.CR_TAYLOR_TEXT, className="numbers"),
                  subtitle="R = ∂y/∂x·(x − x̃) with the chain-rule gradient and the chosen root point, next to "
                           "the relevance core's result (the Relevance page's numbers for the same settings)."),
        ]
    )
