"""Kernels page callbacks."""

from __future__ import annotations

import numpy as np
from dash import Input, Output

from dashboard import ids
from dashboard.components.controls import is_on, message
from dashboard.figures.kernels import LayerKernels, kernel_grid, power_profiles
from xai_core import fourier
from xai_core.graph import effective_kernel
from xai_core.kernels import (
    KernelDraw,
    draw,
    draw_pairs,
    kernel_spectrum,
    layer_slices,
    mean_power_profile,
    resolve_fft_size,
)

from .common import AppContext, UserError, as_choice, as_int, get_entry, user_errors

FFT_CHOICES = ("kernel", "32", "input")
MAX_SEED = 2**31 - 1
MAX_LAYERS = 8  # rows drawn at once; big models get a layer picker


def new_seed(_n_clicks, rng: np.random.Generator | None = None) -> int:
    """A fresh seed for "New kernels"."""
    rng = rng or np.random.default_rng()
    return int(rng.integers(0, MAX_SEED))


def layer_kernels(entry, key: str) -> np.ndarray:
    """The effective (kh, kw, C_in, C_out) kernel of a conv layer, cached per model."""
    return entry.cached(("kernel", key), lambda: effective_kernel(entry.graph[key].layer).astype(np.float64))


def layer_slices_of(entry, key: str):
    """The layer's real 2-D kernels ``(kh, kw, n)`` and their ``(c_in, c_out)`` (cached per model)."""
    return entry.cached(("slices", key), lambda: layer_slices(entry.graph[key].layer))


def layer_profile(entry, key: str, size: int):
    """Radially averaged power spectrum of all of a layer's kernels, cached per (model, layer, size).

    Computed from the mean autocorrelation (one FFT per layer, not one per
    kernel), so layers with thousands of kernels stay fast.
    """
    def build():
        slices, _ = layer_slices_of(entry, key)
        freq, profile = mean_power_profile(slices, size)
        return freq, profile, fourier.band_character(freq, profile)
    return entry.cached(("profile", key, size), build)


def default_layers(keys: list[str], limit: int = MAX_LAYERS) -> list[str]:
    """All layers when there are at most ``limit``, else ``limit - 2`` evenly spaced ones (first and last included)."""
    if len(keys) <= limit:
        return list(keys)
    n = limit - 2
    picks = np.unique(np.round(np.linspace(0, len(keys) - 1, n)).astype(int))
    return [keys[i] for i in picks]


def default_layer_keys(entry) -> list[str]:
    """The layers drawn when none are picked: spread over the layers with kernels larger than 1×1
    (a 1×1 kernel's spectrum is flat), or over all layers when fewer than two have one."""
    keys = [n.key for n in entry.conv_layers]
    spatial = [k for k in keys if int(np.prod(layer_slices_of(entry, k)[0].shape[:2])) > 1]
    return default_layers(spatial if len(spatial) >= 2 and len(keys) > MAX_LAYERS else keys)


def short_name(key: str) -> str:
    """The last part of a layer key (``base/block_1_depthwise`` -> ``block_1_depthwise``), for titles."""
    return key.rsplit("/", 1)[-1]


def layer_options(ctx: AppContext, model):
    """Options and default value of the layer picker."""
    try:
        entry = get_entry(ctx, model)
    except UserError:
        return [], []
    options = []
    for i, node in enumerate(entry.conv_layers):
        shape = tuple(node.layer.kernel.shape) if hasattr(node.layer, "kernel") else ()
        size = f"{shape[0]}×{shape[1]}" if len(shape) >= 2 else ""
        options.append({"label": f"{i + 1}. {node.key} ({node.type_name} {size})", "value": node.key})
    return options, default_layer_keys(entry) if options else []


def draw_layer(entry, node, count: int, rng: np.random.Generator) -> list[KernelDraw]:
    """``count`` random kernels of a conv layer (a depthwise layer's zero pairs are never drawn)."""
    if node.type_name == "DepthwiseConv2D":
        slices, pairs = layer_slices_of(entry, node.key)
        # pairs are (c, c * m + j) in order, so the slice of a pair is at index c_out
        return [KernelDraw(node.key, ci, co, slices[:, :, co]) for ci, co in draw_pairs(pairs, count, rng)]
    return draw(layer_kernels(entry, node.key), count, rng, node.key)


def _chosen_layers(entry, layers) -> tuple[list, bool]:
    convs = entry.conv_layers
    keys = [n.key for n in convs]
    chosen = [k for k in (layers or []) if k in keys] if isinstance(layers, (list, tuple)) else []
    if not chosen:
        chosen = default_layer_keys(entry)
    if len(chosen) > MAX_LAYERS:
        raise UserError(f"pick at most {MAX_LAYERS} layers at once (you picked {len(chosen)})")
    index = {k: i for i, k in enumerate(keys)}
    return [(index[k], convs[index[k]]) for k in sorted(chosen, key=index.get)], len(chosen) < len(keys)


@user_errors(n_outputs=4, message_index=3)
def render(ctx: AppContext, model, seed, count, fft_choice, log_value, layers=None):
    """Outputs: kernel grid figure, power-spectrum figure, caption, message.

    ``layers``: keys of the conv layers to draw (default: all, or at most
    ``MAX_LAYERS`` evenly spaced ones on big models).
    """
    entry = get_entry(ctx, model)
    seed = as_int(seed, "Seed", 0, MAX_SEED)
    count = as_int(count, "Kernels per layer", 1, 6)
    fft_choice = as_choice(fft_choice, "FFT size", FFT_CHOICES)
    log = is_on(log_value)
    convs = entry.conv_layers
    if not convs:
        raise UserError(f"{entry.spec.title} has no 2-D convolution layers (Conv2D, DepthwiseConv2D or "
                        "SeparableConv2D), so there are no kernels to show")
    shown, subset = _chosen_layers(entry, layers)
    rows, curves = [], []
    sizes = set()
    for index, node in shown:
        kh, kw = layer_slices_of(entry, node.key)[0].shape[:2]
        size = resolve_fft_size(fft_choice, (kh, kw), entry.input_shape[:2])
        sizes.add(size)
        draws = draw_layer(entry, node, count, np.random.default_rng([seed, index]))
        spectra = [kernel_spectrum(d.kernel, size) for d in draws]
        rows.append(LayerKernels(
            layer=short_name(node.key),
            kernels=[d.kernel for d in draws],
            channels=[(d.c_in, d.c_out) for d in draws],
            magnitudes=[s.log_magnitude() if log else s.magnitude for s in spectra],
            phases=[s.phase for s in spectra],
        ))
        freq, profile, character = layer_profile(entry, node.key, size)
        curves.append((short_name(node.key), freq, profile, character))
    size_text = ", ".join(f"{s}×{s}" for s in sorted(sizes))
    of = f" (of {len(convs)}; pick others above)" if subset else ""
    caption = (f"Seed {seed} · {count} kernel(s) from each of {len(shown)} convolution layer(s){of} · "
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
        Input(ids.KERNELS_LAYER_DROPDOWN, "value"),
    )(lambda *args: render(ctx, *args))
    app.callback(
        Output(ids.KERNELS_LAYER_DROPDOWN, "options"),
        Output(ids.KERNELS_LAYER_DROPDOWN, "value"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
    )(lambda model: layer_options(ctx, model))
