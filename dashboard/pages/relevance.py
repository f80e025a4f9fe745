"""Relevance page (research App 3): Taylor relevance R = ∂y/∂x · (x − x̃) around a filtered root point."""

from __future__ import annotations

from dash import dcc, html

from xai_core.filters import DESCRIPTIONS, FILTERS, LABELS

from .. import ids
from ..components.controls import control, graph, message_area, panel, switch
from .convolution import ACCEPT

PATH = "/relevance"
NAME = "Relevance"
DESCRIPTION = "Which pixels drive a prediction: Taylor relevance around a blurred, sharpened or pixelated copy."


def layout(**_query):
    controls = html.Div(
        [
            control("Filter", dcc.Dropdown(id=ids.RELEVANCE_FILTER_DROPDOWN, value="gaussian", clearable=False,
                                           options=[{"label": LABELS[f], "value": f} for f in FILTERS],
                                           style={"width": "220px"}),
                    "How the root point x̃ is made from the input x."),
            control("Sigma σ", dcc.Slider(id=ids.RELEVANCE_SIGMA_SLIDER, min=0, max=5, step=0.25, value=1.0,
                                          marks={i: str(i) for i in range(6)}, updatemode="mouseup"),
                    "Filter strength: 0 leaves x̃ = x (so R = 0); larger moves x̃ further from x.", width="240px"),
            control("Gamma γ", dcc.Slider(id=ids.RELEVANCE_GAMMA_SLIDER, min=0.1, max=3, step=0.1, value=1.0,
                                          marks={0.1: "0.1", 1: "1", 2: "2", 3: "3"}, updatemode="drag"),
                    "Display contrast sign(R)·(|R|/max|R|)^γ: below 1 shows weak relevance too.", width="220px"),
            control("Image", dcc.Slider(id=ids.RELEVANCE_IMAGE_SLIDER, min=0, max=0, step=1, value=0,
                                        marks=None, tooltip={"placement": "bottom", "always_visible": False},
                                        updatemode="mouseup"),
                    "Which bundled test image to explain (or your upload, at the end).", width="240px"),
            control("Target class", dcc.Dropdown(id=ids.RELEVANCE_TARGET_DROPDOWN, value="predicted",
                                                 clearable=False, style={"width": "200px"},
                                                 options=[{"label": "predicted class", "value": "predicted"}]),
                    "Explain the predicted class, or ask “why not this one?”."),
            control("Score", switch(ids.RELEVANCE_SOFTMAX_SWITCH, "softmax", value=True),
                    "On: differentiate the class probability. Off: its logit (before the softmax)."),
            control("Numbers", switch(ids.RELEVANCE_NUMERIC_SWITCH, "numeric", value=False),
                    "Print the probabilities at x and x̃, Σ R and how exact the linear approximation is."),
            control("Overlay opacity", dcc.Slider(id=ids.RELEVANCE_OPACITY_SLIDER, min=0, max=1, step=0.05,
                                                  value=0.6, marks={0: "0", 0.5: "0.5", 1: "1"},
                                                  updatemode="drag"),
                    "How strongly R covers the input in the overlay.", width="200px"),
            control("Channel", dcc.RadioItems(id=ids.RELEVANCE_CHANNEL_RADIO, value="sum", inline=True,
                                              options=[{"label": "Σ over channels", "value": "sum"}],
                                              className="radio"),
                    "Colour models: R summed over R, G, B, or one channel at a time."),
        ],
        className="controls",
    )
    upload = dcc.Upload(
        id=ids.RELEVANCE_UPLOAD,
        children=html.Div(["Drop your own image here or ", html.A("choose a file"),
                           html.Span(" (PNG, JPEG, TIFF, BMP); it becomes the image slider's last position",
                                     className="muted")]),
        accept=ACCEPT, multiple=False, max_size=20 * 1024 * 1024, className="upload",
        className_active="upload active", className_reject="upload reject",
    )
    definitions = html.Ul([html.Li([html.Strong(LABELS[f] + ": "), DESCRIPTIONS[f]]) for f in FILTERS],
                          className="relevance-filters")
    return html.Div(
        [
            html.H2("Relevance: which pixels drive the prediction?"),
            html.P(
                "A first-order Taylor decomposition around a root point x̃: f(x) ≈ f(x̃) + ∂y/∂x · (x − x̃), so "
                "R = ∂y/∂x · (x − x̃) splits the change of the class score y between the pixels (red pushes the "
                "score up, blue down). The root point is a filtered copy of the input:",
                className="lead",
            ),
            definitions,
            controls,
            upload,
            dcc.Store(id=ids.RELEVANCE_UPLOAD_STORE, data=None),
            message_area(ids.RELEVANCE_MESSAGE),
            html.Div(id=ids.RELEVANCE_CAPTION_TEXT, className="caption"),
            panel("Input, root point, gradient and relevance", graph(ids.RELEVANCE_GRAPH),
                  subtitle="The gradient uses a colour scale symmetric around 0; R is shown after gamma, in [−1, 1]."),
            panel("Relevance over the input", graph(ids.RELEVANCE_OVERLAY_GRAPH)),
            html.Div(id=ids.RELEVANCE_NUMBERS_TEXT, className="numbers"),
        ]
    )
