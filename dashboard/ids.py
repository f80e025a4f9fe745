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

# --- relevance page ---
RELEVANCE_FILTER_DROPDOWN = "relevance-filter-dropdown"
RELEVANCE_SIGMA_SLIDER = "relevance-sigma-slider"
RELEVANCE_GAMMA_SLIDER = "relevance-gamma-slider"
RELEVANCE_IMAGE_SLIDER = "relevance-image-slider"
RELEVANCE_SOFTMAX_SWITCH = "relevance-softmax-switch"
RELEVANCE_NUMERIC_SWITCH = "relevance-numeric-switch"
RELEVANCE_TARGET_DROPDOWN = "relevance-target-dropdown"
RELEVANCE_OPACITY_SLIDER = "relevance-opacity-slider"
RELEVANCE_CHANNEL_RADIO = "relevance-channel-radio"
RELEVANCE_GRAPH = "relevance-maps-graph"
RELEVANCE_OVERLAY_GRAPH = "relevance-overlay-graph"
RELEVANCE_NUMBERS_TEXT = "relevance-numbers-text"
RELEVANCE_CAPTION_TEXT = "relevance-caption-text"
RELEVANCE_MESSAGE = "relevance-message-text"
RELEVANCE_UPLOAD = "relevance-image-upload"
RELEVANCE_UPLOAD_STORE = "relevance-upload-store"

# --- summary page ---
SUMMARY_ALL_BUTTON = "summary-all-button"
SUMMARY_CONV_BUTTON = "summary-conv-button"
SUMMARY_DENSE_BUTTON = "summary-dense-button"
SUMMARY_OTHERS_BUTTON = "summary-others-button"
SUMMARY_CLEAR_BUTTON = "summary-clear-button"
SUMMARY_VIEW_STORE = "summary-view-store"
SUMMARY_TABLE = "summary-layers-table"
SUMMARY_LAYER_SLIDER = "summary-layer-slider"
SUMMARY_KERNEL_SLIDER = "summary-kernel-slider"
SUMMARY_IMAGE_SLIDER = "summary-image-slider"
SUMMARY_GRAPH = "summary-kernel-graph"
SUMMARY_CAPTION_TEXT = "summary-caption-text"
SUMMARY_MESSAGE = "summary-message-text"
# --- fouriernet page ---
FN_IMAGE_INPUT = "fouriernet-image-input"
FN_CHANNEL_INPUT = "fouriernet-channel-input"
FN_KERNEL_PAGE_RADIO = "fouriernet-kernel-page-radio"
FN_VARIANTS_GRAPH = "fouriernet-variants-graph"
FN_ERRORS_TABLE = "fouriernet-errors-table"
FN_LOGITS_TABLE = "fouriernet-logits-table"
FN_KERNELS_GRAPH = "fouriernet-kernels-graph"
FN_CONTRIB_GRAPH = "fouriernet-contributions-graph"
FN_TIMING_GRAPH = "fouriernet-timing-graph"
FN_TIMING_TEXT = "fouriernet-timing-text"
FN_CAPTION_TEXT = "fouriernet-caption-text"
FN_MESSAGE = "fouriernet-message-text"
FN_IMP_THRESHOLD_SLIDER = "fouriernet-importance-threshold-slider"
FN_IMP_VARIANT_RADIO = "fouriernet-importance-variant-radio"
FN_IMP_RUN_BUTTON = "fouriernet-importance-run-button"
FN_IMP_CANCEL_BUTTON = "fouriernet-importance-cancel-button"
FN_IMP_PROGRESS = "fouriernet-importance-progress"
FN_IMP_PROGRESS_TEXT = "fouriernet-importance-progress-text"
FN_IMP_COUNTS_GRAPH = "fouriernet-importance-counts-graph"
FN_IMP_NEEDED_GRAPH = "fouriernet-importance-needed-graph"
FN_IMP_ACTIVATIONS_GRAPH = "fouriernet-importance-activations-graph"
FN_IMP_SUMMARY_TEXT = "fouriernet-importance-summary-text"
FN_IMP_MESSAGE = "fouriernet-importance-message-text"

# --- chainrule page ---
CR_X_INPUT = "chainrule-x-input"
CR_B_INPUT = "chainrule-b-input"
CR_SCALAR_TABLE = "chainrule-scalar-table"
CR_SCALAR_MESSAGE = "chainrule-scalar-message-text"
CR_IMAGE_INPUT = "chainrule-image-input"
CR_CLASS_DROPDOWN = "chainrule-class-dropdown"
CR_CHANNEL_INPUT = "chainrule-channel-input"
CR_ROW_INPUT = "chainrule-pixel-row-input"
CR_COL_INPUT = "chainrule-pixel-col-input"
CR_DYDG_GRAPH = "chainrule-dydg-graph"
CR_PIXEL_GRAPH = "chainrule-pixel-spectrum-graph"
CR_GRADIENT_GRAPH = "chainrule-gradient-graph"
CR_GRADIENT_TEXT = "chainrule-gradient-text"
CR_TAYLOR_GRAPH = "chainrule-taylor-graph"
CR_TAYLOR_TEXT = "chainrule-taylor-text"
CR_CAPTION_TEXT = "chainrule-caption-text"
CR_MESSAGE = "chainrule-message-text"
FN_IMP_SET_RADIO = "fouriernet-importance-set-radio"
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
# --- chainrule page (softmax, root point) ---
CR_SOFTMAX_SWITCH = "chainrule-softmax-switch"
CR_FILTER_DROPDOWN = "chainrule-filter-dropdown"
CR_SIGMA_INPUT = "chainrule-sigma-input"
# --- fouriernet page (image limit) ---
FN_IMP_LIMIT_INPUT = "fouriernet-importance-limit-input"
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


# --- uploads: add progress ---
MODELS_PROGRESS = "models-progress-bar"
MODELS_PROGRESS_TEXT = "models-progress-text"
