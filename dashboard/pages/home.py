"""Home page: what each page shows, the models, and where computation runs."""

from __future__ import annotations

from dash import dcc, html

from .. import ids
from ..components.controls import panel

PATH = "/"
NAME = "Home"
DESCRIPTION = "What KernelScope shows, its built-in models and the device it runs on."

PAGES = [
    ("Kernels", "/kernels",
     "A trained CNN's convolution kernels in the spatial domain and in the Fourier domain "
     "(magnitude and phase), and each layer's radially averaged power spectrum: is the layer "
     "low-pass, high-pass or band-pass?"),
    ("Convolution", "/convolution",
     "The convolution theorem made visible: an input channel, a kernel, their spectra, the "
     "product, and the inverse FFT next to what Keras computes, with circular vs zero-padded "
     "convolution. Drop in your own image."),
    ("Relevance", "/relevance",
     "Which pixels drive a prediction: the first-order Taylor relevance R = ∂y/∂x · (x − x̃) around a "
     "blurred, sharpened or pixelated copy x̃, for the predicted class or any other."),
    ("Model summary", "/summary",
     "Every layer with its output shape and parameters (conv, dense, others), and what one kernel does "
     "to an image: the averaged input, the averaged kernel and its spectrum, and the true activation."),
    ("Compare", "/compare",
     "Attribution methods side by side (saliency, Integrated Gradients, SmoothGrad, Grad-CAM, occlusion, "
     "expected gradients, ...) for the top classes, each map with its deletion/insertion, MuFidelity, "
     "completeness and sanity-check scores."),
    ("Fourier-Net", "/fouriernet",
     "The linear convolution stack g computed in the Fourier domain three ways, its 128 fused kernels "
     "K123, the edge error of padding once, timing, and which fused channels each decision needs."),
    ("Chain rule", "/chainrule",
     "∂y/∂x = (∂g/∂x)ᵀ ∂y/∂g: a worked 1-D example, then the image model's gradient from the head "
     "and the fused kernels, spatially and in the Fourier domain, checked against GradientTape."),
    ("Your models", "/models",
     "Upload your own Keras model (.keras or .h5) with sample images and class names; it is loaded "
     "in safe mode, its input and output are worked out for you, and every page can then explain it."),
]


def layout(**_query):
    cards = [
        html.Div([dcc.Link(html.H3(name), href=href), html.P(text)], className="card")
        for name, href, text in PAGES
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.H1("See why your CNN decides what it decides"),
                    html.P(
                        "KernelScope opens up convolutional neural networks: their kernels, the "
                        "convolutions they compute, and the pixels that drive a prediction. Pick a "
                        "model at the top right; every page follows it.",
                        className="lead",
                    ),
                    html.Div(id=ids.HOME_DEVICE_TEXT, className="device"),
                ],
                className="hero",
            ),
            html.Div(cards, className="cards"),
            panel("Built-in models", html.Div(id=ids.HOME_MODELS_TABLE),
                  subtitle="Trained by the script in the repository (python -m models.train NAME); "
                           "accuracies are on each data set's full test split."),
        ]
    )
