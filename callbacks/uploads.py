"""Callbacks of the "Your models" page and the global model menu's refresh after an upload."""

from __future__ import annotations

import logging

from dash import Input, Output, State, html, no_update
from dash import ctx as dash_ctx

from dashboard import ids, shell
from dashboard.components.controls import message

from .common import AppContext, UserError, decode_upload, user_errors

log = logging.getLogger("kernelscope.uploads")


def uploads_of(ctx: AppContext):
    uploads = ctx.registry.uploads
    if uploads is None:
        raise UserError("uploads are switched off on this server (no store directory)")
    return uploads


def limits_of(ctx: AppContext):
    from xai_core.archives import Limits

    return Limits()


def files_text(model_name, samples_name, classes_name):
    from xai_core.archives import safe_filename

    parts = []
    for label, name in (("model", model_name), ("samples", samples_name), ("class names", classes_name)):
        if name:
            parts.append(f"{label}: {safe_filename(name)}")
    return " · ".join(parts) if parts else "No files chosen yet."


def upload_options(ctx: AppContext) -> list[dict]:
    uploads = ctx.registry.uploads
    if uploads is None:
        return []
    return [{"label": f"{m.title} ({m.name})", "value": m.name} for m in uploads.store.list()]


def models_table(ctx: AppContext):
    uploads = ctx.registry.uploads
    rows = [] if uploads is None else uploads.store.list()
    if not rows:
        return html.P("No uploaded models yet.", className="muted")
    loaded = set(uploads.loaded_names())
    head = html.Tr([html.Th(h) for h in ("Model", "File", "Input", "Classes", "Samples", "In memory")])
    body = []
    for m in rows:
        meta = m.meta
        shape = meta["intake"].get("input_shape") or ["?", "?", "?"]
        names = meta.get("class_names") or []
        body.append(html.Tr([
            html.Td([html.Strong(m.title), html.Br(), html.Code(m.name)]),
            html.Td(meta.get("original_filename", "")),
            html.Td("×".join(str(v) for v in shape)),
            html.Td(f"{len(names)}: " + ", ".join(names[:6]) + (" …" if len(names) > 6 else "")),
            html.Td(f"{meta.get('n_samples', 0)}" + ("" if meta.get("has_labels") else " (no labels)")),
            html.Td("yes" if m.name in loaded else "no"),
        ]))
    return html.Table([html.Thead(head), html.Tbody(body)], className="table")


def _bump(version, select=None) -> dict:
    n = (version or {}).get("n", 0) if isinstance(version, dict) else 0
    return {"n": n + 1, "select": select}


# Share of an add's time spent in ingest; the rest is the first load and warm-up (compiling the
# gradient functions).  Measured on a nested MobileNetV2: 1.6 s ingest, 2.5 s warm-up.
INGEST_SHARE = 0.4


class Stages:
    """Reports ``(fraction, text)`` stages to a background callback's ``set_progress``
    as ``(value, text)`` for the page's progress bar; remembers the last one."""

    def __init__(self, set_progress=None):
        self.set_progress = set_progress
        self.fraction, self.text = 0.0, ""

    def __call__(self, fraction: float, text: str) -> None:
        self.fraction, self.text = float(fraction), text
        if self.set_progress is not None:
            self.set_progress((f"{self.fraction:.3f}", f"{self.text}…" if self.fraction < 1 else self.text))

    def stopped(self) -> None:
        """Leave the bar where the add stopped, saying so."""
        if self.set_progress is not None:
            self.set_progress((f"{self.fraction:.3f}", f"stopped while {self.text or 'starting'}"))


def add_model(ctx: AppContext, model_contents, model_filename, samples_contents, samples_filename,
              classes_contents, classes_filename, title, height, width, version, set_progress=None):
    """Ingest an upload, then load it once so its first page is quick.

    Returns (message, version, edit options, edit value, table).  ``set_progress``
    (a background callback's) gets ``(value in [0, 1] as text, stage text)`` per stage,
    ending at ``("1.000", "done: ...")``; a refused upload leaves the bar below 1.
    """
    stages = Stages(set_progress)
    try:
        return _add_model(ctx, stages, model_contents, model_filename, samples_contents, samples_filename,
                          classes_contents, classes_filename, title, height, width, version)
    except UserError:
        stages.stopped()
        raise


