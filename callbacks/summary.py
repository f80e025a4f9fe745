"""Model-summary page callbacks: layer tables and one kernel on one image."""

from __future__ import annotations

import numpy as np
from dash import Input, Output, State
from dash import ctx as dash_ctx

from dashboard import ids
from dashboard.components.controls import message
from dashboard.figures.summary import kernel_view_figure, layer_table_component
from xai_core.summary import kernel_view, layer_table

from .common import AppContext, UserError, as_choice, as_int, cache_key, get_entry, user_errors
from .relevance import LRU

VIEWS = {ids.SUMMARY_ALL_BUTTON: "all", ids.SUMMARY_CONV_BUTTON: "conv", ids.SUMMARY_DENSE_BUTTON: "dense",
         ids.SUMMARY_OTHERS_BUTTON: "other", ids.SUMMARY_CLEAR_BUTTON: None}


def choose_view(trigger) -> str | None:
    """The table a button asks for (``None`` for Clear)."""
    return VIEWS.get(trigger)


def table_graph(entry):
    """The graph the layer tables list: an upload as it was uploaded (every output, without the
    two-class head KernelScope puts on a sigmoid), else the entry's own graph."""
    from xai_core.graph import GraphError, flatten

    original = getattr(entry, "original_model", None)
    if original is None:
        return entry.graph

    def build():
        try:
            return flatten(original)
        except GraphError:  # e.g. a Sequential saved unbuilt: the pages' sized copy is the best we have
            return entry.graph
    return entry.cached("summary-table-graph", build)


@user_errors(n_outputs=2, message_index=1)
def table(ctx: AppContext, model, view):
    """Outputs: the layer table (or nothing after Clear) and a message."""
    if view is None:
        return None, message(None)
    view = as_choice(view, "Summary", ("all", "conv", "dense", "other"))
    entry = get_entry(ctx, model)
    t = entry.cached(("summary-table", view), lambda: layer_table(table_graph(entry), view))
    return layer_table_component(t, entry.spec.title), message(None)


def out_channels(entry, index: int) -> int:
    """Kernels of conv layer ``index``: its output channels (a depthwise layer's C_in × m real kernels;
    read from the output shape, never by building the mostly-zero effective kernel)."""
    return int(entry.conv_layers[index].outputs[0].shape[-1])


