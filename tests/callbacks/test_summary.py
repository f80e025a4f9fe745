"""Model-summary page handlers, called directly."""

import numpy as np
import pytest
from dash import no_update

from callbacks import summary as cb
from dashboard import ids
from dashboard.figures.images import decode


def text_of(component):
    return str(component) if component is not None else ""


def test_buttons_choose_views():
    assert cb.choose_view(ids.SUMMARY_ALL_BUTTON) == "all"
    assert cb.choose_view(ids.SUMMARY_CONV_BUTTON) == "conv"
    assert cb.choose_view(ids.SUMMARY_DENSE_BUTTON) == "dense"
    assert cb.choose_view(ids.SUMMARY_OTHERS_BUTTON) == "other"
    assert cb.choose_view(ids.SUMMARY_CLEAR_BUTTON) is None


def test_tables_list_the_layers_with_keras_counts(app_context):
    entry = app_context.registry.get("cifar5")
    all_text = text_of(cb.table(app_context, "cifar5", "all")[0])
    for layer in entry.model.layers[1:]:
        assert layer.name in all_text
    assert f"{entry.model.count_params():,}" in all_text
    conv = text_of(cb.table(app_context, "cifar5", "conv")[0])
    assert "sepconv" in conv and "BatchNormalization" not in conv and "Dense" not in conv
    dense = text_of(cb.table(app_context, "cifar5", "dense")[0])
    assert "predictions" in dense and "Conv2D" not in dense
    others = text_of(cb.table(app_context, "cifar5", "other")[0])
    assert all(t in others for t in ("BatchNormalization", "ReLU", "ZeroPadding2D", "Dropout", "MaxPooling2D"))
    assert cb.table(app_context, "cifar5", None) == (None, None)
    bad = cb.table(app_context, "cifar5", "pooling")
    assert bad[0] is no_update and "summary must be one of" in text_of(bad[1]).lower()


def test_slider_ranges_follow_model_and_layer(app_context):
    entry = app_context.registry.get("cifar5")
    out = cb.slider_ranges(app_context, "cifar5", 9, 500, 3)
    assert out[0] == len(entry.conv_layers) - 1 and out[1] == len(entry.conv_layers) - 1
    last = entry.conv_layers[-1].layer
    assert out[2] == last.filters - 1 and out[3] == last.filters - 1
    assert out[4] == entry.n_samples - 1 and out[5] == 3
    assert out[6] == {0: "1", 5: "6"} and max(out[7]) == last.filters - 1 and max(out[8]) == entry.n_samples - 1


def test_render_kernel_view(app_context):
    entry = app_context.registry.get("mnist17")
    fig, caption, msg = cb.render(app_context, "mnist17", 0, 5, 2)
    assert msg is None and "Layer 1 of 3: conv1" in caption
    assert len(fig["data"]) == 6
    approx, actual = decode(fig["data"][4]["z"]), decode(fig["data"][5]["z"])
    np.testing.assert_allclose(approx, actual, rtol=1e-4, atol=1e-5)  # one input channel, linear layer
    true = entry.layer_activation("conv1", entry.x[2:3])[0, :, :, 5]
    np.testing.assert_allclose(actual, true, rtol=1e-6)
    fig2, caption2, _ = cb.render(app_context, "mnist17", 1, 0, 2)
    assert "Layer 2 of 3: conv2" in caption2 and "input 32 channel(s)" in caption2
    assert not np.allclose(decode(fig2["data"][5]["z"]), decode(fig["data"][5]["z"]))


def test_render_separable_layer_of_cifar5(app_context):
    entry = app_context.registry.get("cifar5")
    index = next(i for i, n in enumerate(entry.conv_layers) if n.type_name == "SeparableConv2D")
    fig, caption, msg = cb.render(app_context, "cifar5", index, 1, 0)
    assert msg is None and "SeparableConv2D" in caption and fig["data"][0]["type"] == "image"


@pytest.mark.parametrize("a,needle", [
    (("mnist17", 3, 0, 0), "Layer must be"),
    (("mnist17", 0, 32, 0), "Kernel must be"),
    (("mnist17", 0, 0, -1), "Image must be"),
    (("nope", 0, 0, 0), "unknown model"),
])
def test_bad_inputs_give_messages(app_context, a, needle):
    out = cb.render(app_context, *a)
    assert out[0] is no_update and needle.lower() in text_of(out[2]).lower()


def test_new_model_resets_sliders(app_context):
    out = cb.slider_ranges(app_context, "mnist17", 2, 5, 7, trigger=ids.APP_MODEL_DROPDOWN)
    assert out[1] == 0 and out[3] == 0 and out[5] == 0 and out[0] == 2
