"""Compare page callbacks: a background run with progress and cancel, then cheap re-rendering and exports.

``compute`` (a background callback) explains the chosen image with every
chosen method for the top-k classes, scores each map, stores the maps and
curves in the server's :class:`~dashboard.arrays.ArrayStore` and returns a
small JSON record of keys and scores.  Each (model, image, method, parameters,
score, class, fill, sanity) result is cached, so returning to an earlier
setting skips the work.  ``render`` turns the record into the figures (cheap:
scale and gamma changes do not recompute), ``export`` serves the downloads.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import OrderedDict

import numpy as np
from dash import ALL, Input, Output, State, dcc, html, no_update
from dash import ctx as dash_ctx

from dashboard import ids
from dashboard.components.controls import is_on, message
from dashboard.figures.compare import Cell, curves_figure, honest_scale, map_grid
from dashboard.figures.images import message_figure, to_png_data_uri
from xai_core.attributions import make, method_spec
from xai_core.attributions.registry import METHODS, validate_params
from xai_core.metrics import (
    cascading_randomisation,
    completeness_residual,
    deletion_curve,
    insertion_curve,
    mu_fidelity,
)
from xai_core.metrics.common import scorer

from .common import AppContext, UserError, as_choice, as_int, cache_key, get_entry, user_errors
from .kernels import default_layers, short_name

SCORES = ("probability", "logit")
FILLS = ("zero", "mean", "blur")
CURVE_STEPS = 20
_CACHE_SIZE = 512
MAX_LAYER_OPTIONS = 40  # layer menus on big models (MobileNetV2 has 150+ spatial layers) list this many
_results: OrderedDict = OrderedDict()
_results_lock = threading.Lock()


def _cache_get(key):
    with _results_lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
    return None


def _cache_put(key, value) -> None:
    with _results_lock:
        _results[key] = value
        while len(_results) > _CACHE_SIZE:
            _results.popitem(last=False)


def collect_params(methods, values, value_ids, layers, layer_ids) -> dict[str, dict]:
    """``{method: {param: value}}`` from the page's pattern-matching controls, validated by the registry."""
    raw: dict[str, dict] = {m: {} for m in methods}
    for value, cid in list(zip(values or [], value_ids or [])) + list(zip(layers or [], layer_ids or [])):
        if cid["method"] in raw:
            spec = next(p for p in method_spec(cid["method"]).params if p.name == cid["param"])
            raw[cid["method"]][cid["param"]] = is_on(value) if spec.kind == "bool" else value
    out = {}
    for m, params in raw.items():
        try:
            out[m] = validate_params(m, params)
        except ValueError as exc:
            raise UserError(f"{method_spec(m).label}: {exc}") from None
    return out


def input_range(entry):
    """``(low, high)`` of the model's inputs: the model input of a black and of a white image. Per channel
    (float32 ``(C,)`` arrays) for uploads standardised with per-channel mean/std, else two numbers."""
    if not entry.is_uploaded:
        return entry.spec.value_range
    from models.intake import preprocess

    c = entry.input_shape[2]
    lo, hi = (preprocess(np.full((1, 1, c), v, np.float32), entry.intake)[0, 0] for v in (0.0, 1.0))
    if np.ptp(lo) == 0 and np.ptp(hi) == 0:
        return float(lo[0]), float(hi[0])
    return lo, hi


def resolve_layers(entry, params: dict[str, dict]) -> dict[str, dict]:
    """``params`` with each unset ``layer`` (or one this model does not have) replaced by the model's CAM
    layer (``entry.cam_layer``: for uploads the one chosen at upload, which may differ from the last
    spatial layer)."""
    from xai_core.attributions.gradcam import spatial_layers

    out, known = {}, None
    for key, p in params.items():
        if "layer" in p and p["layer"]:
            # A layer of the previously chosen model: the model menu triggers a run before the layer
            # menus have been refilled for the new model, so fall back to this model's CAM layer.
            known = set(spatial_layers(entry.score_model(True))) if known is None else known
            if p["layer"] not in known:
                p = {**p, "layer": None}
        if "layer" in p and not p["layer"]:
            if entry.cam_layer is None:
                raise UserError(f"{entry.spec.title} has no layer with a spatial output, so CAM methods do not apply")
            p = {**p, "layer": entry.cam_layer}
        out[key] = p
    return out


