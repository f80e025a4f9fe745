"""The frame around every page: navigation bar, global model picker, app-wide messages."""

from __future__ import annotations

import dash
from dash import dcc, html

from . import ids


def model_options(registry) -> list[dict]:
    return [{"label": f"{registry.spec(n).title}", "value": n} for n in registry.names()]


def layout(registry, default_model: str | None = None):
    """The shell layout function (called on every page load)."""
    names = registry.names()
    default = default_model if default_model in names else (names[0] if names else None)
    links = [
        dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
        if page.get("nav", True)
    ]
    return html.Div(
        [
            html.Header(
                [
                    dcc.Link([html.Span("◧", className="brand-mark"), "KernelScope"], href="/",
                             className="brand"),
                    html.Nav(links, id=ids.APP_NAV, className="nav"),
                    html.Div(
                        [
                            html.Label("Model", htmlFor=ids.APP_MODEL_DROPDOWN, className="model-label"),
                            dcc.Dropdown(
                                id=ids.APP_MODEL_DROPDOWN,
                                options=model_options(registry),
                                value=default,
                                clearable=False,
                                searchable=False,
                                persistence=True,
                                persistence_type="session",
                                className="model-dropdown",
                            ),
                        ],
                        className="model-picker",
                    ),
                ],
                className="navbar",
            ),
            html.Div(id=ids.APP_MODEL_INFO, className="model-info"),
            html.Div(id=ids.APP_ERROR_ALERT, className="app-error", n_clicks=0,
                     title="Click to dismiss"),
            html.Main(dash.page_container, className="page"),
            html.Footer(
                "KernelScope · Fourier views, convolution and relevance maps for CNNs",
                className="footer",
            ),
        ],
        className="app",
    )
