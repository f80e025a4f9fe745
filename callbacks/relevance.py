"""Relevance page callbacks: Taylor relevance around a filtered root point.

What is recomputed when:

* new model, image or softmax setting: one call of the compiled gradient
  function that returns the gradient of every class at x (cached per
  (model, image, softmax)), so a new target class recomputes nothing;
* new filter or sigma: the root point x̃ (a scikit-image filter, cached per
  (model, image, filter, σ)) and the product ``R = ∂y/∂x · (x − x̃)``; the
  gradient comes from the cache and the model does not run.  Only when the
  "numeric" switch is on does f(x̃) need one forward pass (cached per
  (model, image, filter, σ, softmax));
* gamma: the figure only (a ``Patch`` of the R panel, from cached arrays);
  the slider updates while it is dragged;
* opacity: a ``Patch`` of one trace property, nothing else (also while dragged).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import numpy as np
from dash import Input, Output, Patch, State, html
from dash import ctx as dash_ctx

from dashboard import ids
from dashboard.components.controls import is_on, message
from dashboard.figures.relevance import OVERLAY_TRACE, RELEVANCE_TRACE, gamma_z, overlay_figure, relevance_figure
from xai_core import filters
from xai_core.images import ImageError, decode_image
from xai_core.relevance import TaylorResult, taylor_relevance

from .common import (
    AppContext,
    UserError,
    as_choice,
    as_float,
    as_int,
    cache_key,
    decode_upload,
    get_entry,
    user_errors,
)

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
ROOT_POINTS = LRU(512)  # (model, image, filter, sigma) -> x̃ (no model call)
ROOTS = LRU(512)  # (model, image, filter, sigma, softmax) -> scores at x̃ (one forward pass)


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
    return (cache_key(entry), image, filter_name, float(sigma), bool(softmax))


def root_point_of(entry, image, x: np.ndarray, filter_name: str, sigma: float) -> np.ndarray:
    """The root point x̃ of ``x`` (cached under ``image``; a filter only, the model does not run)."""
    return ROOT_POINTS.get((cache_key(entry), image, filter_name, float(sigma)),
                           lambda: filters.root_point(x, filter_name, sigma))


def gradients_at(entry, image, x: np.ndarray, softmax: bool, filter_name: str | None = None,
                 sigma: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores at x and the gradient of every class score at x (cached under ``image``, a sample
    index or ``("upload", key)``).

    For models with at most ``MAX_CLASS_BATCH`` classes all K classes come
    from one call of the registry's compiled gradient function on a batch of
    K copies of x (target k for copy k), so changing the target class later
    costs nothing; with more, class gradients are computed when first used.  When ``filter_name`` and ``sigma``
    are given (the numbers are wanted), the root point rides along in the same
    batch and its scores are cached too (a new image then costs one
    TensorFlow call, not two).
    """
    key = (cache_key(entry), image, bool(softmax))

    def build():
        k = len(entry.class_names)
        if k > MAX_CLASS_BATCH:
            return _few_classes(entry, x, softmax, filter_name, sigma, image)
        batch, targets = [x] * k, list(range(k))
        root = None
        if filter_name is not None:
            root = root_point_of(entry, image, x, filter_name, sigma)
            batch.append(root)
            targets.append(0)
        scores, grads = entry.gradients(np.stack(batch), np.asarray(targets, np.int32), softmax=softmax)
        if root is not None:
            ROOTS.get(_root_key(entry, image, filter_name, sigma, softmax), lambda: scores[k])
        return scores[0], grads[:k]
    return GRADIENTS.get(key, build)


# Above this many classes, class gradients are computed one at a time when needed: a batch of K copies
# of a 42x42 image costs cifar10pad 45 ms per new image, two small calls about a quarter of that.
MAX_CLASS_BATCH = 8


