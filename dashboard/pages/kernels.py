"""Kernels page (research App 1): kernels in the spatial and the Fourier domain."""

from __future__ import annotations

from dash import dcc, html

from .. import ids
from ..components.controls import control, graph, message_area, panel, switch

PATH = "/kernels"
NAME = "Kernels"
DESCRIPTION = "Kernels of a trained CNN, their Fourier magnitude and phase, and each layer's power spectrum."

FFT_OPTIONS = [
    {"label": "kernel size", "value": "kernel"},
    {"label": "32", "value": "32"},
    {"label": "input size", "value": "input"},
]


def layout(**_query):
    controls = html.Div(
        [
            control("Draw", html.Button("New kernels", id=ids.KERNELS_NEW_BUTTON, className="button primary"),
                    "Pick a fresh random set of kernels from every convolution layer."),
            control("Seed", dcc.Input(id=ids.KERNELS_SEED_INPUT, type="number", value=0, min=0,
                                      max=2**31 - 1, step=1, debounce=True, className="number-input"),
                    "The draw is fixed by this number: type it again to see the same kernels."),
            control("Kernels per layer", dcc.Slider(id=ids.KERNELS_COUNT_SLIDER, min=1, max=6, step=1, value=3,
                                                    marks={i: str(i) for i in range(1, 7)}),
                    "How many 2-D slices W[:, :, c_in, c_out] to show for each layer.", width="220px"),
            control("FFT size", dcc.RadioItems(id=ids.KERNELS_FFT_RADIO, options=FFT_OPTIONS, value="32",
                                               inline=True, className="radio"),
                    "Each kernel is zero-padded to this size before the FFT: more padding, finer spectrum."),
            control("Magnitude", switch(ids.KERNELS_LOG_SWITCH, "log scale", value=False),
                    "Show log10(1 + |F|) to see small coefficients."),
            control("Layers", dcc.Dropdown(id=ids.KERNELS_LAYER_DROPDOWN, multi=True, clearable=True,
                                           placeholder="evenly spaced layers"),
                    "Which convolution layers to draw (at most 8 at once).", width="420px"),
        ],
        className="controls",
    )
    return html.Div(
        [
            html.H2("Kernels in the spatial and the Fourier domain"),
            html.P(
                "Each row is a convolution layer; each kernel is shown as its weights (red positive, blue "
                "negative, centred on 0), the magnitude |F| of its centred 2-D DFT and its phase. A kernel "
                "that lets low frequencies through has its bright |F| in the centre.",
                className="lead",
            ),
            controls,
            message_area(ids.KERNELS_MESSAGE),
            html.Div(id=ids.KERNELS_CAPTION_TEXT, className="caption"),
            panel("Drawn kernels", graph(ids.KERNELS_GRID_GRAPH)),
            panel("Radially averaged power spectrum per layer", graph(ids.KERNELS_PROFILE_GRAPH),
                  subtitle="Mean of |F|² over all kernels of the layer, by distance from the zero frequency."),
        ]
    )
