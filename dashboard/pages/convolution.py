"""Convolution page (research App 2): the convolution theorem made visible."""

from __future__ import annotations

from dash import dcc, html

from .. import ids
from ..components.controls import control, graph, message_area, panel, switch

PATH = "/convolution"
NAME = "Convolution"
DESCRIPTION = "An input channel, a kernel, their spectra and product, and the inverse FFT next to Keras' convolution."

MODE_OPTIONS = [
    {"label": "zero-padded (linear)", "value": "linear"},
    {"label": "circular", "value": "circular"},
]
ACCEPT = "image/png,image/jpeg,image/tiff,image/bmp,.png,.jpg,.jpeg,.tif,.tiff,.bmp"


def layout(**_query):
    controls = html.Div(
        [
            control("Input", html.Button("Input", id=ids.CONV_INPUT_BUTTON, className="button primary"),
                    "Draw a random sample image of the model."),
            control("Kernel", html.Div(id=ids.CONV_LAYER_BUTTONS, className="button-row"),
                    "Draw a random kernel W[:, :, c_in, c_out] of that layer."),
            control("Convolution", dcc.RadioItems(id=ids.CONV_MODE_RADIO, options=MODE_OPTIONS, value="linear",
                                                  inline=True, className="radio"),
                    "Circular wraps around the edges; zero-padded is what the layer computes."),
            control("Spectra", switch(ids.CONV_LOG_SWITCH, "log scale", value=True),
                    "Show log10(1 + |F|)."),
        ],
        className="controls",
    )
    upload = dcc.Upload(
        id=ids.CONV_UPLOAD,
        children=html.Div(["Drop an image here or ", html.A("choose a file"),
                           html.Span(" (PNG, JPEG, TIFF, BMP)", className="muted")]),
        accept=ACCEPT,
        multiple=False,
        max_size=20 * 1024 * 1024,
        className="upload",
        className_active="upload active",
        className_reject="upload reject",
    )
    return html.Div(
        [
            html.H2("The convolution theorem"),
            html.P(
                "A convolution layer computes a cross-correlation of its input with each kernel. Flip the "
                "kernel and it is a convolution; by the convolution theorem its spectrum is the product of "
                "the two spectra. Below: the layer's actual input channel, the kernel, both spectra, their "
                "product, the inverse FFT, and what Keras computes (tf.nn.conv2d).",
                className="lead",
            ),
            controls,
            upload,
            message_area(ids.CONV_MESSAGE),
            html.Div(id=ids.CONV_CAPTION_TEXT, className="caption"),
            panel("Spatial and Fourier domain", graph(ids.CONV_GRAPH)),
            html.Div(id=ids.CONV_ERROR_TEXT, className="numbers"),
            dcc.Store(id=ids.CONV_STATE_STORE, storage_type="memory"),
        ]
    )
