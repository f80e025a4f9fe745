"""Shell callbacks: the model info line and the app-wide error alert."""

from __future__ import annotations

from dash import Input, Output, html

from dashboard import ids

from .common import AppContext


def model_info(ctx: AppContext, model: str | None):
    """One line about the selected model, from its spec and metadata (no TensorFlow)."""
    if not model:
        return "No model selected."
    try:
        spec = ctx.registry.spec(model)
    except KeyError as exc:
        return html.Span(str(exc), className="alert-inline")
    meta = ctx.registry.meta(model)
    h, w, c = spec.input_shape
    acc = meta.get("test_accuracy")
    classes = ", ".join(spec.class_names)
    parts = [html.Strong(spec.title), f" · input {h}×{w}×{c} in [{spec.value_range[0]:g}, {spec.value_range[1]:g}]",
             f" · classes: {classes}"]
    if acc is not None:
        parts.append(f" · test accuracy {acc:.3f} (n = {meta.get('n_test')})")
    if not spec.builtin:
        parts.append(" · uploaded")
        for text in (meta.get("intake") or {}).get("unsupported", []):
            parts += [html.Br(), html.Span("Not supported: " + text, className="muted")]
    return parts


def dismiss_error(_n_clicks):
    return None


def register(app, ctx: AppContext) -> None:
    app.callback(Output(ids.APP_MODEL_INFO, "children"), Input(ids.APP_MODEL_DROPDOWN, "value"))(
        lambda model: model_info(ctx, model))
    app.callback(Output(ids.APP_ERROR_ALERT, "children"), Input(ids.APP_ERROR_ALERT, "n_clicks"),
                 prevent_initial_call=True)(dismiss_error)
