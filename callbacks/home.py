"""Home page callbacks: the device line and the table of models."""

from __future__ import annotations

from dash import Input, Output, dcc, html

from dashboard import ids

from .common import AppContext


def device_text(ctx: AppContext):
    dev = ctx.registry.device
    return [html.Span("Computation runs on ", className="muted"), html.Strong(dev.label),
            html.Span(f" ({dev.name})", className="muted")]


def models_table(ctx: AppContext):
    head = html.Tr([html.Th(h) for h in ("Model", "Data", "Input", "Classes", "Test accuracy", "Trained by")])
    rows = []
    for name in ctx.registry.names():
        spec = ctx.registry.spec(name)
        meta = ctx.registry.meta(name)
        acc = meta.get("test_accuracy")
        h, w, c = spec.input_shape
        uploaded = not spec.builtin
        rows.append(html.Tr([
            html.Td([html.Strong(name), html.Br(), html.Span(spec.title, className="muted")]),
            html.Td(spec.dataset),
            html.Td(f"{h}×{w}×{c}"),
            html.Td(str(spec.n_classes)),
            html.Td("not measured" if uploaded else
                    "not trained" if acc is None else f"{acc:.4f} (n = {meta.get('n_test')})"),
            html.Td(dcc.Link("uploaded (Your models)", href="/models") if uploaded else
                    html.Code(spec.train_command)),
        ]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="table")


def register(app, ctx: AppContext) -> None:
    app.callback(Output(ids.HOME_DEVICE_TEXT, "children"), Output(ids.HOME_MODELS_TABLE, "children"),
                 Input(ids.HOME_DEVICE_TEXT, "id"))(lambda _id: (device_text(ctx), models_table(ctx)))
