"""Chain-rule page callbacks."""

from __future__ import annotations

import functools
import re

import numpy as np
from dash import Input, Output, html

from dashboard import ids
from dashboard.components.controls import is_on, message
from dashboard.figures import fouriernet as figs
from dashboard.figures.images import Panel, grid_figure, symmetric_limit
from xai_core.chainrule import image_chain_rule, pixel_derivative, scalar_example
from xai_core.filters import FILTERS, LABELS, root_point
from xai_core.fouriernet import interior_mask
from xai_core.relevance import explain, taylor_relevance

from .common import AppContext, UserError, as_choice, as_float, as_int, get_entry, user_errors
from .fouriernet import stack_parts
from .relevance import SIGMA_MAX

MAX_B = 16
LIMIT = 1e6


def parse_b(text) -> np.ndarray:
    """``"3, 4"`` -> ``[3., 4.]`` (1 to 16 finite numbers)."""
    parts = [p for p in re.split(r"[,\s;]+", str(text or "").strip()) if p]
    if not parts:
        raise UserError("b is empty; enter numbers separated by commas, e.g. 3, 4")
    if len(parts) > MAX_B:
        raise UserError(f"b may have at most {MAX_B} numbers, got {len(parts)}")
    try:
        b = np.array([float(p) for p in parts])
    except ValueError:
        raise UserError(f"b must be numbers separated by commas, got {text!r}") from None
    if not np.all(np.isfinite(b)) or np.any(np.abs(b) > LIMIT):
        raise UserError(f"every number in b must be finite and at most {LIMIT:g} in size")
    return b


def _fmt(a) -> str:
    a = np.atleast_1d(np.asarray(a, np.float64))
    text = ", ".join(f"{v:,.6g}" if abs(v) < 1e15 else f"{v:.6e}" for v in a)
    return f"[{text}]" if a.size > 1 else text


@user_errors(n_outputs=2, message_index=1)
def scalar(ctx: AppContext, x, b_text):
    """Outputs: the table of the 1-D example, message."""
    xv = as_float(x, "x", -1000, 1000)
    b = parse_b(b_text)
    r = scalar_example(xv, b)
    rows = [
        ("g = x·b", _fmt(r.g)),
        ("y = Σ g⁵", _fmt(r.y)),
        ("∂y/∂g = 5 g⁴ (tape)", _fmt(r.dy_dg)),
        ("∂g/∂x = b (tape)", _fmt(r.dg_dx)),
        ("∂y/∂x directly (tape)", _fmt(r.dy_dx_direct)),
        ("∂y/∂x = ∂y/∂g · ∂g/∂x (chain rule)", _fmt(r.dy_dx_chain)),
        ("difference", f"{r.difference:.3g}"),
    ]
    table = html.Table(html.Tbody([html.Tr([html.Th(k), html.Td(v, className="num")]) for k, v in rows]),
                       className="table")
    return table, message(None)


def class_options(ctx: AppContext, model):
    """Options of the class dropdown: the predicted class, then every class."""
    try:
        entry = get_entry(ctx, model)
    except UserError:
        return [{"label": "predicted", "value": "predicted"}], "predicted"
    opts = [{"label": "predicted", "value": "predicted"}]
    opts += [{"label": f"{i}: {n}", "value": str(i)} for i, n in enumerate(entry.class_names)]
    return opts, "predicted"


def squash_of(entry, softmax: bool) -> str:
    """What the chain rule differentiates: the model's own output (``softmax``) or the logit.

    The same choice as the Relevance page: with ``softmax`` on, the model's
    final softmax (or sigmoid) is applied to h(g(x)); a model without one uses
    its raw outputs either way.
    """
    return entry.head.kind if softmax else "linear"


def chain_pieces(entry, parts, softmax: bool):
    """The compiled :func:`xai_core.chainrule.tape_pieces` of ``parts.split`` for this score."""
    squash = squash_of(entry, softmax)
    if squash == "linear":
        return parts.chain_fn
    import tensorflow as tf

    from xai_core.chainrule import tape_pieces

    return entry.compiled(("fouriernet", "chain", squash), lambda: tape_pieces(parts.split, squash),
                          signature=[tf.TensorSpec((1, *entry.input_shape), tf.float32),
                                     tf.TensorSpec((), tf.int32)])