def _method_cells(ctx: AppContext, entry, image: int, x: np.ndarray, key: str, params: dict, score: str,
                  classes: list[int], fill: str, sanity: bool, progress) -> dict[int, dict]:
    """Maps, curves and scores of one method for each class (cached per class)."""
    base = [str(ctx.settings.cache_dir), cache_key(entry), image, key, json.dumps(params, sort_keys=True), score, fill,
            sanity]
    found = {c: _cache_get(json.dumps([*base, c])) for c in classes}
    missing = [c for c, v in found.items() if v is None or v["map"] not in ctx.arrays]
    if missing:
        model = entry.score_model(score == "probability")
        value_range = input_range(entry)
        low = value_range[0]  # black: what "zero" fills with (0-255, [-1, 1], standardised inputs)
        explainer = make(key, model, params, background=entry.x, value_range=value_range)
        score_fn = scorer(model)
        t0 = time.perf_counter()
        maps = explainer.explain(np.repeat(x[None], len(missing), axis=0), missing,
                                 progress=lambda f: progress(0.7 * f))
        ms = (time.perf_counter() - t0) * 1000.0 / len(missing)
        spec = method_spec(key)
        for i, (c, a) in enumerate(zip(missing, maps)):
            dele = deletion_curve(score_fn, x, a, c, steps=CURVE_STEPS, fill=fill, low=low)
            ins = insertion_curve(score_fn, x, a, c, steps=CURVE_STEPS, fill=fill, low=low)
            scores = {"del": dele.auc, "ins": ins.auc, "μF": mu_fidelity(score_fn, x, a, c, fill=fill, low=low)}
            if spec.sums_to_delta:
                b = explainer.baseline(x[None])[0]
                fx, fb = score_fn(np.stack([x, b]))[:, c]
                scores["res"] = completeness_residual(a, fx, fb)[1]
            if sanity:
                steps = cascading_randomisation(
                    model, lambda m, c=c: make(key, m, params, background=entry.x,
                                               value_range=value_range).explain(x, c)[0])
                scores["ρ"], scores["ssim"] = steps[-1].spearman, steps[-1].ssim
            curves = np.stack([dele.fractions, dele.scores, ins.scores]).astype(np.float32)
            value = {"map": ctx.arrays.put(a), "curves": ctx.arrays.put(curves), "scores": scores, "ms": ms}
            _cache_put(json.dumps([*base, c]), value)
            found[c] = value
            progress(0.7 + 0.3 * (i + 1) / len(missing))
    return {c: found[c] for c in classes}


@user_errors(n_outputs=2, message_index=1)
def compute(ctx: AppContext, set_progress, _n_clicks, model, image, methods, k, score, fill, sanity_value,
            values=None, value_ids=None, layers=None, layer_ids=None):
    """Outputs: result record (for the store), message."""
    entry = get_entry(ctx, model)
    image = as_int(image, "Image", 0, entry.n_samples - 1)
    k = as_int(k, "Classes", 1, min(5, len(entry.class_names)))
    score = as_choice(score, "Score", SCORES)
    fill = as_choice(fill, "Fill", FILLS)
    methods = [m for m in (methods or []) if m in METHODS]
    if not methods:
        raise UserError("choose at least one method")
    params = resolve_layers(entry, collect_params(methods, values, value_ids, layers, layer_ids))
    sanity = is_on(sanity_value)
    import tensorflow as tf

    x, _ = entry.sample(image)
    probs = entry.predict(x)
    classes = [int(c) for c in np.argsort(-probs, kind="stable")[:k]]
    set_progress(("0", f"0 of {len(methods)} methods"))
    cells = {}
    for i, key in enumerate(methods):
        def progress(f, i=i, key=key):
            done = (i + f) / len(methods)
            set_progress((f"{done:.3f}", f"{method_spec(key).label}: {i + 1} of {len(methods)} methods"))

        try:
            with tf.device(entry.device.name):  # the registry's device (auto, cpu or gpu:N)
                per_class = _method_cells(ctx, entry, image, x, key, params[key], score, classes, fill, sanity,
                                          progress)
        except ValueError as exc:
            raise UserError(f"{method_spec(key).label}: {exc}") from None
        cells.update({f"{key}|{c}": v for c, v in per_class.items()})
    set_progress(("1", f"done: {len(methods)} method(s) × {k} class(es)"))
    record = {
        "model": entry.name, "image": image, "image_hash": ctx.arrays.key_of(x), "score": score, "fill": fill,
        "sanity": sanity, "classes": classes, "probabilities": [float(probs[c]) for c in classes],
        "methods": [{"key": m, "label": method_spec(m).label, "params": params[m]} for m in methods],
        "cells": cells,
    }
    return record, message(None)


