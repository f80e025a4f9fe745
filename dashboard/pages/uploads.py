"""Your models: upload a Keras model with sample images and class names, check its intake settings."""

from __future__ import annotations

from dash import dcc, html

from .. import ids
from ..components.controls import control, message_area, panel

PATH = "/models"
NAME = "Your models"
DESCRIPTION = "Upload your own Keras model, sample images and class names; check and correct how they are read."

MODEL_ACCEPT = ".keras,.h5,.hdf5"
SAMPLES_ACCEPT = ".npz,.zip,.png,.jpg,.jpeg,.tif,.tiff,.bmp"
CLASSES_ACCEPT = ".txt,.json"
MAX_UPLOAD_BYTES = 200 * 2**20  # replaced by the app's setting when callbacks are registered

SCALING_OPTIONS = [
    {"label": "[0, 1]", "value": "unit"},
    {"label": "[0, 255]", "value": "byte"},
    {"label": "[-1, 1]", "value": "symmetric"},
    {"label": "(x − mean) / std", "value": "meanstd"},
]
KIND_OPTIONS = [
    {"label": "probabilities (softmax)", "value": "softmax"},
    {"label": "logits (add a softmax)", "value": "logits"},
    {"label": "one sigmoid unit (two classes p, 1 − p)", "value": "sigmoid"},
    {"label": "one raw score z (two classes)", "value": "logit1"},
]


def _upload(component_id: str, text: str, accept: str):
    return dcc.Upload(
        id=component_id,
        children=html.Div([text, html.Span(f" ({accept.replace(',', ' ')})", className="muted")]),
        accept=accept, multiple=False, max_size=MAX_UPLOAD_BYTES,
        className="upload", className_active="upload active", className_reject="upload reject",
    )


def layout(**_query):
    add = html.Div([
        html.Div([
            _upload(ids.MODELS_MODEL_UPLOAD, "1. Drop a Keras model here or click", MODEL_ACCEPT),
            _upload(ids.MODELS_SAMPLES_UPLOAD, "2. Sample images (optional): .npz with x [and y], a .zip "
                                               "(one folder per class) or one image", SAMPLES_ACCEPT),
            _upload(ids.MODELS_CLASSES_UPLOAD, "3. Class names (optional): .txt one per line, or .json",
                    CLASSES_ACCEPT),
        ], className="upload-stack"),
        html.Div(id=ids.MODELS_FILES_TEXT, className="caption"),
        html.Div([
            control("Name", dcc.Input(id=ids.MODELS_TITLE_INPUT, type="text", placeholder="from the file name",
                                      maxLength=80, className="text-input")),
            control("Input height", dcc.Input(id=ids.MODELS_HEIGHT_INPUT, type="number", min=2, max=4096, step=1,
                                              className="number-input"),
                    "Only if the model accepts any size."),
            control("Input width", dcc.Input(id=ids.MODELS_WIDTH_INPUT, type="number", min=2, max=4096, step=1,
                                             className="number-input")),
            control("Add", html.Button("Add model", id=ids.MODELS_ADD_BUTTON, className="button primary"),
                    "Loads the model in Keras safe mode (no code from the file is run)."),
        ], className="controls"),
        html.Div([
            html.Progress(id=ids.MODELS_PROGRESS, value="0", max="1", className="models-progress"),
            html.Span(id=ids.MODELS_PROGRESS_TEXT, className="muted"),
        ], className="button-row"),
    ])
    intake = html.Div([
        control("Model", dcc.Dropdown(id=ids.MODELS_EDIT_DROPDOWN, clearable=False, searchable=False,
                                      placeholder="no uploaded models yet"), width="360px"),
        html.Div(id=ids.MODELS_INTAKE_TEXT, className="intake"),
        html.Div([
            control("Input values", dcc.Dropdown(id=ids.MODELS_SCALING_DROPDOWN, options=SCALING_OPTIONS,
                                                 clearable=False, searchable=False), width="200px"),
            control("Mean (R, G, B)", dcc.Input(id=ids.MODELS_MEAN_INPUT, type="text", debounce=True,
                                                className="text-input"), "For (x − mean) / std, x in [0, 1]."),
            control("Std (R, G, B)", dcc.Input(id=ids.MODELS_STD_INPUT, type="text", debounce=True,
                                               className="text-input")),
            control("Channel order", dcc.RadioItems(id=ids.MODELS_ORDER_RADIO, options=["RGB", "BGR"],
                                                    inline=True, className="radio")),
            control("Output", dcc.Dropdown(id=ids.MODELS_OUTPUT_DROPDOWN, clearable=False, searchable=False),
                    width="140px"),
            control("Output is", dcc.Dropdown(id=ids.MODELS_KIND_DROPDOWN, options=KIND_OPTIONS,
                                              clearable=False, searchable=False), width="300px"),
            control("CAM layer", dcc.Dropdown(id=ids.MODELS_CAM_DROPDOWN, clearable=True), width="300px"),
        ], className="controls"),
        html.Div([
            html.Button("Save settings", id=ids.MODELS_SAVE_BUTTON, className="button primary"),
            html.Button("Delete this model", id=ids.MODELS_DELETE_BUTTON, className="button danger"),
        ], className="button-row"),
    ])
    return html.Div([
        html.H2("Your models"),
        html.P(
            "Upload a Keras model (.keras or legacy .h5) with a few sample images and its class names. "
            "KernelScope loads it in safe mode, works out its input size, value range, output and CAM layer, "
            "and lists it in the model menu at the top right next to the built-in models; every page then "
            "follows it. Uploads are kept on this server until you delete them.",
            className="lead",
        ),
        panel("Add a model", add),
        dcc.Loading(message_area(ids.MODELS_MESSAGE), type="dot"),
        panel("Intake settings", intake,
              subtitle="What KernelScope inferred, and why. Correct anything that is wrong and save."),
        panel("Uploaded models", html.Div(id=ids.MODELS_LIST_TABLE)),
        dcc.Store(id=ids.MODELS_VERSION_STORE, storage_type="memory"),
    ])