class ClassGradients:
    """``grads[k]``: the gradient of class k at x, computed on first use (for models with many classes)."""

    def __init__(self, entry, x: np.ndarray, softmax: bool, known: dict[int, np.ndarray] | None = None):
        self._entry, self._x, self._softmax = entry, x, softmax
        self._cache = LRU(8)
        for cls, grad in (known or {}).items():
            self._cache.get(int(cls), lambda grad=grad: grad)

    def __getitem__(self, cls: int) -> np.ndarray:
        return self._cache.get(int(cls), lambda: self._entry.gradients(self._x[None], int(cls),
                                                                        softmax=self._softmax)[1][0])

    def __len__(self) -> int:
        return len(self._entry.class_names)


def _few_classes(entry, x, softmax, filter_name, sigma, image):
    """Scores at x (and at the root point) in one call; class gradients later, one class at a time."""
    batch = [x] if filter_name is None else [x, root_point_of(entry, image, x, filter_name, sigma)]
    scores, grads = entry.gradients(np.stack(batch), 0, softmax=softmax)
    if filter_name is not None:
        ROOTS.get(_root_key(entry, image, filter_name, sigma, softmax), lambda: scores[1])
    return scores[0], ClassGradients(entry, x, softmax, known={0: grads[0]})  # class 0's came along


def root_at(entry, image, x: np.ndarray, filter_name: str, sigma: float,
            softmax: bool) -> tuple[np.ndarray, np.ndarray]:
    """The root point x̃ of ``x`` and the scores there (one cached forward pass)."""
    root = root_point_of(entry, image, x, filter_name, sigma)

    def build():
        model = entry.score_model(softmax)
        scores = entry.run(("relevance-scores", bool(softmax)), lambda: lambda t: model(t, training=False),
                           root[None])
        return scores[0]
    return root, ROOTS.get(_root_key(entry, image, filter_name, sigma, softmax), build)


def parse_target(value, n_classes: int):
    """``"predicted"`` (or empty) -> None, else a class index in range."""
    if value in (None, "", PREDICTED):
        return None
    return as_int(value, "Target class", 0, n_classes - 1)


UPLOADS = LRU(32)  # (model, stored key) -> the uploaded image fitted to the model


def uploaded_image(ctx: AppContext, entry, upload: dict) -> tuple[np.ndarray, list[str]]:
    """The user's uploaded image fitted to ``entry``'s input (resized, grayscale/RGB, value range)."""
    def build():
        try:
            raw = ctx.arrays.get(upload["key"])
        except KeyError as exc:
            raise UserError(str(exc)) from None
        try:
            fitted = entry.fit_image(raw)
        except ImageError as exc:
            raise UserError(str(exc)) from None
        return fitted.x, fitted.notes
    return UPLOADS.get((cache_key(entry), upload["key"]), build)


def has_upload(upload) -> bool:
    return isinstance(upload, dict) and isinstance(upload.get("key"), str)


def image_of(ctx: AppContext, entry, image, upload):
    """``(cache id, x, label text)`` for the image slider's value: a sample, or the upload after the samples."""
    n = entry.n_samples
    if has_upload(upload) and image == n:
        x, notes = uploaded_image(ctx, entry, upload)
        text = f"uploaded image {upload.get('name') or ''}".strip() + (f" ({'; '.join(notes)})" if notes else "")
        return ("upload", upload["key"]), x, text
    index = as_int(image, "Image", 0, n if has_upload(upload) else n - 1)
    if index == n:
        return image_of(ctx, entry, index, upload)
    return index, entry.sample(index)[0], f"image {index}"


def compute(ctx: AppContext, model, image, filter_name, sigma, target, softmax_value, upload=None,
            root_scores: bool = True):
    """Validate the controls and return ``(entry, TaylorResult, predicted class, image text)``.

    With ``root_scores=False`` the model does not run for f(x̃) (the numbers
    are off, or only the display changes): ``result.scores_root`` is then
    ``None`` and only the maps are valid.
    """
    entry = get_entry(ctx, model)
    image, x, image_text = image_of(ctx, entry, image, upload)
    filter_name = as_choice(filter_name, "Filter", filters.FILTERS)
    sigma = as_float(sigma, "Sigma", 0.0, SIGMA_MAX)
    k = len(entry.class_names)
    chosen = parse_target(target, k)
    softmax = is_on(softmax_value)
    if root_scores:
        scores_x, grads = gradients_at(entry, image, x, softmax, filter_name, sigma)
        root, scores_root = root_at(entry, image, x, filter_name, sigma, softmax)
    else:
        scores_x, grads = gradients_at(entry, image, x, softmax)
        root, scores_root = root_point_of(entry, image, x, filter_name, sigma), None
    predicted = int(np.argmax(scores_x))  # the same for probabilities and logits
    cls = predicted if chosen is None else chosen
    grad = grads[cls]
    result = TaylorResult(x, root, grad, taylor_relevance(grad, x, root), scores_x, scores_root, cls, softmax)
    return entry, result, predicted, image_text


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