def _cells(ctx: AppContext, record: dict, entry) -> list[list[Cell]]:
    rows = []
    for m in record["methods"]:
        row = []
        for c, p in zip(record["classes"], record["probabilities"]):
            cell = record["cells"][f"{m['key']}|{c}"]
            shown = {k: v for k, v in cell["scores"].items() if k != "ssim"}
            row.append(Cell(m["label"], entry.class_names[c], p, ctx.arrays.get(cell["map"]), shown))
        rows.append(row)
    return rows


def _table(record: dict, entry) -> html.Table:
    head = ["Method", "Class", "Deletion AUC ↓", "Insertion AUC ↑", "MuFidelity ↑", "Completeness residual",
            "Sanity ρ / SSIM", "ms / map"]
    body = []
    for m in record["methods"]:
        for c in record["classes"]:
            cell = record["cells"][f"{m['key']}|{c}"]
            s = cell["scores"]
            res = f"{s['res']:.2%}" if "res" in s else "—"
            sanity = f"{s['ρ']:.2f} / {s['ssim']:.2f} {'fails' if s['ρ'] >= 0.5 else 'passes'}" if "ρ" in s else "—"
            body.append(html.Tr([html.Td(m["label"]), html.Td(entry.class_names[c]), html.Td(f"{s['del']:.3f}"),
                                 html.Td(f"{s['ins']:.3f}"), html.Td(f"{s['μF']:.3f}"), html.Td(res),
                                 html.Td(sanity), html.Td(f"{cell['ms']:.0f}")]))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)], className="table")


def render(ctx: AppContext, record, clip, gamma):
    """Outputs: map grid, curves figure, scores table, caption, export options, export value, message."""
    if not record:
        return (message_figure("Choose methods and press Run."), curves_figure([]), None, "", [], None, no_update)
    try:
        entry = get_entry(ctx, record["model"])
        clip = float(clip if clip is not None else 99.0)
        gamma = float(gamma if gamma is not None else 1.0)
        x, _ = entry.sample(record["image"])
        rows = _cells(ctx, record, entry)
        # the input as the user sees it: to_display undoes 0-255 / [-1, 1] / mean-std scaling and BGR order
        grid = map_grid(entry.to_display(x), rows, clip=clip, gamma=gamma, image_range=(0.0, 1.0))
    except (UserError, KeyError, ValueError) as exc:
        text = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
        return (no_update,) * 6 + (message(text[:1].upper() + text[1:]),)
    curves = []
    for m in record["methods"]:
        for c in record["classes"]:
            frac, dele, ins = ctx.arrays.get(record["cells"][f"{m['key']}|{c}"]["curves"])
            curves.append((m["label"], entry.class_names[c], frac, dele, ins))
    options = [{"label": f"{m['label']} → {entry.class_names[c]}", "value": f"{m['key']}|{c}"}
               for m in record["methods"] for c in record["classes"]]
    fill = "black" if record["fill"] == "zero" else record["fill"]
    caption = (f"{entry.spec.title} · sample {record['image']} · {record['score']} scores · "
               f"top {len(record['classes'])} class(es) · removed pixels become {fill} · "
               f"colour limit per row: the {clip:g}th percentile of |map|, gamma {gamma:g}")
    return grid, curves_figure(curves), _table(record, entry), caption, options, options[0]["value"], message(None)


