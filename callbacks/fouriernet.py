"""Fourier-Net page callbacks, and the linear-stack pieces the Chain-rule page shares."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from dash import Input, Output, State, html
from dash import ctx as dash_ctx

from dashboard import ids
from dashboard.components.controls import message
from dashboard.figures import fouriernet as figs
from dashboard.figures.images import message_figure
from xai_core.fouriernet import VARIANTS, FourierNet, contributions, edge_errors, time_variants

from .common import AppContext, UserError, as_choice, as_float, as_int, cache_key, get_entry, user_errors
from .relevance import LRU

KERNELS_PER_PAGE = 16
TIMING_BATCH = 16
IMPORTANCE_BATCH = 32
STREAM_IMAGES = 512  # images whose g(x) is held at once by the importance analysis
MAX_LOGIT_ROWS = 10  # rows of the logits table on models with more classes


@dataclass
class StackParts:
    """Everything the two pages need about one model's linear stack (built once per model)."""

    split: object  # LinearSplit of the logits model
    fnet: FourierNet
    head: object  # AffineHead or None
    g_fn: object  # compiled (N, H, W, C_in) -> g
    h_fn: object  # compiled g -> logits
    chain_fn: object  # compiled xai_core.chainrule.tape_pieces

    @property
    def n_channels(self) -> int:
        return int(self.fnet.fused.kernel.shape[3])

    def g(self, x: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        return self.g_fn(tf.convert_to_tensor(np.asarray(x, np.float32))).numpy()

    def h(self, g: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        return self.h_fn(tf.convert_to_tensor(np.asarray(g, np.float32))).numpy()


def _build_parts(entry) -> StackParts:
    import tensorflow as tf

    from xai_core.chainrule import tape_pieces
    from xai_core.graph import flatten
    from xai_core.importance import affine_head
    from xai_core.linear_stack import NotALinearStack, split_linear_stack

    title = entry.spec.title
    needs = "the Fourier-Net view needs convolutions without activations before the dense head"
    try:
        split = split_linear_stack(flatten(entry.logits_model))
    except NotALinearStack as exc:
        raise UserError(f"{title} is not a linear conv stack: {exc}; {needs}") from None
    if len(split.conv_keys) < 2:
        keys = split.graph.keys()
        nxt = split.graph[keys[keys.index(split.split_key) + 1]]
        raise UserError(
            f"{title} is not a linear conv stack: only {split.split_key!r} is linear, the next layer "
            f"{nxt.key!r} is a {type(nxt.layer).__name__}; {needs}, at least two in a row "
            "(try mnist17, cifar10 or cifar10pad).")
    fnet = FourierNet(split.kernels, entry.input_shape[:2])
    g_shape = tuple(int(s) for s in split.g.output.shape[1:])
    g_fn = entry.compiled(("fouriernet", "g"), lambda: lambda t: split.g(t, training=False))
    h_fn = entry.compiled(("fouriernet", "h"), lambda: lambda t: split.h(t, training=False),
                          signature=[tf.TensorSpec((None, *g_shape), tf.float32)])
    chain_fn = entry.compiled(("fouriernet", "chain"), lambda: tape_pieces(split),
                              signature=[tf.TensorSpec((1, *entry.input_shape), tf.float32),
                                         tf.TensorSpec((), tf.int32)])
    return StackParts(split, fnet, affine_head(split.h), g_fn, h_fn, chain_fn)


def stack_parts(ctx: AppContext, model) -> tuple[object, StackParts]:
    """``(entry, parts)`` or a :class:`UserError` for a model without a linear stack (not cached then)."""
    entry = get_entry(ctx, model)
    return entry, entry.cached(("fouriernet", "parts"), lambda: _build_parts(entry))


def _table(header: list[str], rows: list[list[str]]) -> html.Table:
    return html.Table([
        html.Thead(html.Tr([html.Th(h, className="num" if i else None) for i, h in enumerate(header)])),
        html.Tbody([html.Tr([html.Td(c, className="num" if i else None) for i, c in enumerate(r)]) for r in rows]),
    ], className="table")


def _sample(entry, index) -> tuple[np.ndarray, int]:
    i = as_int(index, "Image", 0, entry.n_samples - 1)
    return entry.x[i], i


@user_errors(n_outputs=6, message_index=5)
def render(ctx: AppContext, model, image, channel):
    """Outputs: variants figure, errors table, logits table, caption, kernel-page options, message."""
    entry, parts = stack_parts(ctx, model)
    x, index = _sample(entry, image)
    c = as_int(channel, "Output channel", 0, parts.n_channels - 1)
    fnet = parts.fnet
    spatial = parts.g(x[None])[0].astype(np.float64)
    outs = {"spatial": spatial, **{v: fnet.run_tf(v, x).astype(np.float64) for v in VARIANTS}}
    r = fnet.fused.radius
    rows = []
    for v in VARIANTS:
        e = edge_errors(outs[v], spatial, r)
        rows.append([figs.VARIANT_NAMES[v], f"{e['interior']:.2e}", f"{e['interior_rel']:.2e}",
                     f"{e['border']:.2e}", f"{e['border_rel']:.2e}"])
    errors = html.Div([
        _table(["variant", "interior max |err|", "relative", "border max |err|", "relative"], rows),
        html.P(f"Border band: the {r} pixel(s) next to each edge (the fused kernel's radius); relative to "
               f"max |g| = {np.max(np.abs(spatial)):.3g}, over all {parts.n_channels} channels.",
               className="caption"),
    ])
    logits = {"model": entry.run(("fouriernet", "logits"),
                                 lambda: lambda t: entry.logits_model([t], training=False), x[None])[0]}
    batch = np.stack([outs[k] for k in ("spatial", *VARIANTS)])
    for k, row in zip(("spatial", *VARIANTS), parts.h(batch)):
        logits[k] = row
    header = ["class", "model", "h(spatial g)", "h(FN1)", "h(FN2)", "h(FN3)"]
    shown = range(len(entry.class_names))
    if len(shown) > MAX_LOGIT_ROWS:  # many classes: the model's top classes only
        shown = np.argsort(-logits["model"], kind="stable")[:MAX_LOGIT_ROWS]
        header[0] = f"class (top {MAX_LOGIT_ROWS} of {len(entry.class_names)})"
    lrows = [[f"{j}: {entry.class_names[j]}"] + [f"{logits[k][j]:.5f}" for k in logits] for j in shown]
    fused = fnet.fused
    caption = (f"{entry.spec.title}: g = {' → '.join(parts.split.conv_keys)} ({fused.n_layer_kernels:,} kernels) fused "
               f"into {fused.n_fused} kernels of {fused.size[0]}×{fused.size[1]}; h = the rest. Sample {index}"
               f"{'' if entry.y is None else f' (class {entry.class_names[int(entry.y[index])]})'}, channel {c}; "
               f"FFT grid {fnet.grid[0]}×{fnet.grid[1]}.")
    n_pages = int(np.ceil(fused.n_fused / KERNELS_PER_PAGE))
    pages = [{"label": f"{p * KERNELS_PER_PAGE}–{min((p + 1) * KERNELS_PER_PAGE, fused.n_fused) - 1}", "value": p}
             for p in range(n_pages)]
    fig = figs.variants_figure(entry.to_display(x), {k: v[:, :, c] for k, v in outs.items()}, c)
    return fig, errors, _table(header, lrows), caption, pages, message(None)


def _fused_slices(parts: StackParts) -> tuple[np.ndarray, np.ndarray]:
    """``(C, kh, kw)`` fused kernels (input channel 0, or the sum over input channels) and centred |F| on the grid."""
    k = parts.fnet.fused.kernel
    k2 = k[:, :, 0, :] if k.shape[2] == 1 else k.sum(axis=2)
    k2 = np.moveaxis(k2, -1, 0)
    grid = parts.fnet.grid
    mags = np.abs(np.fft.fftshift(np.fft.fft2(k2, s=grid, axes=(1, 2)), axes=(1, 2)))
    return k2, mags


@user_errors(n_outputs=3, message_index=2)
def render_kernels(ctx: AppContext, model, page, click, triggered=None):
    """Outputs: fused-kernel grid, contributions figure, message (``triggered``: the id that fired)."""
    entry, parts = stack_parts(ctx, model)
    n = parts.n_channels
    n_pages = int(np.ceil(n / KERNELS_PER_PAGE))
    page = as_int(page if page is not None else 0, "Kernel page", 0, n_pages - 1)
    selected = None
    if triggered == ids.FN_KERNELS_GRAPH and click and click.get("points"):
        curve = int(click["points"][0].get("curveNumber", 0))
        selected = page * KERNELS_PER_PAGE + curve // 2
    k2, mags = entry.cached(("fouriernet", "fused-slices"), lambda: _fused_slices(parts))
    lo, hi = page * KERNELS_PER_PAGE, min((page + 1) * KERNELS_PER_PAGE, n)
    grid = figs.fused_kernels_figure(k2[lo:hi], mags[lo:hi], lo, selected)
    if selected is None or not 0 <= selected < n:
        return grid, message_figure("Click a fused kernel to see what it is made of.", height=200), message(None)
    terms = contributions(parts.split.kernels, 0, selected, top=6)
    return grid, figs.contributions_figure(terms, selected, k2[selected]), message(None)


_timings: dict[str, dict] = {}


@user_errors(n_outputs=3, message_index=2)
def render_timing(ctx: AppContext, model):
    """Outputs: timing figure, timing text, message (measured once per model)."""
    entry, parts = stack_parts(ctx, model)

    # measured once per model, outside the entry's lock so other callbacks never wait on it
    timings = _timings.get(cache_key(entry))
    if timings is None:
        timings = time_variants(parts.g, parts.fnet, entry.x[:TIMING_BATCH], repeats=3)
        _timings[cache_key(entry)] = timings
    base = timings["spatial"]["median"]
    n = min(TIMING_BATCH, entry.n_samples)
    text = " · ".join(f"{figs.VARIANT_NAMES[k]}: {v['median'] * 1e3:.2f} ms (p95 {v['p95'] * 1e3:.2f}), "
                      f"{v['median'] / base:.2f}× spatial" for k, v in timings.items())
    return (figs.timing_figure(timings, entry.device.label),
            f"Batch of {n} images on {entry.device.label}. {text}", message(None))


# -- kernel importance (background job) ------------------------------------------------
_results: dict[tuple, dict] = {}
_results_lock = threading.Lock()


IMAGE_SETS = {"samples": "bundled samples", "test": "test images", "train": "training images"}
DATA_ENV = "KERNELSCOPE_DATA_DIR"
MAX_IMAGES = 100_000
_splits = LRU(2)  # (model, split, data folder) -> images; a training split can be large, so only the last two


def data_root() -> str | None:
    """The data folder named by ``KERNELSCOPE_DATA_DIR`` (or None)."""
    import os

    return os.environ.get(DATA_ENV) or None


def split_status(spec, split: str) -> str | None:
    """None when ``split`` of ``spec``'s data set can be read from the data folder, else why not."""
    from models.datasets import DataNotFound, find_split

    if not spec.builtin:
        return "an uploaded model has only its bundled samples"
    root = data_root()
    if root is None:
        return f"set {DATA_ENV} to a data folder"
    try:
        find_split(spec, root, split)
    except (DataNotFound, ValueError) as exc:
        return str(exc)
    return None


def image_set_options(ctx: AppContext, model, current=None):
    """Options of the image-set radio for ``model`` (unavailable splits disabled, with the reason), and its value.

    The bundled samples are always there; the training and test splits come
    from ``KERNELSCOPE_DATA_DIR`` when it holds the model's data set.
    """
    try:
        entry = get_entry(ctx, model)
    except UserError:
        return [{"label": IMAGE_SETS["samples"], "value": "samples"}], "samples"
    options = [{"label": f"bundled samples ({entry.n_samples} images)", "value": "samples"}]
    for split in ("train", "test"):
        why = split_status(entry.spec, split)
        name = "training split" if split == "train" else "test split"
        if why is None:
            options.append({"label": f"{name} from {data_root()} (the first N images; N below)", "value": split})
        else:
            options.append({"label": f"{name}: not available ({why})", "value": split, "disabled": True})
    usable = [o["value"] for o in options if not o.get("disabled")]
    return options, current if current in usable else "samples"


def parse_limit(limit) -> int | None:
    """The image limit: None (no limit) or a whole number from 1 to :data:`MAX_IMAGES`."""
    if limit in (None, ""):
        return None
    return as_int(limit, "Number of images", 1, MAX_IMAGES)


def importance_key(model: str, threshold: float, variant: str, image_set: str = "samples", limit: int | None = None,
                   source: str | None = None) -> tuple:
    return (model, image_set, source, limit, round(float(threshold), 4), variant)


def _load_split(entry, name: str, root: str) -> np.ndarray:
    from models.datasets import DataNotFound, prepare

    what = "training" if name == "train" else "test"

    def load():
        try:
            return prepare(entry.spec, root, name).x
        except (DataNotFound, ValueError, OSError) as exc:
            raise UserError(f"cannot read the {what} split of {entry.name} from {root}: {exc}") from None
    return _splits.get((entry.name, name, root), load)


def image_set(entry, name: str, limit: int | None = None) -> tuple[np.ndarray, int]:
    """``(images, size of the whole set)``: the bundled samples, or the training or test split under
    ``KERNELSCOPE_DATA_DIR``, cut to the first ``limit`` images."""
    name = as_choice(name, "Images", tuple(IMAGE_SETS))
    if name == "samples":
        x = entry.x
    elif entry.is_uploaded:
        raise UserError(f"{entry.spec.title} is an uploaded model: it has no training or test split, only its "
                        "bundled samples")
    else:
        root = data_root()
        if root is None:
            what = "training" if name == "train" else "test"
            raise UserError(f"set {DATA_ENV} to the data folder (e.g. ../shared/data) to analyse the {what} split")
        x = _load_split(entry, name, root)
    return (x if limit is None else x[:limit]), len(x)


def compute_importance(ctx: AppContext, model, threshold, variant, progress=None, images: str = "samples",
                       limit: int | None = None) -> dict:
    """The analysis of an image set as a JSON-safe dict, cached per (model, image set and its folder, image
    limit, threshold, variant); ``n_total`` is the size of the whole set."""
    from xai_core.importance import ImportanceResult, analyse

    entry, parts = stack_parts(ctx, model)
    if images == "samples" and limit is not None and limit >= entry.n_samples:
        limit = None
    key = importance_key(cache_key(entry), threshold, variant, images, limit,
                         None if images == "samples" else data_root())
    with _results_lock:
        cached = _results.get(key)
    if cached is not None:
        if progress:  # report the finished state, so the progress bar never stays empty
            total = 2 * len(cached["needed"])
            progress(total, total)
        return cached
    x, n_total = image_set(entry, images, limit)
    n = len(x)
    total = 2 * n  # g, then the analysis, for every image
    head = parts.head if parts.head is not None else parts.h
    sampled = None if variant == "exact" else max(1, parts.n_channels // 4)
    results = []
    # g(x) of a whole training split would not fit in memory (mnist17: 400 KB an image), so the images
    # go through in chunks: g of a chunk, then its analysis
    for start in range(0, n, STREAM_IMAGES):
        xs = x[start: start + STREAM_IMAGES]
        gs = []
        for lo in range(0, len(xs), IMPORTANCE_BATCH):
            gs.append(parts.g(xs[lo: lo + IMPORTANCE_BATCH]))
            if progress:
                progress(2 * start + min(lo + IMPORTANCE_BATCH, len(xs)), total)
        done = 2 * start + len(xs)
        results.append(analyse(np.concatenate(gs), head, threshold=threshold, n_sampled=sampled, seed=start,
                               batch_images=IMPORTANCE_BATCH,
                               progress=(lambda d, t, done=done: progress(done + d, total)) if progress else None))
    out = ImportanceResult.concatenate(results).to_dict()
    out["n_total"] = int(n_total)
    with _results_lock:
        _results[key] = out
    return out


@user_errors(n_outputs=5, message_index=4)
def run_importance(set_progress, ctx: AppContext, _n_clicks, model, threshold, variant, image, images="samples",
                   limit=None):
    """Background job. Outputs: counts figure, needed figure, activations figure, summary, message.

    ``images`` is ``"samples"``, ``"test"`` or ``"train"``; ``limit`` keeps the
    first images of the set (None: all of them).
    """
    from xai_core.importance import ImportanceResult

    threshold = as_float(threshold, "Threshold", 1, 99) / 100.0
    variant = as_choice(variant, "Ablations", ("exact", "stochastic"))
    entry, parts = stack_parts(ctx, model)

    def progress(done, total):
        set_progress((str(done), str(total), f"{done} / {total}"))

    images = as_choice(images, "Images", tuple(IMAGE_SETS))
    limit = parse_limit(limit)
    out = compute_importance(ctx, model, threshold, variant, progress, images, limit)
    res = ImportanceResult.from_dict(out)
    counts = res.channel_counts()
    top = [int(c) for c in np.argsort(-counts, kind="stable")[:4] if counts[c] > 0]
    try:
        chosen = [as_int(image, "Image", 0, entry.n_samples - 1)]
    except UserError:
        chosen = [0]
    if entry.y is not None:
        for cls in range(len(entry.class_names)):
            hits = np.nonzero(entry.y == cls)[0]
            if hits.size and int(hits[0]) not in chosen and len(chosen) < 4:
                chosen.append(int(hits[0]))
    g = parts.g(entry.x[chosen])
    shown = [(f"sample {i}" + ("" if entry.y is None else f" ({entry.class_names[int(entry.y[i])]})"),
              entry.to_display(entry.x[i])) for i in chosen]
    acts = figs.activations_figure(shown, g[..., top], top)
    set_name = IMAGE_SETS[images]
    total = int(out.get("n_total", res.n_images))
    part = f" (the first {res.n_images:,} of {total:,})" if total > res.n_images else ""
    summary = (f"{res.n_images} {set_name} of {entry.spec.title}{part}, threshold {threshold:.0%}, {res.method}: "
               f"median {np.median(res.needed):.0f} of {res.n_channels} channels needed "
               f"(min {res.needed.min()}, max {res.needed.max()}); most needed: "
               + ", ".join(f"ch {c} ({counts[c]}×)" for c in top) + f". Computed in {res.seconds:.2f} s.")
    return (figs.counts_figure(counts, res.n_images), figs.needed_figure(res.needed, res.n_channels), acts,
            summary, message(None))


def register(app, ctx: AppContext) -> None:
    app.callback(
        Output(ids.FN_VARIANTS_GRAPH, "figure"),
        Output(ids.FN_ERRORS_TABLE, "children"),
        Output(ids.FN_LOGITS_TABLE, "children"),
        Output(ids.FN_CAPTION_TEXT, "children"),
        Output(ids.FN_KERNEL_PAGE_RADIO, "options"),
        Output(ids.FN_MESSAGE, "children"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.FN_IMAGE_INPUT, "value"),
        Input(ids.FN_CHANNEL_INPUT, "value"),
    )(lambda *a: render(ctx, *a))
    app.callback(
        Output(ids.FN_KERNELS_GRAPH, "figure"),
        Output(ids.FN_CONTRIB_GRAPH, "figure"),
        Output(ids.FN_MESSAGE, "children", allow_duplicate=True),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.FN_KERNEL_PAGE_RADIO, "value"),
        Input(ids.FN_KERNELS_GRAPH, "clickData"),
        prevent_initial_call="initial_duplicate",
    )(lambda *a: render_kernels(ctx, *a, triggered=dash_ctx.triggered_id))
    app.callback(
        Output(ids.FN_TIMING_GRAPH, "figure"),
        Output(ids.FN_TIMING_TEXT, "children"),
        Output(ids.FN_MESSAGE, "children", allow_duplicate=True),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        prevent_initial_call="initial_duplicate",
    )(lambda m: render_timing(ctx, m))
    app.callback(
        Output(ids.FN_IMP_COUNTS_GRAPH, "figure"),
        Output(ids.FN_IMP_NEEDED_GRAPH, "figure"),
        Output(ids.FN_IMP_ACTIVATIONS_GRAPH, "figure"),
        Output(ids.FN_IMP_SUMMARY_TEXT, "children"),
        Output(ids.FN_IMP_MESSAGE, "children"),
        Input(ids.FN_IMP_RUN_BUTTON, "n_clicks"),
        State(ids.APP_MODEL_DROPDOWN, "value"),
        State(ids.FN_IMP_THRESHOLD_SLIDER, "value"),
        State(ids.FN_IMP_VARIANT_RADIO, "value"),
        State(ids.FN_IMAGE_INPUT, "value"),
        State(ids.FN_IMP_SET_RADIO, "value"),
        State(ids.FN_IMP_LIMIT_INPUT, "value"),
        background=True,
        running=[(Output(ids.FN_IMP_RUN_BUTTON, "disabled"), True, False),
                 (Output(ids.FN_IMP_CANCEL_BUTTON, "disabled"), False, True)],
        progress=[Output(ids.FN_IMP_PROGRESS, "value"), Output(ids.FN_IMP_PROGRESS, "max"),
                  Output(ids.FN_IMP_PROGRESS_TEXT, "children")],
        cancel=[Input(ids.FN_IMP_CANCEL_BUTTON, "n_clicks")],
        prevent_initial_call=True,
    )(lambda set_progress, *a: run_importance(set_progress, ctx, *a))
    app.callback(
        Output(ids.FN_IMP_SET_RADIO, "options"),
        Output(ids.FN_IMP_SET_RADIO, "value"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        State(ids.FN_IMP_SET_RADIO, "value"),
    )(lambda m, current: image_set_options(ctx, m, current))
