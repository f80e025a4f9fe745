"""Model-summary page (research App 4): layer tables and what one kernel does to one image."""

from __future__ import annotations

from dash import dcc, html

from .. import ids
from ..components.controls import control, graph, message_area, panel

PATH = "/summary"
NAME = "Model summary"
DESCRIPTION = "Every layer with its shape and parameters, and one kernel's averaged view next to its true activation."


def _slider(component_id: str):
    return dcc.Slider(id=component_id, min=0, max=0, step=1, value=0, marks=None, updatemode="mouseup",
                      tooltip={"placement": "top", "always_visible": False})


def layout(**_query):
    buttons = html.Div(
        [
            html.Button("Summary", id=ids.SUMMARY_ALL_BUTTON, className="button primary"),
            html.Button("Summary conv", id=ids.SUMMARY_CONV_BUTTON, className="button"),
            html.Button("Summary dense", id=ids.SUMMARY_DENSE_BUTTON, className="button"),
            html.Button("Summary others", id=ids.SUMMARY_OTHERS_BUTTON, className="button"),
            html.Button("Clear", id=ids.SUMMARY_CLEAR_BUTTON, className="button"),
        ],
        className="button-row",
    )
    sliders = html.Div(
        [
            control("Layer", _slider(ids.SUMMARY_LAYER_SLIDER),
                    "Which convolution layer (nested sub-models are opened up).", width="240px"),
            control("Kernel", _slider(ids.SUMMARY_KERNEL_SLIDER),
                    "Which output channel (kernel) of that layer.", width="240px"),
            control("Image", _slider(ids.SUMMARY_IMAGE_SLIDER), "Which bundled test image goes in.", width="240px"),
        ],
        className="controls",
    )
    return html.Div(
        [
            html.H2("Model summary"),
            html.P(
                "The layers of the model as tables (nested models are flattened, so every convolution is "
                "listed), and one kernel at work: the layer's input averaged over its channels, the kernel "
                "averaged over its input channels and its Fourier magnitude, their convolution, and the "
                "layer's true output channel for comparison.",
                className="lead",
            ),
            sliders,
            message_area(ids.SUMMARY_MESSAGE),
            html.Div(id=ids.SUMMARY_CAPTION_TEXT, className="caption"),
            panel("One kernel on one image", graph(ids.SUMMARY_GRAPH)),
            panel("Layers", buttons, html.Div(id=ids.SUMMARY_TABLE),
                  subtitle="Like Keras' model.summary(), as a table; parameter counts are Keras' own "
                           "(layer.count_params()), a layer shared by several calls is counted once."),
            dcc.Store(id=ids.SUMMARY_VIEW_STORE, data=None),
        ]
    )
