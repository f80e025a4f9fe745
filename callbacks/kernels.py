"""Kernels page callbacks."""

from __future__ import annotations

import numpy as np
from dash import Input, Output

from dashboard import ids
from dashboard.components.controls import is_on, message
from dashboard.figures.kernels import LayerKernels, kernel_grid, power_profiles
from xai_core import fourier
from xai_core.graph import effective_kernel
from xai_core.kernels import draw, kernel_spectrum, resolve_fft_size

from .common import AppContext, UserError, as_choice, as_int, get_entry, user_errors

FFT_CHOICES = ("kernel", "32", "input")
MAX_SEED = 2**31 - 1


def new_seed(_n_clicks, rng: np.random.Generator | None = None) -> int:
    """A fresh seed for "New kernels"."""
    rng = rng or np.random.default_rng()
    return int(rng.integers(0, MAX_SEED))


def layer_kernels(entry, key: str) -> np.ndarray:
    """The effective (kh, kw, C_in, C_out) kernel of a conv layer, cached per model."""
    return entry.cached(("kernel", key), lambda: effective_kernel(entry.graph[key].layer).astype(np.float64))


def layer_profile(entry, key: str, size: int):
    """Radially averaged power spectrum of all of a layer's kernels, cached per (model, layer, size)."""
    def build():
        freq, profile = fourier.layer_power_profile(layer_kernels(entry, key), size)
        return freq, profile, fourier.band_character(freq, profile)
    return entry.cached(("profile", key, size), build)


@user_errors(n_outputs=4, message_index=3)
def render(ctx: AppContext, model, seed, count, fft_choice, log_value):
    """Outputs: kernel grid figure, power-spectrum figure, caption, message."""
    entry = get_entry(ctx, model)
    seed = as_int(seed, "Seed", 0, MAX_SEED)
    count = as_int(count, "Kernels per layer", 1, 6)
    fft_choice = as_choice(fft_choice, "FFT size", FFT_CHOICES)
    log = is_on(log_value)
    convs = entry.conv_layers
    rows, curves = [], []
    sizes = set()
    for index, node in enumerate(convs):
        kernels = layer_kernels(entry, node.key)
        size = resolve_fft_size(fft_choice, kernels.shape[:2], entry.input_shape[:2])
        sizes.add(size)
        draws = draw(kernels, count, np.random.default_rng([seed, index]), node.key)
        spectra = [kernel_spectrum(d.kernel, size) for d in draws]
        rows.append(LayerKernels(
            layer=node.key,
            kernels=[d.kernel for d in draws],
            channels=[(d.c_in, d.c_out) for d in draws],
            magnitudes=[s.log_magnitude() if log else s.magnitude for s in spectra],
            phases=[s.phase for s in spectra],
        ))
        freq, profile, character = layer_profile(entry, node.key, size)
        curves.append((node.key, freq, profile, character))
    if not convs:
        raise UserError(f"{model} has no 2-D convolution layers, so there are no kernels to show")
    size_text = ", ".join(f"{s}×{s}" for s in sorted(sizes))
    caption = (f"Seed {seed} · {count} kernel(s) from each of {len(convs)} convolution layer(s) · "
               f"FFT size {size_text} · spectra centred (zero frequency in the middle)")
    return kernel_grid(rows, log), power_profiles(curves), caption, message(None)


def register(app, ctx: AppContext) -> None:
    app.callback(
        Output(ids.KERNELS_SEED_INPUT, "value"),
        Input(ids.KERNELS_NEW_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )(new_seed)
    app.callback(
        Output(ids.KERNELS_GRID_GRAPH, "figure"),
        Output(ids.KERNELS_PROFILE_GRAPH, "figure"),
        Output(ids.KERNELS_CAPTION_TEXT, "children"),
        Output(ids.KERNELS_MESSAGE, "children"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.KERNELS_SEED_INPUT, "value"),
        Input(ids.KERNELS_COUNT_SLIDER, "value"),
        Input(ids.KERNELS_FFT_RADIO, "value"),
        Input(ids.KERNELS_LOG_SWITCH, "value"),
    )(lambda *args: render(ctx, *args))