def _add_model(ctx: AppContext, stages, model_contents, model_filename, samples_contents, samples_filename,
               classes_contents, classes_filename, title, height, width, version):
    from models.uploads import UploadError, ingest

    from .common import as_int

    stages(0.0, "checking files")
    uploads = uploads_of(ctx)
    if not model_contents:
        raise UserError("choose a model file (.keras or .h5) first")
    limit = ctx.settings.max_upload_bytes
    model_bytes = decode_upload(model_contents, limit)
    samples_bytes = decode_upload(samples_contents, limit) if samples_contents else None
    classes_bytes = decode_upload(classes_contents, limit) if classes_contents else None
    size = None
    if height not in (None, "") or width not in (None, ""):
        size = (as_int(height, "Input height", 2, 4096), as_int(width, "Input width", 2, 4096))
    try:
        prepared = _ingest(ingest, uploads, model_bytes, model_filename, samples_bytes, samples_filename,
                           classes_bytes, classes_filename, title, size, limits_of(ctx),
                           lambda f, text: stages(INGEST_SHARE * f, text))
    except UploadError as exc:
        raise UserError(str(exc)) from None
    stored = prepared.stored
    uploads.forget(stored.name)
    stages(INGEST_SHARE, "warming up")
    try:
        ctx.registry.get(stored.name)  # loads and warms it up: the first page on it is quick
    except Exception as exc:  # the model is stored; it loads (or reports) on first use
        log.warning("warming up %s failed: %s", stored.name, exc)
        prepared.notes.append(f"loading it once after the upload failed ({exc}); it loads on first use")
    stages(1.0, f"done: added {stored.title}")
    notes = "; ".join(prepared.notes)
    text = f"Added {stored.title} as {stored.name}; it is now in the model menu."
    text += f" Notes: {notes}." if notes else ""
    return (message(text, "info"), _bump(version, stored.name), upload_options(ctx), stored.name,
            models_table(ctx))


def _ingest(ingest, uploads, model_bytes, model_filename, samples_bytes, samples_filename, classes_bytes,
            classes_filename, title, size, limits, progress=None):
    return ingest(uploads.store, model_bytes, model_filename, samples_bytes=samples_bytes,
                  samples_filename=samples_filename, classes_bytes=classes_bytes, classes_filename=classes_filename,
                  title=title, input_size=size, limits=limits, progress=progress)


def delete_model(ctx: AppContext, name, version):
    uploads = uploads_of(ctx)
    if not name:
        raise UserError("choose an uploaded model to delete")
    try:
        title = uploads.stored(name).title
        uploads.delete(name)
    except KeyError as exc:
        raise UserError(str(exc)) from None
    options = upload_options(ctx)
    return (message(f"Deleted {title} ({name}).", "info"), _bump(version), options,
            options[-1]["value"] if options else None, models_table(ctx))


