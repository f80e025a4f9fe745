"""Fourier-Net page: the linear conv stack in the Fourier domain, its fused kernels, kernel importance."""

from __future__ import annotations

from dash import dcc, html

from .. import ids
from ..components.controls import control, graph, message_area, panel

PATH = "/fouriernet"
NAME = "Fourier-Net"
DESCRIPTION = ("The linear convolution stack g computed in the Fourier domain three ways, its fused kernels "
               "K123, their timing, and which fused channels each decision needs.")

VARIANT_OPTIONS = [
    {"label": "exact (all ablations)", "value": "exact"},
    {"label": "stochastic (a quarter of the ablations)", "value": "stochastic"},
]

DATA_ENV = "KERNELSCOPE_DATA_DIR"


def image_set_options() -> list[dict]:
    """The first options of the image-set radio (a callback replaces them per model, saying which
    splits the data folder holds)."""
    return [{"label": "bundled samples", "value": "samples"},
            {"label": "training split (checking the data folder…)", "value": "train", "disabled": True},
            {"label": "test split (checking the data folder…)", "value": "test", "disabled": True}]


def layout(**_query):
    controls = html.Div(
        [
            control("Image", dcc.Input(id=ids.FN_IMAGE_INPUT, type="number", value=0, min=0, step=1,
                                       debounce=True, className="number-input"),
                    "Index of a bundled sample image."),
            control("Output channel", dcc.Input(id=ids.FN_CHANNEL_INPUT, type="number", value=0, min=0, step=1,
                                                debounce=True, className="number-input"),
                    "Which channel of g(x) to show (one per fused kernel)."),
        ],
        className="controls",
    )
    importance_controls = html.Div(
        [
            control("Threshold", dcc.Slider(id=ids.FN_IMP_THRESHOLD_SLIDER, min=5, max=90, step=5, value=30,
                                            marks={v: f"{v}%" for v in (5, 30, 60, 90)}),
                    "Stop adding channels once the mean absolute logit error is below this share of the "
                    "mean |logit|.", width="260px"),
            control("Images", dcc.RadioItems(id=ids.FN_IMP_SET_RADIO, options=image_set_options(), value="samples",
                                              className="radio"),
                    f"The training and test splits come from the folder in {DATA_ENV} (e.g. ../shared/data)."),
            control("Number of images", dcc.Input(id=ids.FN_IMP_LIMIT_INPUT, type="number", value=500, min=1,
                                                  max=100_000, step=1, debounce=True, className="number-input"),
                    "Analyse only the first N images of the set (empty: all of them)."),
            control("Ablations", dcc.RadioItems(id=ids.FN_IMP_VARIANT_RADIO, options=VARIANT_OPTIONS,
                                                value="exact", className="radio"),
                    "The stochastic variant ablates a random quarter of the channels per image (large models)."),
            control("Run", html.Div([
                html.Button("Analyse", id=ids.FN_IMP_RUN_BUTTON, className="button primary"),
                html.Button("Cancel", id=ids.FN_IMP_CANCEL_BUTTON, className="button", disabled=True),
            ], className="button-row"), "Runs in the background; other pages stay responsive."),
            control("Progress", html.Div([
                html.Progress(id=ids.FN_IMP_PROGRESS, value="0", max="1", className="progress"),
                html.Span(id=ids.FN_IMP_PROGRESS_TEXT, className="muted"),
            ])),
        ],
        className="controls",
    )
    return html.Div(
        [
            html.H2("Fourier-Net: the linear stack in the Fourier domain"),
            html.P(
                "Convolutions without bias, activation or pooling form one linear filter bank g; the rest of the "
                "network is the head h, so y = h(g(x)). Fourier-Net 1 does each layer as an FFT product and "
                "returns to the image after every layer (exact). Fourier-Net 2 pads once and multiplies all "
                "layers' spectra in cascade; Fourier-Net 3 fuses all kernels into one set K123 first. Both agree "
                "with the spatial model in the interior and differ near the borders, where the spatial model "
                "zero-pads after every layer (the accumulative edge error).",
                className="lead",
            ),
            controls,
            message_area(ids.FN_MESSAGE),
            html.Div(id=ids.FN_CAPTION_TEXT, className="caption"),
            panel("g(x) by the spatial layers and by Fourier-Net 1, 2, 3", graph(ids.FN_VARIANTS_GRAPH),
                  subtitle="Top: one output channel; bottom: log10 of the absolute difference to the spatial "
                           "layers (float noise is about 1e-7; the edge error shows as a bright frame)."),
            html.Div([
                panel("Largest error, interior and border", html.Div(id=ids.FN_ERRORS_TABLE)),
                panel("Logits h(·) of each variant", html.Div(id=ids.FN_LOGITS_TABLE)),
            ], className="fn-two"),
            panel("Fused kernels K123", dcc.RadioItems(id=ids.FN_KERNEL_PAGE_RADIO, options=[], value=0,
                                                       inline=True, className="radio"),
                  graph(ids.FN_KERNELS_GRAPH),
                  subtitle="Each fused kernel (red positive, blue negative) and its Fourier magnitude on the "
                           "Fourier-Net grid. Click one to see the kernels it is made of."),
            panel("What the selected fused kernel is made of", graph(ids.FN_CONTRIB_GRAPH),
                  subtitle="K = Σ_m (earlier layers' fused kernel c_in→m) * (last layer's kernel m→c_out); "
                           "the strongest terms."),
            panel("Timing of g", graph(ids.FN_TIMING_GRAPH), html.Div(id=ids.FN_TIMING_TEXT, className="caption"),
                  subtitle="Measured on this server for a batch of bundled samples; the spatial layers are the "
                           "Keras model; Fourier-Net 1–3 are numpy FFTs in float64, FN (TF) the same in "
                           "TensorFlow (float32, on the GPU when there is one)."),
            html.H3("Kernel importance"),
            html.P("For every sample image: zero each fused channel of g(x) in turn and see how far the logits "
                   "move; then keep only the most harmful-to-remove channels, adding them in that order until "
                   "the logits are close enough to the full model's.", className="lead"),
            importance_controls,
            message_area(ids.FN_IMP_MESSAGE),
            html.Div(id=ids.FN_IMP_SUMMARY_TEXT, className="caption"),
            html.Div([
                panel("How often each channel was needed", graph(ids.FN_IMP_COUNTS_GRAPH)),
                panel("Channels needed per image", graph(ids.FN_IMP_NEEDED_GRAPH)),
            ], className="fn-two"),
            panel("The most needed channels on chosen images", graph(ids.FN_IMP_ACTIVATIONS_GRAPH),
                  subtitle="The selected image and the first sample of each class."),
        ]
    )
