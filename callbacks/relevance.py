"""Relevance page callbacks: Taylor relevance around a filtered root point.

What is recomputed when:

* new model, image or softmax setting: one call of the compiled gradient
  function that returns the gradient of every class at x (cached per
  (model, image, softmax)), so a new target class recomputes nothing;
* new filter or sigma: the root point x̃, one forward pass for f(x̃) and the
  product ``R = ∂y/∂x · (x − x̃)``; the gradient comes from the cache;
* gamma: the figure only (a ``Patch`` of the R panel, from cached arrays);
* opacity: a ``Patch`` of one trace property, nothing else.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from dash import Input, Output, Patch, State, html

from dashboard import ids
from dashboard.components.controls import is_on, message
from dashboard.figures.relevance import OVERLAY_TRACE, RELEVANCE_TRACE, gamma_z, overlay_figure, relevance_figure
from xai_core import filters
from xai_core.relevance import TaylorResult, taylor_relevance

from .common import AppContext, UserError, as_choice, as_float, as_int, get_entry, user_errors

SIGMA_MAX = 5.0
GAMMA_RANGE = (0.1, 3.0)
PREDICTED = "predicted"


class LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int = 256):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, factory):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = factory()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


GRADIENTS = LRU(256)  # (model, image, softmax) -> (scores at x (K,), ∂score_k/∂x for every class k (K, H, W, C))
ROOTS = LRU(512)  # (model, image, filter, sigma, softmax) -> (x̃, scores at x̃)


def probabilities(entry, scores: np.ndarray, softmax: bool) -> np.ndarray:
    """Class probabilities from the differentiated scores (logits go through the model's head)."""
    scores = np.asarray(scores, np.float64)
    if softmax or entry.head.kind == "linear":
        return scores
    if entry.head.kind == "sigmoid":
        return 1.0 / (1.0 + np.exp(-scores))
    e = np.exp(scores - scores.max())
    return e / e.sum()


def _root_key(entry, image, filter_name, sigma, softmax):
    return (entry.name, image, filter_name, float(sigma), bool(softmax))


def gradients_at(entry, image: int, softmax: bool, filter_name: str | None = None,
                 sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores at x and the gradient of every class score at x, for a bundled sample (cached).

    All K classes come from one call of the registry's compiled gradient
    function on a batch of K copies of x (target k for copy k), so changing
    the target class later costs nothing.  When ``filter_name`` and ``sigma``
    are given, the root point rides along in the same batch and its scores
    are cached too (a new image then costs one TensorFlow call, not three).
    """
    key = (entry.name, image, bool(softmax))

    def build():
        x = entry.sample(image)[0]
        k = len(entry.class_names)
        batch, targets = [x] * k, list(range(k))
        root = None
        if filter_name is not None:
            root = filters.root_point(x, filter_name, sigma)
            batch.append(root)
            targets.append(0)
        scores, grads = entry.gradients(np.stack(batch), np.asarray(targets, np.int32), softmax=softmax)
        if root is not None:
            ROOTS.get(_root_key(entry, image, filter_name, sigma, softmax), lambda: (root, scores[k]))
        return scores[0], grads[:k]
    return GRADIENTS.get(key, build)


def root_at(entry, image: int, filter_name: str, sigma: float, softmax: bool) -> tuple[np.ndarray, np.ndarray]:
    """The root point x̃ of a bundled sample and the scores there (cached)."""
    def build():
        root = filters.root_point(entry.sample(image)[0], filter_name, sigma)
        model = entry.score_model(softmax)
        scores = entry.run(("relevance-scores", bool(softmax)), lambda: lambda t: model(t, training=False),
                           root[None])
        return root, scores[0]
    return ROOTS.get(_root_key(entry, image, filter_name, sigma, softmax), build)


def parse_target(value, n_classes: int):
    """``"predicted"`` (or empty) -> None, else a class index in range."""
    if value in (None, "", PREDICTED):
        return None
    return as_int(value, "Target class", 0, n_classes - 1)


def compute(ctx: AppContext, model, image, filter_name, sigma, target, softmax_value):
    """Validate the controls and return ``(entry, TaylorResult, predicted class)``."""
    entry = get_entry(ctx, model)
    image = as_int(image, "Image", 0, entry.n_samples - 1)
    filter_name = as_choice(filter_name, "Filter", filters.FILTERS)
    sigma = as_float(sigma, "Sigma", 0.0, SIGMA_MAX)
    k = len(entry.class_names)
    chosen = parse_target(target, k)
    softmax = is_on(softmax_value)
    scores_x, grads = gradients_at(entry, image, softmax, filter_name, sigma)
    predicted = int(np.argmax(scores_x))  # the same for probabilities and logits
    cls = predicted if chosen is None else chosen
    grad = grads[cls]
    root, scores_root = root_at(entry, image, filter_name, sigma, softmax)
    x = entry.sample(image)[0]
    result = TaylorResult(x, root, grad, taylor_relevance(grad, x, root), scores_x, scores_root, cls, softmax)
    return entry, result, predicted


def _channel(value, entry) -> str:
    c = entry.input_shape[-1]
    if c == 1 or value in (None, "sum"):
        return "sum"
    return str(as_int(value, "Channel", 0, c - 1))


def numbers(entry, result: TaylorResult, predicted: int):
    """The numeric read-out: probabilities at x and x̃ per class, Σ R, f(x) − f(x̃), residual."""
    px = probabilities(entry, result.scores_x, result.softmax)
    pr = probabilities(entry, result.scores_root, result.softmax)
    what = "probability" if entry.head.kind != "linear" else "output"
    head = html.Tr([html.Th("class"), html.Th(f"{what} at x", className="num"),
                    html.Th(f"{what} at x̃", className="num")])
    rows = [html.Tr([html.Td(f"{i}: {name}" + (" (explained)" if i == result.target else "")
                             + (" (predicted)" if i == predicted else "")),
                     html.Td(f"{px[i]:.4f}", className="num"), html.Td(f"{pr[i]:.4f}", className="num")],
                    className="chosen" if i == result.target else None)
            for i, name in enumerate(entry.class_names)]
    f = "probability" if result.softmax else "logit"
    summary = [
        html.Li(f"Explained class: {result.target} ({entry.class_names[result.target]}); f = its {f}"),
        html.Li(f"Σ R = {result.relevance_sum:.6g}"),
        html.Li(f"f(x) − f(x̃) = {result.delta:.6g}"),
        html.Li(f"first-order residual f(x) − f(x̃) − Σ R = {result.residual:.3g}"),
    ]
    return [html.Table([html.Thead(head), html.Tbody(rows)], className="table"),
            html.Ul(summary, className="relevance-sums")]


def caption(entry, result: TaylorResult, predicted: int, filter_name: str, sigma: float, image: int) -> str:
    cls = f"image {image}, class {result.target} ({entry.class_names[result.target]})"
    why = "predicted" if result.target == predicted else f"chosen; the model predicts {predicted}"
    f = "softmax probability" if result.softmax else "logit (the model without its final softmax)"
    return (f"Explaining {cls}, {why} · differentiating its {f} · root point: "
            f"{filters.LABELS[filter_name]}, σ = {sigma:g} · {filters.DESCRIPTIONS[filter_name]}")


@user_errors(n_outputs=5, message_index=4)
def render(ctx: AppContext, model, image, filter_name, sigma, target, softmax_value, numeric_value, channel,
           gamma, opacity):
    """Outputs: relevance figure, overlay figure, numbers, caption, message."""
    entry, result, predicted = compute(ctx, model, image, filter_name, sigma, target, softmax_value)
    gamma = as_float(gamma, "Gamma", *GAMMA_RANGE)
    opacity = as_float(opacity, "Opacity", 0.0, 1.0)
    channel = _channel(channel, entry)
    vr = entry.spec.value_range
    score = "p" if result.softmax else "z"
    fig = relevance_figure(result.x, result.root, result.grad, result.relevance, gamma=gamma, channel=channel,
                           value_range=vr, score_name=f"{score}_{result.target}")
    over = overlay_figure(result.x, result.relevance, gamma=gamma, opacity=opacity, channel=channel, value_range=vr)
    nums = numbers(entry, result, predicted) if is_on(numeric_value) else None
    note = None
    if entry.head.kind == "linear":
        note = message(f"{entry.name}: {entry.head.describe()}, so softmax on and off differentiate the same "
                       "output.", "info")
    return fig, over, nums, caption(entry, result, predicted, filter_name, float(sigma), int(image)), note


@user_errors(n_outputs=3, message_index=2)
def restyle_gamma(ctx: AppContext, gamma, model, image, filter_name, sigma, target, softmax_value, channel):
    """Outputs: Patches of the relevance and overlay figures for a new gamma (cached arrays, no model call)."""
    gamma = as_float(gamma, "Gamma", *GAMMA_RANGE)
    entry, result, _ = compute(ctx, model, image, filter_name, sigma, target, softmax_value)
    channel = _channel(channel, entry)
    z = gamma_z(result.relevance, gamma, channel)
    main, over = Patch(), Patch()
    main["data"][RELEVANCE_TRACE]["z"] = z
    title = f"R, γ = {gamma:g}" + (" (Σ over channels)" if channel == "sum" and result.x.shape[-1] > 1 else "")
    if channel != "sum" and result.x.shape[-1] > 1:
        title += f" [channel {channel}]"
    main["layout"]["annotations"][RELEVANCE_TRACE]["text"] = title
    over["data"][OVERLAY_TRACE]["z"] = z
    return main, over, message(None)


def set_opacity(opacity):
    """Output: a Patch of the overlay layer's opacity (and the title)."""
    try:
        value = min(1.0, max(0.0, float(opacity)))
    except (TypeError, ValueError):
        value = 0.6
    over = Patch()
    over["data"][OVERLAY_TRACE]["opacity"] = value
    over["layout"]["title"]["text"] = f"R over the input (opacity {value:g})"
    return over


def model_controls(ctx: AppContext, model):
    """Outputs: image slider max, value and marks, target options and value, channel options and value."""
    try:
        entry = get_entry(ctx, model)
    except UserError:
        return 0, 0, {0: "0"}, [{"label": "predicted class", "value": PREDICTED}], PREDICTED, [], "sum"
    targets = [{"label": "predicted class", "value": PREDICTED}] + [
        {"label": f"{i}: {name}", "value": str(i)} for i, name in enumerate(entry.class_names)]
    c = entry.input_shape[-1]
    channels = [{"label": "Σ over channels" if c > 1 else "the one channel", "value": "sum"}]
    if c > 1:
        names = ["R", "G", "B"] if c == 3 else [str(i) for i in range(c)]
        channels += [{"label": names[i], "value": str(i)} for i in range(c)]
    n = entry.n_samples - 1
    marks = {i: str(i) for i in sorted({0, n // 2, n})}
    return n, 0, marks, targets, PREDICTED, channels, "sum"


def register(app, ctx: AppContext) -> None:
    app.callback(
        Output(ids.RELEVANCE_IMAGE_SLIDER, "max"),
        Output(ids.RELEVANCE_IMAGE_SLIDER, "value"),
        Output(ids.RELEVANCE_IMAGE_SLIDER, "marks"),
        Output(ids.RELEVANCE_TARGET_DROPDOWN, "options"),
        Output(ids.RELEVANCE_TARGET_DROPDOWN, "value"),
        Output(ids.RELEVANCE_CHANNEL_RADIO, "options"),
        Output(ids.RELEVANCE_CHANNEL_RADIO, "value"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
    )(lambda model: model_controls(ctx, model))
    app.callback(
        Output(ids.RELEVANCE_GRAPH, "figure"),
        Output(ids.RELEVANCE_OVERLAY_GRAPH, "figure"),
        Output(ids.RELEVANCE_NUMBERS_TEXT, "children"),
        Output(ids.RELEVANCE_CAPTION_TEXT, "children"),
        Output(ids.RELEVANCE_MESSAGE, "children"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.RELEVANCE_IMAGE_SLIDER, "value"),
        Input(ids.RELEVANCE_FILTER_DROPDOWN, "value"),
        Input(ids.RELEVANCE_SIGMA_SLIDER, "value"),
        Input(ids.RELEVANCE_TARGET_DROPDOWN, "value"),
        Input(ids.RELEVANCE_SOFTMAX_SWITCH, "value"),
        Input(ids.RELEVANCE_NUMERIC_SWITCH, "value"),
        Input(ids.RELEVANCE_CHANNEL_RADIO, "value"),
        State(ids.RELEVANCE_GAMMA_SLIDER, "value"),
        State(ids.RELEVANCE_OPACITY_SLIDER, "value"),
    )(lambda *args: render(ctx, *args))
    app.callback(
        Output(ids.RELEVANCE_GRAPH, "figure", allow_duplicate=True),
        Output(ids.RELEVANCE_OVERLAY_GRAPH, "figure", allow_duplicate=True),
        Output(ids.RELEVANCE_MESSAGE, "children", allow_duplicate=True),
        Input(ids.RELEVANCE_GAMMA_SLIDER, "value"),
        State(ids.APP_MODEL_DROPDOWN, "value"),
        State(ids.RELEVANCE_IMAGE_SLIDER, "value"),
        State(ids.RELEVANCE_FILTER_DROPDOWN, "value"),
        State(ids.RELEVANCE_SIGMA_SLIDER, "value"),
        State(ids.RELEVANCE_TARGET_DROPDOWN, "value"),
        State(ids.RELEVANCE_SOFTMAX_SWITCH, "value"),
        State(ids.RELEVANCE_CHANNEL_RADIO, "value"),
        prevent_initial_call=True,
    )(lambda *args: restyle_gamma(ctx, *args))
    app.callback(
        Output(ids.RELEVANCE_OVERLAY_GRAPH, "figure", allow_duplicate=True),
        Input(ids.RELEVANCE_OPACITY_SLIDER, "value"),
        prevent_initial_call=True,
    )(set_opacity)