def snippet(record: dict, cell_key: str) -> str:
    """A notebook snippet that reproduces one map with ``xai_core``."""
    key, c = cell_key.split("|")
    params = next(m["params"] for m in record["methods"] if m["key"] == key)
    model_expr = "entry.model" if record["score"] == "probability" else "entry.logits_model"
    background = ", background=entry.x" if key == "expected_gradients" else ""
    return (
        "from callbacks.compare import input_range\n"
        "from models import default_registry\n"
        "from xai_core.attributions import make\n\n"
        f"entry = default_registry().get({record['model']!r})\n"
        f"x, _ = entry.sample({record['image']})  # sha256 {record['image_hash'][:16]}…\n"
        f"explainer = make({key!r}, {model_expr}, {params!r}{background},\n"
        "                 value_range=input_range(entry))\n"
        f"attribution = explainer.explain(x[None], [{int(c)}])[0]  # (H, W, C) float32\n"
    )


def _map_png(a: np.ndarray) -> bytes:
    """The map (summed over channels, 99th-percentile symmetric limit) as PNG: red > 0, white 0, blue < 0."""
    import base64

    (z,), _ = honest_scale([a], 99.0, 1.0)
    rgb = np.ones((*z.shape, 3))
    pos, neg = np.clip(z, 0, 1), np.clip(-z, 0, 1)
    rgb[..., 1] -= pos + neg
    rgb[..., 2] -= pos
    rgb[..., 0] -= neg
    uri = to_png_data_uri(np.clip(rgb, 0, 1))
    return base64.b64decode(uri.split(",", 1)[1])


def export(ctx: AppContext, trigger, record, cell_key):
    """The download for the pressed export button (``dcc.Download`` data)."""
    if not record or trigger is None:
        return no_update
    stem = f"kernelscope_{record['model']}_{record['image']}"
    if trigger == ids.COMPARE_EXPORT_CSV_BUTTON:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["method", "class", "deletion_auc", "insertion_auc", "mu_fidelity", "completeness_residual",
                         "sanity_spearman", "sanity_ssim", "ms_per_map", "params"])
        for m in record["methods"]:
            for c in record["classes"]:
                cell = record["cells"][f"{m['key']}|{c}"]
                s = cell["scores"]
                writer.writerow([m["key"], c, s["del"], s["ins"], s["μF"], s.get("res", ""), s.get("ρ", ""),
                                 s.get("ssim", ""), round(cell["ms"], 3), json.dumps(m["params"], sort_keys=True)])
        return dcc.send_string(buf.getvalue(), f"{stem}_metrics.csv")
    if trigger == ids.COMPARE_EXPORT_JSON_BUTTON:
        session = {k: record[k] for k in ("model", "image", "image_hash", "score", "fill", "sanity", "classes",
                                          "methods")}
        session["snippets"] = {k: snippet(record, k) for k in record["cells"]}
        return dcc.send_string(json.dumps(session, indent=2, ensure_ascii=False), f"{stem}_session.json")
    if not cell_key or cell_key not in record["cells"]:
        return no_update
    a = ctx.arrays.get(record["cells"][cell_key]["map"])
    name = f"{stem}_{cell_key.replace('|', '_class')}"
    if trigger == ids.COMPARE_EXPORT_NPY_BUTTON:
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        return dcc.send_bytes(buf.getvalue(), f"{name}.npy")
    if trigger == ids.COMPARE_EXPORT_PNG_BUTTON:
        return dcc.send_bytes(_map_png(a), f"{name}.png")
    return no_update


def layer_options(ctx: AppContext, model, layer_ids):
    """Options of every layer menu: the chosen model's layers with a spatial output, at most
    ``MAX_LAYER_OPTIONS`` evenly spaced ones on big models (the CAM layer always included); the
    value is the CAM layer (``entry.cam_layer``)."""
    from xai_core.attributions.gradcam import spatial_layers

    try:
        entry = get_entry(ctx, model)
    except UserError:
        return [[] for _ in layer_ids], [None for _ in layer_ids]
    keys = spatial_layers(entry.score_model(True))
    shown = set(default_layers(keys, MAX_LAYER_OPTIONS))
    if entry.cam_layer in keys:
        shown.add(entry.cam_layer)
    options = [{"label": f"{i + 1}. {short_name(k)}" + (" (CAM layer)" if k == entry.cam_layer else ""),
                "value": k, "title": k} for i, k in enumerate(keys) if k in shown]
    value = entry.cam_layer if entry.cam_layer in keys else None
    return [options for _ in layer_ids], [value for _ in layer_ids]


