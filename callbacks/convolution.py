"""Convolution page callbacks."""

from __future__ import annotations

import os

import numpy as np
from dash import ALL, Input, Output, State, html, no_update
from dash import ctx as dash_ctx

from dashboard import ids
from dashboard.components.controls import is_on, message
from dashboard.figures.convolution import theorem_figure
from xai_core.convolution import same_padding, tf_cross_correlate, theorem_steps
from xai_core.graph import conv_config
from xai_core.images import ImageError, decode_image

from .common import AppContext, UserError, as_choice, as_int, decode_upload, get_entry, user_errors
from .kernels import layer_kernels, layer_slices_of

MODES = ("linear", "circular")
MAX_IMAGE_BYTES = 20 * 1024 * 1024


def layer_buttons(ctx: AppContext, model):
    """One "Layer N" button per 2-D convolution layer of the model."""
    try:
        entry = get_entry(ctx, model)
    except UserError as exc:
        return html.Span(str(exc), className="muted")
    if not entry.conv_layers:
        return html.Span("this model has no 2-D convolution layers", className="muted")
    compact = len(entry.conv_layers) > 12  # big models: numbers only, the layer name is in the tooltip
    return [html.Button(f"{i + 1}" if compact else f"Layer {i + 1}", id=ids.conv_layer_button(i),
                        title=f"{node.key} ({node.type_name})", className="button compact" if compact else "button")
            for i, node in enumerate(entry.conv_layers)]


def _random_kernel(entry, layer: int, rng: np.random.Generator) -> dict:
    node = entry.conv_layers[layer]
    if node.type_name == "DepthwiseConv2D":  # only (c, c * m + j) pairs are non-zero
        _, pairs = layer_slices_of(entry, node.key)
        c_in, c_out = pairs[int(rng.integers(len(pairs)))]
        return {"layer": layer, "c_in": int(c_in), "c_out": int(c_out)}
    k = layer_kernels(entry, node.key)
    return {"layer": layer, "c_in": int(rng.integers(k.shape[2])), "c_out": int(rng.integers(k.shape[3]))}


@user_errors(n_outputs=2, message_index=1)
def update_state(ctx: AppContext, trigger, model, contents, filename, state, rng=None):
    """Outputs: the new page state and a message.

    The state names everything the figure depends on: model, image (a sample
    index or the key of an uploaded image), conv layer and kernel slice.
    """
    rng = rng or np.random.default_rng()
    entry = get_entry(ctx, model)
    if not entry.conv_layers:
        raise UserError(f"{entry.spec.title} has no 2-D convolution layers (Conv2D, DepthwiseConv2D or "
                        "SeparableConv2D), so there is no convolution to show")
    state = dict(state) if isinstance(state, dict) else {}
    fresh = state.get("model") != model or trigger in (None, ids.APP_MODEL_DROPDOWN)
    if fresh:
        state = {"model": model, "image": int(rng.integers(entry.n_samples)), "upload": None,
                 "upload_name": None, "notes": [], **_random_kernel(entry, 0, rng)}
    elif trigger == ids.CONV_INPUT_BUTTON:
        state.update(image=int(rng.integers(entry.n_samples)), upload=None, upload_name=None, notes=[])
    elif isinstance(trigger, dict) and trigger.get("type") == ids.conv_layer_button(0)["type"]:
        layer = as_int(trigger.get("index"), "Layer", 0, len(entry.conv_layers) - 1)
        state.update(_random_kernel(entry, layer, rng))
    elif trigger == ids.CONV_UPLOAD:
        data = decode_upload(contents, MAX_IMAGE_BYTES)
        try:
            image = decode_image(data, filename)
            fitted = entry.fit_image(image)
        except ImageError as exc:
            raise UserError(str(exc)) from None
        name = os.path.basename(str(filename or "upload"))[-80:]
        state.update(upload=ctx.arrays.put(fitted.x), upload_name=name, image=None, notes=fitted.notes)
    else:
        return no_update, message(None)
    return state, message(None)


def _image(ctx: AppContext, entry, state) -> tuple[np.ndarray, str]:
    if state.get("upload"):
        notes = "; ".join(state.get("notes") or [])
        text = f"uploaded image {state.get('upload_name') or ''}".strip() + (f" ({notes})" if notes else "")
        try:
            return ctx.arrays.get(state["upload"]), text
        except KeyError as exc:
            raise UserError(str(exc)) from None
    index = as_int(state.get("image"), "Image", 0, entry.n_samples - 1)
    x, label = entry.sample(index)
    name = entry.class_names[label] if label is not None else "?"
    return x, f"sample {index} (label: {name})"