def marks(hi: int, offset: int = 0) -> dict:
    """Slider marks at both ends (and the middle for long ranges); ``offset`` 1 labels layers from 1."""
    points = {0, hi} | ({hi // 2} if hi >= 8 else set())
    return {p: str(p + offset) for p in sorted(points)}


def slider_ranges(ctx: AppContext, model, layer, kernel, image, trigger=None):
    """Outputs: layer max and value, kernel max and value, image max and value, then the three sliders' marks.

    Values are clamped into the new ranges; a new model (``trigger`` is the
    model dropdown) starts again at layer 0, kernel 0, image 0.
    """
    try:
        entry = get_entry(ctx, model)
    except UserError:
        return 0, 0, 0, 0, 0, 0, marks(0), marks(0), marks(0)
    n_layers = len(entry.conv_layers)
    if n_layers == 0:
        return 0, 0, 0, 0, entry.n_samples - 1, 0, marks(0), marks(0), marks(entry.n_samples - 1)

    def clamp(v, hi):
        try:
            return min(max(int(v), 0), hi)
        except (TypeError, ValueError):
            return 0
    if trigger == ids.APP_MODEL_DROPDOWN:
        layer, kernel, image = 0, 0, 0
    layer = clamp(layer, n_layers - 1)
    k_max = out_channels(entry, layer) - 1
    n_img = entry.n_samples - 1
    return (n_layers - 1, layer, k_max, clamp(kernel, k_max), n_img, clamp(image, n_img),
            marks(n_layers - 1, 1), marks(k_max), marks(n_img))


ACTIVATIONS = LRU(16)  # (model, image) -> inputs and outputs of every conv layer


def _all_conv_tensors(entry):
    """One Keras model from the input to the input and the output of every 2-D conv layer."""
    import keras

    convs = entry.conv_layers
    outs = [n.inputs[0] for n in convs] + [n.outputs[0] for n in convs]
    return keras.Model(entry.graph.inputs, outs, name=f"{entry.name}_conv_io")


ALL_AT_ONCE = 16  # up to this many conv layers, one forward pass returns all of their inputs and outputs


def _layer_io(entry, key: str, image: int) -> tuple[np.ndarray, np.ndarray]:
    """Input and output of one conv layer for one image (big models: memory stays one layer's worth)."""
    import keras

    node = entry.graph[key]

    def build():
        model = entry.cached(("summary-io", key),
                             lambda: keras.Model(entry.graph.inputs, [node.inputs[0], node.outputs[0]]))
        out = entry.run(("summary-io", key), lambda: lambda t: model(t, training=False),
                        entry.sample(image)[0][None])
        return out[0][0], out[1][0]
    return ACTIVATIONS.get((cache_key(entry), image, key), build)


def activations(entry, key: str, image: int) -> tuple[np.ndarray, np.ndarray]:
    """The input and output of conv layer ``key`` for a bundled image.

    On models with at most ``ALL_AT_ONCE`` conv layers one compiled forward
    pass yields every conv layer's input and output for the image (cached for
    the last few images), so moving the Layer or Kernel slider never runs the
    model.  Bigger models (MobileNetV2 has 52) run a sub-model per layer and
    image, so memory never holds every layer's activations.
    """
    if len(entry.conv_layers) > ALL_AT_ONCE:
        return _layer_io(entry, key, image)

    def build():
        model = entry.cached("summary-conv-io", lambda: _all_conv_tensors(entry))
        out = entry.run("summary-conv-io", lambda: lambda t: model(t, training=False), entry.sample(image)[0][None])
        return [a[0] for a in out]
    acts = ACTIVATIONS.get((cache_key(entry), image), build)
    index = [n.key for n in entry.conv_layers].index(key)
    n = len(entry.conv_layers)
    return acts[index], acts[n + index]


@user_errors(n_outputs=3, message_index=2)
def render(ctx: AppContext, model, layer, kernel, image):
    """Outputs: the kernel-view figure, a caption and a message."""
    entry = get_entry(ctx, model)
    convs = entry.conv_layers
    if not convs:
        raise UserError(f"{entry.spec.title} has no 2-D convolution layers (Conv2D, DepthwiseConv2D or "
                        "SeparableConv2D), so there is no kernel to show; the layer tables above still apply")
    layer = as_int(layer, "Layer", 0, len(convs) - 1)
    node = convs[layer]
    kernel = as_int(kernel, "Kernel", 0, out_channels(entry, layer) - 1)
    image = as_int(image, "Image", 0, entry.n_samples - 1)
    x_in, x_out = activations(entry, node.key, image)
    view = kernel_view(node.layer, node.key, x_in, x_out, kernel)
    fig = kernel_view_figure(entry.to_display(entry.sample(image)[0]), view, (0.0, 1.0))
    c = view.in_channels
    ratio = ""
    corr = np.corrcoef(view.approx.ravel(), view.actual.ravel())[0, 1] if view.approx.shape == view.actual.shape \
        else np.nan
    if np.isfinite(corr):
        ratio = f" · correlation between x̄ ⋆ k̄ and the true channel: {corr:.3f}"
    text = (f"Layer {layer + 1} of {len(convs)}: {node.key} ({node.type_name}, input {c} channel(s)) · kernel "
            f"{kernel} · image {image}{ratio}. ")
    if view.source_channel is None:
        text += (f"The true channel is Σ_c x_c ⋆ k_c over all {c} input channels (plus bias and activation if the "
                 f"layer has them); x̄ ⋆ k̄ equals it up to the factor {c} only when every input channel sees the "
                 "same kernel.")
    else:
        text += (f"A depthwise output channel sees one input channel ({view.source_channel}) through one kernel, "
                 "so x ⋆ k is the true channel (plus bias and activation if the layer has them); the kernel "
                 f"slider runs over its {out_channels(entry, layer)} real kernels.")
    return fig, text, message(None)


def register(app, ctx: AppContext) -> None:
    app.callback(
        Output(ids.SUMMARY_VIEW_STORE, "data"),
        Input(ids.SUMMARY_ALL_BUTTON, "n_clicks"),
        Input(ids.SUMMARY_CONV_BUTTON, "n_clicks"),
        Input(ids.SUMMARY_DENSE_BUTTON, "n_clicks"),
        Input(ids.SUMMARY_OTHERS_BUTTON, "n_clicks"),
        Input(ids.SUMMARY_CLEAR_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )(lambda *_: choose_view(dash_ctx.triggered_id))
    app.callback(
        Output(ids.SUMMARY_TABLE, "children"),
        Output(ids.SUMMARY_MESSAGE, "children"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.SUMMARY_VIEW_STORE, "data"),
    )(lambda model, view: table(ctx, model, view))
    app.callback(
        Output(ids.SUMMARY_LAYER_SLIDER, "max"),
        Output(ids.SUMMARY_LAYER_SLIDER, "value"),
        Output(ids.SUMMARY_KERNEL_SLIDER, "max"),
        Output(ids.SUMMARY_KERNEL_SLIDER, "value"),
        Output(ids.SUMMARY_IMAGE_SLIDER, "max"),
        Output(ids.SUMMARY_IMAGE_SLIDER, "value"),
        Output(ids.SUMMARY_LAYER_SLIDER, "marks"),
        Output(ids.SUMMARY_KERNEL_SLIDER, "marks"),
        Output(ids.SUMMARY_IMAGE_SLIDER, "marks"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.SUMMARY_LAYER_SLIDER, "value"),
        State(ids.SUMMARY_KERNEL_SLIDER, "value"),
        State(ids.SUMMARY_IMAGE_SLIDER, "value"),
    )(lambda *args: slider_ranges(ctx, *args, trigger=dash_ctx.triggered_id))
    app.callback(
        Output(ids.SUMMARY_GRAPH, "figure"),
        Output(ids.SUMMARY_CAPTION_TEXT, "children"),
        Output(ids.SUMMARY_MESSAGE, "children", allow_duplicate=True),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.SUMMARY_LAYER_SLIDER, "value"),
        Input(ids.SUMMARY_KERNEL_SLIDER, "value"),
        Input(ids.SUMMARY_IMAGE_SLIDER, "value"),
        prevent_initial_call="initial_duplicate",
    )(lambda *args: render(ctx, *args))

