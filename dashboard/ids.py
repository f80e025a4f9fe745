"""Every component id of the app, in one place.

Ids are kebab-case ``<page>-<purpose>-<component>``; the shell's ids start
with ``app-``.  Repeated widgets get pattern-matching dict ids from the small
factories at the bottom.
"""

from __future__ import annotations

# Shell (navbar, global model picker, app-wide messages)
APP_URL = "app-url-location"
APP_MODEL_DROPDOWN = "app-model-dropdown"
APP_MODEL_INFO = "app-model-info-text"
APP_ERROR_ALERT = "app-error-alert"
APP_NAV = "app-nav-bar"

# Home
HOME_DEVICE_TEXT = "home-device-text"
HOME_MODELS_TABLE = "home-models-table"

# Kernels (research App 1)
KERNELS_NEW_BUTTON = "kernels-new-button"
KERNELS_SEED_INPUT = "kernels-seed-input"
KERNELS_COUNT_SLIDER = "kernels-count-slider"
KERNELS_FFT_RADIO = "kernels-fft-size-radio"
KERNELS_LOG_SWITCH = "kernels-log-switch"
KERNELS_GRID_GRAPH = "kernels-grid-graph"
KERNELS_PROFILE_GRAPH = "kernels-profile-graph"
KERNELS_CAPTION_TEXT = "kernels-caption-text"
KERNELS_MESSAGE = "kernels-message-text"

# Convolution (research App 2)
CONV_INPUT_BUTTON = "convolution-input-button"
CONV_LAYER_BUTTONS = "convolution-layer-buttons"
CONV_UPLOAD = "convolution-image-upload"
CONV_MODE_RADIO = "convolution-mode-radio"
CONV_LOG_SWITCH = "convolution-log-switch"
CONV_STATE_STORE = "convolution-state-store"
CONV_GRAPH = "convolution-theorem-graph"
CONV_CAPTION_TEXT = "convolution-caption-text"
CONV_ERROR_TEXT = "convolution-error-text"
CONV_MESSAGE = "convolution-message-text"


def conv_layer_button(index: int) -> dict:
    """Id of the "Layer N" button of the Convolution page (0-based conv index)."""
    return {"type": "convolution-layer-button", "index": index}

# --- compare page ---
COMPARE_IMAGE_INPUT = "compare-image-input"
COMPARE_METHODS_CHECKLIST = "compare-methods-checklist"
COMPARE_TOPK_SLIDER = "compare-topk-slider"
COMPARE_SCORE_RADIO = "compare-score-radio"
COMPARE_FILL_RADIO = "compare-fill-radio"
COMPARE_SANITY_SWITCH = "compare-sanity-switch"
COMPARE_CLIP_SLIDER = "compare-clip-slider"
COMPARE_GAMMA_SLIDER = "compare-gamma-slider"
COMPARE_RUN_BUTTON = "compare-run-button"
COMPARE_CANCEL_BUTTON = "compare-cancel-button"
COMPARE_PROGRESS = "compare-progress-bar"
COMPARE_PROGRESS_TEXT = "compare-progress-text"
COMPARE_RESULT_STORE = "compare-result-store"
COMPARE_GRID_GRAPH = "compare-grid-graph"
COMPARE_CURVES_GRAPH = "compare-curves-graph"
COMPARE_METRICS_TABLE = "compare-metrics-table"
COMPARE_CAPTION_TEXT = "compare-caption-text"
COMPARE_MESSAGE = "compare-message-text"
COMPARE_EXPORT_DROPDOWN = "compare-export-dropdown"
COMPARE_EXPORT_PNG_BUTTON = "compare-export-png-button"
COMPARE_EXPORT_NPY_BUTTON = "compare-export-npy-button"
COMPARE_EXPORT_CSV_BUTTON = "compare-export-csv-button"
COMPARE_EXPORT_JSON_BUTTON = "compare-export-json-button"
COMPARE_DOWNLOAD = "compare-download"
COMPARE_SNIPPET_TEXT = "compare-snippet-text"
COMPARE_PARAM_TYPE = "compare-param"
COMPARE_LAYER_PARAM_TYPE = "compare-layer-param"


def compare_param(method: str, param: str) -> dict:
    """Id of one method parameter control of the Compare page (numbers, choices, switches)."""
    return {"type": COMPARE_PARAM_TYPE, "method": method, "param": param}


def compare_layer_param(method: str, param: str) -> dict:
    """Id of a layer menu of the Compare page (its options follow the model)."""
    return {"type": COMPARE_LAYER_PARAM_TYPE, "method": method, "param": param}