def _floats(text, name: str, n: int) -> list[float]:
    import math

    parts = [p for p in str(text or "").replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise UserError(f"{name} must be {n} number(s) separated by commas, got {text!r}") from None
    if len(values) == 1 and n > 1:
        values = values * n
    if len(values) < n or not all(math.isfinite(v) for v in values):
        raise UserError(f"{name} must be {n} number(s) separated by commas, got {text!r}")
    return values[:n] + [values[-1]] * (3 - n)


def save_intake(ctx: AppContext, name, scaling, mean, std, order, output, kind, cam, version):
    from models.intake import Intake, IntakeError, cam_candidates  # noqa: F401

    uploads = uploads_of(ctx)
    if not name:
        raise UserError("choose an uploaded model first")
    try:
        stored = uploads.stored(name)
    except KeyError as exc:
        raise UserError(str(exc)) from None
    intake = Intake.from_dict(stored.meta["intake"])
    c = intake.channels or 3
    intake.scaling = scaling
    if scaling == "meanstd":
        intake.mean = _floats(mean, "Mean", c)
        intake.std = _floats(std, "Std", c)
    intake.channel_order = order or "RGB"
    try:
        new_output = int(output if output is not None else intake.output_index)
    except (TypeError, ValueError):
        raise UserError(f"output must be a number, got {output!r}") from None
    intake.output_kind = kind
    if new_output != intake.output_index:
        k = intake.output_shapes[new_output][1] if 0 <= new_output < len(intake.output_shapes) else None
        intake.output_index = new_output
        if k is not None:
            intake.n_classes = 2 if kind in ("sigmoid", "logit1") else int(k)
    else:
        k = intake.output_shapes[intake.output_index][1] if intake.output_shapes else intake.n_classes
        intake.n_classes = 2 if kind in ("sigmoid", "logit1") else int(k)
    intake.cam_layer = cam or None
    try:
        uploads.update_intake(name, intake)
    except (IntakeError, ValueError) as exc:
        raise UserError(str(exc)) from None
    return message(f"Saved the settings of {stored.title}.", "info"), _bump(version, name), no_update, no_update, \
        models_table(ctx)


@user_errors(n_outputs=5, message_index=0)
def act(ctx: AppContext, trigger, model_contents, model_filename, samples_contents, samples_filename,
        classes_contents, classes_filename, title, height, width, edit_name, scaling, mean, std, order, output,
        kind, cam, version, set_progress=None):
    """The page's buttons.  Outputs: message, version, edit options, edit value, table.

    Add runs as a background callback with ``set_progress`` (see :func:`add_model`);
    save, delete and the first listing run as a plain callback.
    """
    if trigger == ids.MODELS_ADD_BUTTON:
        return add_model(ctx, model_contents, model_filename, samples_contents, samples_filename,
                         classes_contents, classes_filename, title, height, width, version, set_progress)
    if trigger == ids.MODELS_DELETE_BUTTON:
        return delete_model(ctx, edit_name, version)
    if trigger == ids.MODELS_SAVE_BUTTON:
        return save_intake(ctx, edit_name, scaling, mean, std, order, output, kind, cam, version)
    options = upload_options(ctx)
    return None, no_update, options, options[-1]["value"] if options else None, models_table(ctx)


@user_errors(n_outputs=11, message_index=10)
def show_intake(ctx: AppContext, name, _version):
    """Outputs: intake text, scaling, mean, std, order, output options, output, kind, CAM options, CAM, message."""
    from models.intake import OUTPUT_KINDS, Intake

    if not name:
        return (html.P("Upload a model to see its intake settings.", className="muted"), *[no_update] * 9,
                no_update)
    try:
        stored = uploads_of(ctx).stored(name)
    except KeyError as exc:
        raise UserError(str(exc)) from None
    intake = Intake.from_dict(stored.meta["intake"])
    items = [
        html.Li(["input: ", html.Strong("×".join(map(str, intake.input_shape or ["?"]))), " — ",
                 intake.reasons.get("input_shape", "")]),
        html.Li(["values: ", html.Strong(intake.describe_scaling()), " — ", intake.reasons.get("scaling", "")]),
        html.Li(["channel order: ", html.Strong(intake.channel_order), " — ",
                 intake.reasons.get("channel_order", "")]),
        html.Li(["output: ", html.Strong(f"{intake.output_index} of {intake.n_outputs}, "
                                         f"{OUTPUT_KINDS.get(intake.output_kind, intake.output_kind)}"),
                 f", {intake.n_classes} classes — ", intake.reasons.get("output_kind", "")]),
        html.Li(["CAM layer: ", html.Strong(intake.cam_layer or "none"), " — ", intake.reasons.get("cam_layer", "")]),
        html.Li(["class names: ", ", ".join((stored.meta.get("class_names") or [])[:10]), " — ",
                 stored.meta.get("class_names_source", "")]),
    ]
    items += [html.Li(["not supported: ", text], className="warning") for text in intake.unsupported]
    items += [html.Li(["note: ", text]) for text in stored.meta.get("notes", [])]
    outputs = [{"label": f"{i}: {tuple(s)}", "value": i} for i, s in enumerate(intake.output_shapes)]
    cams = _cam_options(stored, intake)
    return (html.Ul(items), intake.scaling, ", ".join(f"{v:g}" for v in intake.mean[: intake.channels or 3]),
            ", ".join(f"{v:g}" for v in intake.std[: intake.channels or 3]), intake.channel_order, outputs,
            intake.output_index, intake.output_kind, cams, intake.cam_layer, no_update)


def _cam_options(stored, intake) -> list[dict]:
    keys = stored.meta.get("cam_candidates") or ([intake.cam_layer] if intake.cam_layer else [])
    return [{"label": k, "value": k} for k in keys]


def refresh_menu(ctx: AppContext, version, current):
    """The global model menu after an upload, a change or a delete."""
    options = shell.model_options(ctx.registry)
    values = [o["value"] for o in options]
    select = version.get("select") if isinstance(version, dict) else None
    if select in values:
        return options, select
    return options, current if current in values else (values[0] if values else None)


def _add_manager(ctx: AppContext):
    import diskcache

    from dashboard.background import ThreadedDiskcacheManager

    folder = ctx.settings.cache_dir / "background-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return ThreadedDiskcacheManager(diskcache.Cache(str(folder), size_limit=1 << 28), expire=3600)


def register(app, ctx: AppContext) -> None:
    from dashboard.pages import uploads as page

    page.MAX_UPLOAD_BYTES = ctx.settings.max_upload_bytes
    app.callback(
        Output(ids.MODELS_FILES_TEXT, "children"),
        Input(ids.MODELS_MODEL_UPLOAD, "filename"),
        Input(ids.MODELS_SAMPLES_UPLOAD, "filename"),
        Input(ids.MODELS_CLASSES_UPLOAD, "filename"),
    )(files_text)

    def _act(*args):
        trigger = dash_ctx.triggered_id
        return act(ctx, trigger, *args)

    states = [
        State(ids.MODELS_MODEL_UPLOAD, "contents"),
        State(ids.MODELS_MODEL_UPLOAD, "filename"),
        State(ids.MODELS_SAMPLES_UPLOAD, "contents"),
        State(ids.MODELS_SAMPLES_UPLOAD, "filename"),
        State(ids.MODELS_CLASSES_UPLOAD, "contents"),
        State(ids.MODELS_CLASSES_UPLOAD, "filename"),
        State(ids.MODELS_TITLE_INPUT, "value"),
        State(ids.MODELS_HEIGHT_INPUT, "value"),
        State(ids.MODELS_WIDTH_INPUT, "value"),
        State(ids.MODELS_EDIT_DROPDOWN, "value"),
        State(ids.MODELS_SCALING_DROPDOWN, "value"),
        State(ids.MODELS_MEAN_INPUT, "value"),
        State(ids.MODELS_STD_INPUT, "value"),
        State(ids.MODELS_ORDER_RADIO, "value"),
        State(ids.MODELS_OUTPUT_DROPDOWN, "value"),
        State(ids.MODELS_KIND_DROPDOWN, "value"),
        State(ids.MODELS_CAM_DROPDOWN, "value"),
        State(ids.MODELS_VERSION_STORE, "data"),
    ]
    app.callback(
        Output(ids.MODELS_MESSAGE, "children"),
        Output(ids.MODELS_VERSION_STORE, "data"),
        Output(ids.MODELS_EDIT_DROPDOWN, "options"),
        Output(ids.MODELS_EDIT_DROPDOWN, "value"),
        Output(ids.MODELS_LIST_TABLE, "children"),
        Input(ids.MODELS_SAVE_BUTTON, "n_clicks"),
        Input(ids.MODELS_DELETE_BUTTON, "n_clicks"),
        *states,
    )(lambda _s, _d, *rest: _act(*rest))
    # Adding takes seconds (safe load, checks, a forward pass, warm-up): a background callback with a
    # progress bar.  Its own manager without cache_by: an add must never be answered from a cached result.
    app.callback(
        Output(ids.MODELS_MESSAGE, "children", allow_duplicate=True),
        Output(ids.MODELS_VERSION_STORE, "data", allow_duplicate=True),
        Output(ids.MODELS_EDIT_DROPDOWN, "options", allow_duplicate=True),
        Output(ids.MODELS_EDIT_DROPDOWN, "value", allow_duplicate=True),
        Output(ids.MODELS_LIST_TABLE, "children", allow_duplicate=True),
        Input(ids.MODELS_ADD_BUTTON, "n_clicks"),
        *states,
        prevent_initial_call=True,
        background=True,
        manager=_add_manager(ctx),
        progress=[Output(ids.MODELS_PROGRESS, "value"), Output(ids.MODELS_PROGRESS_TEXT, "children")],
        running=[(Output(ids.MODELS_ADD_BUTTON, "disabled"), True, False)],
    )(lambda set_progress, _n, *rest: act(ctx, ids.MODELS_ADD_BUTTON, *rest, set_progress=set_progress))
    app.callback(
        Output(ids.MODELS_INTAKE_TEXT, "children"),
        Output(ids.MODELS_SCALING_DROPDOWN, "value"),
        Output(ids.MODELS_MEAN_INPUT, "value"),
        Output(ids.MODELS_STD_INPUT, "value"),
        Output(ids.MODELS_ORDER_RADIO, "value"),
        Output(ids.MODELS_OUTPUT_DROPDOWN, "options"),
        Output(ids.MODELS_OUTPUT_DROPDOWN, "value"),
        Output(ids.MODELS_KIND_DROPDOWN, "value"),
        Output(ids.MODELS_CAM_DROPDOWN, "options"),
        Output(ids.MODELS_CAM_DROPDOWN, "value"),
        Output(ids.MODELS_MESSAGE, "children", allow_duplicate=True),
        Input(ids.MODELS_EDIT_DROPDOWN, "value"),
        Input(ids.MODELS_VERSION_STORE, "data"),
        prevent_initial_call=True,
    )(lambda name, version: show_intake(ctx, name, version))
    app.callback(
        Output(ids.APP_MODEL_DROPDOWN, "options"),
        Output(ids.APP_MODEL_DROPDOWN, "value"),
        Input(ids.MODELS_VERSION_STORE, "data"),
        State(ids.APP_MODEL_DROPDOWN, "value"),
        prevent_initial_call=True,
    )(lambda version, current: refresh_menu(ctx, version, current))
