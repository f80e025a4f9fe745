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

# --- uploads page ("Your models") and upload-aware widgets on existing pages ---
MODELS_MODEL_UPLOAD = "models-model-upload"
MODELS_SAMPLES_UPLOAD = "models-samples-upload"
MODELS_CLASSES_UPLOAD = "models-classes-upload"
MODELS_TITLE_INPUT = "models-title-input"
MODELS_HEIGHT_INPUT = "models-height-input"
MODELS_WIDTH_INPUT = "models-width-input"
MODELS_ADD_BUTTON = "models-add-button"
MODELS_FILES_TEXT = "models-files-text"
MODELS_MESSAGE = "models-message-text"
MODELS_LIST_TABLE = "models-list-table"
MODELS_EDIT_DROPDOWN = "models-edit-dropdown"
MODELS_INTAKE_TEXT = "models-intake-text"
MODELS_SCALING_DROPDOWN = "models-scaling-dropdown"
MODELS_MEAN_INPUT = "models-mean-input"
MODELS_STD_INPUT = "models-std-input"
MODELS_ORDER_RADIO = "models-order-radio"
MODELS_OUTPUT_DROPDOWN = "models-output-dropdown"
MODELS_KIND_DROPDOWN = "models-kind-dropdown"
MODELS_CAM_DROPDOWN = "models-cam-dropdown"
MODELS_SAVE_BUTTON = "models-save-button"
MODELS_DELETE_BUTTON = "models-delete-button"
MODELS_VERSION_STORE = "models-version-store"
KERNELS_LAYER_DROPDOWN = "kernels-layer-dropdown"