def register(app, ctx: AppContext) -> None:
    param = {"type": ids.COMPARE_PARAM_TYPE, "method": ALL, "param": ALL}
    layer = {"type": ids.COMPARE_LAYER_PARAM_TYPE, "method": ALL, "param": ALL}
    app.callback(
        Output(ids.COMPARE_RESULT_STORE, "data"),
        Output(ids.COMPARE_MESSAGE, "children"),
        Input(ids.COMPARE_RUN_BUTTON, "n_clicks"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        State(ids.COMPARE_IMAGE_INPUT, "value"),
        State(ids.COMPARE_METHODS_CHECKLIST, "value"),
        State(ids.COMPARE_TOPK_SLIDER, "value"),
        State(ids.COMPARE_SCORE_RADIO, "value"),
        State(ids.COMPARE_FILL_RADIO, "value"),
        State(ids.COMPARE_SANITY_SWITCH, "value"),
        State(param, "value"),
        State(param, "id"),
        State(layer, "value"),
        State(layer, "id"),
        background=True,
        progress=[Output(ids.COMPARE_PROGRESS, "value"), Output(ids.COMPARE_PROGRESS_TEXT, "children")],
        running=[(Output(ids.COMPARE_RUN_BUTTON, "disabled"), True, False),
                 (Output(ids.COMPARE_CANCEL_BUTTON, "disabled"), False, True)],
        cancel=[Input(ids.COMPARE_CANCEL_BUTTON, "n_clicks")],
    )(lambda set_progress, *args: compute(ctx, set_progress, *args))
    app.callback(
        Output(ids.COMPARE_GRID_GRAPH, "figure"),
        Output(ids.COMPARE_CURVES_GRAPH, "figure"),
        Output(ids.COMPARE_METRICS_TABLE, "children"),
        Output(ids.COMPARE_CAPTION_TEXT, "children"),
        Output(ids.COMPARE_EXPORT_DROPDOWN, "options"),
        Output(ids.COMPARE_EXPORT_DROPDOWN, "value"),
        Output(ids.COMPARE_MESSAGE, "children", allow_duplicate=True),
        Input(ids.COMPARE_RESULT_STORE, "data"),
        Input(ids.COMPARE_CLIP_SLIDER, "value"),
        Input(ids.COMPARE_GAMMA_SLIDER, "value"),
        prevent_initial_call="initial_duplicate",
    )(lambda *args: render(ctx, *args))
    app.callback(
        Output(ids.COMPARE_DOWNLOAD, "data"),
        Input(ids.COMPARE_EXPORT_PNG_BUTTON, "n_clicks"),
        Input(ids.COMPARE_EXPORT_NPY_BUTTON, "n_clicks"),
        Input(ids.COMPARE_EXPORT_CSV_BUTTON, "n_clicks"),
        Input(ids.COMPARE_EXPORT_JSON_BUTTON, "n_clicks"),
        State(ids.COMPARE_RESULT_STORE, "data"),
        State(ids.COMPARE_EXPORT_DROPDOWN, "value"),
        prevent_initial_call=True,
    )(lambda *args: export(ctx, dash_ctx.triggered_id, args[-2], args[-1]))
    app.callback(
        Output(ids.COMPARE_SNIPPET_TEXT, "children"),
        Input(ids.COMPARE_EXPORT_DROPDOWN, "value"),
        State(ids.COMPARE_RESULT_STORE, "data"),
    )(lambda key, record: snippet(record, key) if record and key and key in record["cells"] else "")
    app.callback(
        Output(layer, "options"),
        Output(layer, "value"),
        Input(ids.APP_MODEL_DROPDOWN, "value"),
        State(layer, "id"),
    )(lambda model, layer_ids: layer_options(ctx, model, layer_ids))