def caption(entry, result: TaylorResult, predicted: int, filter_name: str, sigma: float, image_text: str) -> str:
    cls = f"{image_text}, class {result.target} ({entry.class_names[result.target]})"
    why = "predicted" if result.target == predicted else f"chosen; the model predicts {predicted}"
    f = "softmax probability" if result.softmax else "logit (the model without its final softmax)"
    return (f"Explaining {cls}, {why} · differentiating its {f} · root point: "
            f"{filters.LABELS[filter_name]}, σ = {sigma:g} · {filters.DESCRIPTIONS[filter_name]}")


def bgr(entry) -> bool:
    return getattr(entry.intake, "channel_order", "RGB") == "BGR" and entry.input_shape[-1] == 3


def shown(entry, x: np.ndarray, channel: str) -> np.ndarray:
    """A model input as an image in [0, 1] (``entry.to_display``: uploads may be 0–255, ±1 or standardised).

    The colour view is RGB; a single channel keeps the model's own channel
    order, so channel i of the image lines up with channel i of ∂y/∂x and R.
    """
    image = entry.to_display(x)
    return image[..., ::-1] if channel != "sum" and bgr(entry) else image


@user_errors(n_outputs=5, message_index=4)
def render(ctx: AppContext, model, image, filter_name, sigma, target, softmax_value, numeric_value, channel,
           gamma, opacity, upload=None):
    """Outputs: relevance figure, overlay figure, numbers, caption, message.

    ``upload`` is the upload store (``{"key", "name"}``); the image slider's
    last position (``n_samples``) then shows the uploaded image.
    """
    numeric = is_on(numeric_value)
    entry, result, predicted, image_text = compute(ctx, model, image, filter_name, sigma, target, softmax_value,
                                                   upload, root_scores=numeric)
    gamma = as_float(gamma, "Gamma", *GAMMA_RANGE)
    opacity = as_float(opacity, "Opacity", 0.0, 1.0)
    channel = _channel(channel, entry)
    score = "p" if result.softmax else "z"
    x_shown, root_shown = shown(entry, result.x, channel), shown(entry, result.root, channel)
    fig = relevance_figure(x_shown, root_shown, result.grad, result.relevance, gamma=gamma, channel=channel,
                           value_range=(0.0, 1.0), score_name=f"{score}_{result.target}")
    over = overlay_figure(x_shown, result.relevance, gamma=gamma, opacity=opacity, channel=channel,
                          value_range=(0.0, 1.0))
    nums = numbers(entry, result, predicted) if numeric else None
    note = None
    if entry.head.kind == "linear":
        note = message(f"{entry.spec.title}: {entry.head.describe()}, so softmax on and off differentiate the same "
                       "output.", "info")
    intake = entry.intake
    if intake is not None and intake.n_outputs > 1:
        note = message(f"{entry.spec.title} has {intake.n_outputs} outputs; this page explains output "
                       f"{intake.output_index} (shape {tuple(intake.output_shapes[intake.output_index])}). "
                       "Choose another output on the Your models page.", "info")
    return fig, over, nums, caption(entry, result, predicted, filter_name, float(sigma), image_text), note