@user_errors(n_outputs=4, message_index=3)
def render(ctx: AppContext, state, mode, log_value):
    """Outputs: the theorem figure, a caption, the error numbers, a message."""
    if not isinstance(state, dict) or not state.get("model"):
        raise UserError("press Input or choose a model to start")
    entry = get_entry(ctx, state["model"])
    mode = as_choice(mode, "Convolution mode", MODES)
    layer = as_int(state.get("layer"), "Layer", 0, len(entry.conv_layers) - 1)
    node = entry.conv_layers[layer]
    kernels = layer_kernels(entry, node.key)
    c_in = as_int(state.get("c_in"), "Input channel", 0, kernels.shape[2] - 1)
    c_out = as_int(state.get("c_out"), "Output channel", 0, kernels.shape[3] - 1)
    image, image_text = _image(ctx, entry, state)
    layer_input = entry.layer_activation(node.key, image[None], layer_input=True)[0]
    channel = layer_input[:, :, c_in].astype(np.float64)
    kernel = kernels[:, :, c_in, c_out]
    steps = theorem_steps(channel, kernel, mode, reference=tf_cross_correlate(channel, kernel))

    cfg = conv_config(node.layer)
    caption = [f"{image_text} · layer {layer + 1} of {len(entry.conv_layers)}: {node.key} ({node.type_name}) · "
               f"kernel W[:, :, {c_in}, {c_out}] of size {kernel.shape[0]}×{kernel.shape[1]} · "
               f"input channel {c_in} of {layer_input.shape[-1]}, {channel.shape[0]}×{channel.shape[1]} · "
               f"FFT grid {steps.grid[0]}×{steps.grid[1]}"]
    if cfg["strides"] != (1, 1) or cfg["dilation_rate"] != (1, 1) or cfg["padding"] != "same":
        caption.append(html.Br())
        caption.append(html.Span(
            f"The layer itself uses strides {cfg['strides']}, dilation {cfg['dilation_rate']} and "
            f"padding '{cfg['padding']}'; the panels show the stride-1 'same' convolution of one slice.",
            className="muted"))
    return theorem_figure(steps, is_on(log_value)), caption, error_numbers(steps), no_update


def error_numbers(steps) -> list:
    """The agreement between the FFT path and Keras, in words and numbers."""
    diff = np.abs(steps.difference)
    top, bottom = same_padding(steps.kernel.shape[0])
    left, right = same_padding(steps.kernel.shape[1])
    b = max(top, bottom, left, right)
    interior = diff[b: diff.shape[0] - b, b: diff.shape[1] - b] if b else diff
    inner = float(interior.max()) if interior.size else 0.0
    border = diff.copy()
    if b and interior.size:
        border[b: diff.shape[0] - b, b: diff.shape[1] - b] = 0
    verdict = ("agree to float precision" if steps.relative_error < 1e-5 else
               "differ: the circular convolution wraps around at the edges")
    return [
        html.Span(f"max |IFFT − Keras| = {steps.max_abs_error:.3g} (relative {steps.relative_error:.3g}): "),
        html.Strong(verdict), html.Br(),
        html.Span(f"interior (≥ {b} px from the edge): {inner:.3g} · border: {float(border.max()):.3g}",
                  className="muted"),
    ]


def register(app, ctx: AppContext) -> None:
    app.callback(Output(ids.CONV_LAYER_BUTTONS, "children"), Input(ids.APP_MODEL_DROPDOWN, "value"))(
        lambda model: layer_buttons(ctx, model))

    def _update(model, _input, layer_clicks, contents, filename, state):
        trigger = dash_ctx.triggered_id
        if isinstance(trigger, dict) and not any(layer_clicks or []):
            trigger = "layer-buttons-rendered"  # new buttons appeared, nobody clicked
        return update_state(ctx, trigger, model, contents, filename, state)

    app.callback(
        Output(ids.CONV_STATE_STORE, "data"),
        Output(ids.CONV_MESSAGE, "children"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.CONV_INPUT_BUTTON, "n_clicks"),
        Input(ids.conv_layer_button(ALL), "n_clicks"),
        Input(ids.CONV_UPLOAD, "contents"),
        State(ids.CONV_UPLOAD, "filename"),
        State(ids.CONV_STATE_STORE, "data"),
    )(_update)
    app.callback(
        Output(ids.CONV_GRAPH, "figure"),
        Output(ids.CONV_CAPTION_TEXT, "children"),
        Output(ids.CONV_ERROR_TEXT, "children"),
        Output(ids.CONV_MESSAGE, "children", allow_duplicate=True),
        Input(ids.CONV_STATE_STORE, "data"),
        Input(ids.CONV_MODE_RADIO, "value"),
        Input(ids.CONV_LOG_SWITCH, "value"),
        prevent_initial_call=True,
    )(lambda state, mode, log: render(ctx, state, mode, log))