@user_errors(n_outputs=8, message_index=7)
def render(ctx: AppContext, model, image, target, channel, row, col, softmax_value=(True,),
           filter_name="gaussian", sigma=1.0):
    """Outputs: ∂y/∂g figure, pixel-spectrum figure, gradient figure, gradient text, Taylor figure,
    Taylor text, caption, message.

    ``softmax_value`` (a switch value) chooses, as on the Relevance page,
    between the class probability (on, the default) and its logit (off);
    ``filter_name`` and ``sigma`` make the Taylor root point as there.
    """
    entry, parts = stack_parts(ctx, model)
    filter_name = as_choice(filter_name, "Filter", FILTERS)
    sigma = as_float(sigma, "Sigma", 0.0, SIGMA_MAX)
    softmax = is_on(softmax_value)
    squash = squash_of(entry, softmax)
    score = "logit" if squash == "linear" and entry.head.kind != "linear" else (
        "output" if squash == "linear" else "probability")
    index = as_int(image, "Image", 0, entry.n_samples - 1)
    x = entry.x[index]
    h, w = entry.input_shape[:2]
    c = as_int(channel, "Channel of g", 0, parts.n_channels - 1)
    p = (as_int(row, "Pixel row", 0, h - 1), as_int(col, "Pixel column", 0, w - 1))
    if target in (None, "predicted"):
        cls = None
    else:
        cls = as_int(target, "Class", 0, len(entry.class_names) - 1)
    fnet = parts.fnet
    res = image_chain_rule(parts.split, fnet, x, cls, pieces=chain_pieces(entry, parts, softmax))
    _, direct = entry.gradients(x[None], res.target, softmax=softmax)
    direct = direct[0].astype(np.float64)
    res.direct = direct
    dydg = grid_figure([
        Panel(res.g[:, :, c], f"g(x) [ch {c}]", "signed", None, "g", colorbar=True),
        Panel(res.dy_dg[:, :, c], f"∂y/∂g [ch {c}]", "signed", None, "∂y/∂g", colorbar=True),
    ], cols=2, height_per_row=300, horizontal_spacing=0.08)
    pd = pixel_derivative(fnet, p, 0, c)
    pixel = figs.pixel_figure(pd.spectrum, pd.spatial, p, c)
    ci = 0 if x.shape[-1] == 1 else None

    def chan(a):
        return a[:, :, ci] if ci is not None else a.sum(axis=-1)

    grads = {"chain rule, spatial": chan(res.spatial), "chain rule, Fourier (per layer)": chan(res.fourier),
             "chain rule, fused F{K123}": chan(res.fused)}
    gfig = figs.chain_gradient_figure(grads, chan(direct))
    inner = interior_mask((h, w), fnet.fused.radius)
    scale = float(np.max(np.abs(direct))) or 1.0
    lines = []
    for name, key in (("spatial", "spatial"), ("Fourier, per layer", "fourier"), ("fused K123", "fused")):
        err = np.abs(getattr(res, key) - direct)
        lines.append(html.Div(
            f"{name}: max |chain − tape| / max |tape| = {err.max() / scale:.2e} everywhere, "
            f"{err[inner].max() / scale:.2e} in the interior"))
    lines.append(html.Div("The spatial and per-layer Fourier chain rules agree with GradientTape to float precision; "
                          "the fused kernels reproduce it in the interior, and differ on the border by the fused "
                          "map's edge error.", className="muted"))
    root = root_point(x, filter_name, sigma)
    ours = taylor_relevance(res.fourier, x, root)
    ref = explain(functools.partial(entry.gradients, softmax=softmax), x, res.target, root=root, softmax=softmax)
    lim = symmetric_limit(ours, ref.relevance)
    tfig = grid_figure([
        Panel(chan(ours), "R through the split", "signed", lim, "R"),
        Panel(chan(ref.relevance), "R from the relevance core", "signed", lim, "R", colorbar=True),
        Panel(figs.log_error(chan(ours), chan(ref.relevance)), "log₁₀|difference|", "error", None, "log10",
              colorbar=True),
    ], cols=3, height_per_row=280, horizontal_spacing=0.06)
    ttext = html.Div([
        html.Div(f"Σ R through the split = {float(np.sum(ours, dtype=np.float64)):.6g}; relevance core Σ R = "
                 f"{ref.relevance_sum:.6g}; max |difference| = {float(np.max(np.abs(ours - ref.relevance))):.2e}."),
        html.Div(f"Root point x̃: {LABELS[filter_name]}, σ = {sigma:g}.", className="muted"),
        html.Div(f"f(x) − f(x̃) = {ref.delta:.6g} ({score} of class {entry.class_names[res.target]}); first-order "
                 f"residual {ref.residual:.3g}.", className="muted"),
    ])
    caption = (f"{entry.spec.title}, sample {index}, y = {score} of class {res.target} "
               f"({entry.class_names[res.target]}) = {res.scores[res.target]:.5g}; "
               f"g = {' → '.join(parts.split.conv_keys)}, channel {c}, pixel p = {p}.")
    return dydg, pixel, gfig, html.Div(lines), tfig, ttext, caption, message(None)


def register(app, ctx: AppContext) -> None:
    app.callback(
        Output(ids.CR_SCALAR_TABLE, "children"),
        Output(ids.CR_SCALAR_MESSAGE, "children"),
        Input(ids.CR_X_INPUT, "value"),
        Input(ids.CR_B_INPUT, "value"),
    )(lambda *a: scalar(ctx, *a))
    app.callback(
        Output(ids.CR_CLASS_DROPDOWN, "options"),
        Output(ids.CR_CLASS_DROPDOWN, "value"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
    )(lambda m: class_options(ctx, m))
    app.callback(
        Output(ids.CR_DYDG_GRAPH, "figure"),
        Output(ids.CR_PIXEL_GRAPH, "figure"),
        Output(ids.CR_GRADIENT_GRAPH, "figure"),
        Output(ids.CR_GRADIENT_TEXT, "children"),
        Output(ids.CR_TAYLOR_GRAPH, "figure"),
        Output(ids.CR_TAYLOR_TEXT, "children"),
        Output(ids.CR_CAPTION_TEXT, "children"),
        Output(ids.CR_MESSAGE, "children"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.CR_IMAGE_INPUT, "value"),
        Input(ids.CR_CLASS_DROPDOWN, "value"),
        Input(ids.CR_CHANNEL_INPUT, "value"),
        Input(ids.CR_ROW_INPUT, "value"),
        Input(ids.CR_COL_INPUT, "value"),
        Input(ids.CR_SOFTMAX_SWITCH, "value"),
        Input(ids.CR_FILTER_DROPDOWN, "value"),
        Input(ids.CR_SIGMA_INPUT, "value"),
    )(lambda *a: render(ctx, *a))