@user_errors(n_outputs=3, message_index=2)
def restyle_gamma(ctx: AppContext, gamma, model, image, filter_name, sigma, target, softmax_value, channel,
                  upload=None):
    """Outputs: Patches of the relevance and overlay figures for a new gamma (cached arrays, no model call)."""
    gamma = as_float(gamma, "Gamma", *GAMMA_RANGE)
    entry, result, _, _ = compute(ctx, model, image, filter_name, sigma, target, softmax_value, upload,
                                  root_scores=False)
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


@user_errors(n_outputs=2, message_index=1)
def set_opacity(opacity):
    """Outputs: a Patch of the overlay layer's opacity (and the title), and a message."""
    value = as_float(opacity, "Opacity", 0.0, 1.0)
    over = Patch()
    over["data"][OVERLAY_TRACE]["opacity"] = value
    over["layout"]["title"]["text"] = f"R over the input (opacity {value:g})"
    return over, message(None)


MAX_IMAGE_BYTES = 20 * 1024 * 1024


@user_errors(n_outputs=2, message_index=1)
def store_upload(ctx: AppContext, contents, filename):
    """Outputs: the upload store ``{"key", "name"}`` and a message.

    The decoded image is kept server-side (content-addressed); it is fitted
    to each model when used, so it survives a change of model.
    """
    data = decode_upload(contents, MAX_IMAGE_BYTES)
    try:
        image = decode_image(data, filename)
    except ImageError as exc:
        raise UserError(str(exc)) from None
    name = os.path.basename(str(filename or "upload"))[-80:]
    return {"key": ctx.arrays.put(np.asarray(image, np.float32)), "name": name}, message(None)


def model_controls(ctx: AppContext, model, upload=None, trigger=None):
    """Outputs: image slider max, value and marks, target options and value, channel options and value.

    With an uploaded image the image slider gains one last position for it,
    and a new upload (``trigger`` is the upload store) moves the slider there.
    """
    try:
        entry = get_entry(ctx, model)
    except UserError:
        return 0, 0, {0: "0"}, [{"label": "predicted class", "value": PREDICTED}], PREDICTED, [], "sum"
    targets = [{"label": "predicted class", "value": PREDICTED}] + [
        {"label": f"{i}: {name}", "value": str(i)} for i, name in enumerate(entry.class_names)]
    c = entry.input_shape[-1]
    channels = [{"label": "Σ over channels" if c > 1 else "the one channel", "value": "sum"}]
    if c > 1:
        names = (["B", "G", "R"] if bgr(entry) else ["R", "G", "B"]) if c == 3 else [str(i) for i in range(c)]
        channels += [{"label": names[i], "value": str(i)} for i in range(c)]
    n = entry.n_samples - 1
    marks = {i: str(i) for i in sorted({0, n // 2, n})}
    if has_upload(upload):
        marks[n + 1] = "upload"
        value = n + 1 if trigger == ids.RELEVANCE_UPLOAD_STORE else 0
        return n + 1, value, marks, targets, PREDICTED, channels, "sum"
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
        Input(ids.RELEVANCE_UPLOAD_STORE, "data"),
    )(lambda model, upload: model_controls(ctx, model, upload, dash_ctx.triggered_id))
    app.callback(
        Output(ids.RELEVANCE_UPLOAD_STORE, "data"),
        Output(ids.RELEVANCE_MESSAGE, "children", allow_duplicate=True),
        Input(ids.RELEVANCE_UPLOAD, "contents"),
        State(ids.RELEVANCE_UPLOAD, "filename"),
        prevent_initial_call=True,
    )(lambda contents, filename: store_upload(ctx, contents, filename))
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
        State(ids.RELEVANCE_UPLOAD_STORE, "data"),
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
        State(ids.RELEVANCE_UPLOAD_STORE, "data"),
        prevent_initial_call=True,
    )(lambda *args: restyle_gamma(ctx, *args))
    app.callback(
        Output(ids.RELEVANCE_OVERLAY_GRAPH, "figure", allow_duplicate=True),
        Output(ids.RELEVANCE_MESSAGE, "children", allow_duplicate=True),
        Input(ids.RELEVANCE_OPACITY_SLIDER, "value"),
        prevent_initial_call=True,
    )(set_opacity)
