"""Compare page: several attribution methods side by side, with their quality scores."""

from __future__ import annotations

from dash import dcc, html

from .. import ids
from ..components.controls import control, graph, message_area, panel, switch

PATH = "/compare"
NAME = "Compare"
DESCRIPTION = ("Attribution methods side by side for the top classes, on one honest scale, with deletion/insertion, "
               "MuFidelity, completeness and sanity-check scores next to every map.")

DEFAULT_METHODS = ["saliency", "integrated_gradients", "gradcam"]


def _param_control(method: str, spec):
    if spec.kind == "layer":
        widget = dcc.Dropdown(id=ids.compare_layer_param(method, spec.name), options=[], value=None,
                              placeholder="last spatial layer", clearable=True, className="layer-dropdown")
    elif spec.kind == "choice":
        widget = dcc.RadioItems(id=ids.compare_param(method, spec.name), value=spec.default, inline=True,
                                options=[{"label": str(c), "value": c} for c in spec.choices], className="radio")
    elif spec.kind == "bool":
        widget = switch(ids.compare_param(method, spec.name), "on", value=bool(spec.default))
    else:
        widget = dcc.Input(id=ids.compare_param(method, spec.name), type="number", value=spec.default,
                           min=spec.min, max=spec.max, step=spec.step, debounce=True, className="number-input")
    return control(spec.label, widget, spec.help or None)


def method_settings():
    """One collapsible block of controls per method that has parameters, built from the registry's specs."""
    from xai_core.attributions.registry import METHODS

    blocks = []
    for key, spec in METHODS.items():
        if not spec.params:
            continue
        blocks.append(html.Details([
            html.Summary(f"{spec.label} ({spec.reference})"),
            html.Div([_param_control(key, p) for p in spec.params], className="controls compare-params"),
        ], className="compare-method-settings"))
    return html.Div(blocks)


def layout(**_query):
    from xai_core.attributions.registry import METHODS

    options = [{"label": f"{m.label}{' (slow)' if m.slow else ''}", "value": k} for k, m in METHODS.items()]
    controls = html.Div(
        [
            control("Image", dcc.Input(id=ids.COMPARE_IMAGE_INPUT, type="number", value=0, min=0, step=1,
                                       debounce=True, className="number-input"),
                    "Index of the model's bundled sample image."),
            control("Classes", dcc.Slider(id=ids.COMPARE_TOPK_SLIDER, min=1, max=5, step=1, value=2,
                                          marks={i: str(i) for i in range(1, 6)}),
                    "Explain the k most probable classes (one column each).", width="200px"),
            control("Score", dcc.RadioItems(id=ids.COMPARE_SCORE_RADIO, value="probability", inline=True,
                                            options=[{"label": "probability", "value": "probability"},
                                                     {"label": "logit", "value": "logit"}], className="radio"),
                    "Explain the softmax probability or the logit before it."),
            control("Removed pixels become", dcc.RadioItems(
                id=ids.COMPARE_FILL_RADIO, value="zero", inline=True, className="radio",
                options=[{"label": v, "value": v} for v in ("zero", "mean", "blur")]),
                "Fill of deletion/insertion and MuFidelity; zero is black, the low end of the model's input range."),
            control("Sanity check", switch(ids.COMPARE_SANITY_SWITCH, "randomise the model", value=False),
                    "Cascading parameter randomisation (slow): Spearman ρ / SSIM with the map of the fully "
                    "randomised model; ρ ≥ 0.5 fails."),
            control("Clip percentile", dcc.Slider(id=ids.COMPARE_CLIP_SLIDER, min=90, max=100, step=0.5, value=99,
                                                  marks={90: "90", 95: "95", 99: "99", 100: "100"}),
                    "Each method's row shares one symmetric limit: this percentile of |map|.", width="220px"),
            control("Gamma", dcc.Slider(id=ids.COMPARE_GAMMA_SLIDER, min=0.2, max=2.0, step=0.1, value=1.0,
                                        marks={0.2: "0.2", 0.5: "0.5", 1: "1", 2: "2"}),
                    "< 1 brightens faint evidence.", width="200px"),
        ],
        className="controls",
    )
    run = html.Div(
        [
            html.Button("Run", id=ids.COMPARE_RUN_BUTTON, className="button primary"),
            html.Button("Cancel", id=ids.COMPARE_CANCEL_BUTTON, className="button", disabled=True),
            html.Progress(id=ids.COMPARE_PROGRESS, value="0", max="1", className="compare-progress"),
            html.Span(id=ids.COMPARE_PROGRESS_TEXT, className="muted"),
        ],
        className="button-row compare-run",
    )
    exports = html.Div(
        [
            dcc.Dropdown(id=ids.COMPARE_EXPORT_DROPDOWN, options=[], value=None, placeholder="map to export",
                         clearable=False, className="compare-export-dropdown"),
            html.Button("Map PNG", id=ids.COMPARE_EXPORT_PNG_BUTTON, className="button"),
            html.Button("Map .npy", id=ids.COMPARE_EXPORT_NPY_BUTTON, className="button"),
            html.Button("Metrics CSV", id=ids.COMPARE_EXPORT_CSV_BUTTON, className="button"),
            html.Button("Session JSON", id=ids.COMPARE_EXPORT_JSON_BUTTON, className="button"),
            dcc.Download(id=ids.COMPARE_DOWNLOAD),
        ],
        className="button-row compare-exports",
    )
    return html.Div(
        [
            html.H2("Compare attribution methods"),
            html.P(
                "Pick methods and press Run: each row is a method, each column one of the most probable classes. "
                "Every map is on its row's symmetric scale (red supports the class, blue speaks against it) with "
                "its scores in the title: deletion and insertion areas (Petsiuk et al. 2018), MuFidelity (Bhatt et "
                "al. 2020), the completeness residual for methods that should sum to f(x) − f(baseline), and "
                "optionally a sanity check (Adebayo et al. 2018). Results are cached: going back to an earlier "
                "setting is instant.",
                className="lead",
            ),
            controls,
            panel("Methods", dcc.Checklist(id=ids.COMPARE_METHODS_CHECKLIST, options=options, value=DEFAULT_METHODS,
                                           inline=True, className="switch compare-methods"),
                  method_settings(), subtitle="Open a method to change its parameters."),
            run,
            message_area(ids.COMPARE_MESSAGE),
            dcc.Store(id=ids.COMPARE_RESULT_STORE),
            html.Div(id=ids.COMPARE_CAPTION_TEXT, className="caption"),
            panel("Maps", graph(ids.COMPARE_GRID_GRAPH)),
            panel("Scores", html.Div(id=ids.COMPARE_METRICS_TABLE)),
            panel("Deletion and insertion curves", graph(ids.COMPARE_CURVES_GRAPH)),
            panel("Export", exports, html.Pre(id=ids.COMPARE_SNIPPET_TEXT, className="compare-snippet"),
                  subtitle="Each map as PNG or .npy, the scores as CSV, the session as JSON; the snippet "
                           "reproduces the chosen map in a notebook."),
        ]
    )
