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


def test_nested_model_every_conv_layer_renders(app_context):
    """A functional model nesting a base (depthwise 5x5, separable stride 2, a nested Sequential): the page
    lists and renders every convolution, and a strided layer's x̄ ⋆ k̄ has the true output's shape."""
    from dataclasses import replace

    from callbacks.common import AppContext
    from models.registry import DeviceInfo, ModelEntry
    from models.specs import BUILTIN_SPECS
    from tests.unit.test_summary import _nested_model

    spec = replace(BUILTIN_SPECS["cifar5"], name="nested", input_shape=(16, 16, 3), class_names=("a", "b", "c"))
    x = np.random.default_rng(0).uniform(0, 1, (3, 16, 16, 3)).astype(np.float32)
    entry = ModelEntry(spec, _nested_model(), {}, x, np.zeros(3, np.int64), DeviceInfo("/CPU:0", "CPU", "CPU"))
    registry = type("R", (), {"spec": lambda self, n: spec, "get": lambda self, n: entry})()
    ctx = AppContext(registry, app_context.settings, app_context.arrays)
    conv = text_of(cb.table(ctx, "nested", "conv")[0])
    for key in ("stem", "base/dw", "base/sep", "base/deep/pw"):
        assert key in conv
    ranges = cb.slider_ranges(ctx, "nested", 1, 99, 0)
    assert ranges[0] == 3 and ranges[2] == 7  # 4 conv layers; dw has 4 x 2 output channels
    for layer, node in enumerate(entry.conv_layers):
        fig, caption, msg = cb.render(ctx, "nested", layer, 1, 2)
        assert msg is None and node.key in caption
        approx, actual = decode(fig["data"][4]["z"]), decode(fig["data"][5]["z"])
        assert approx.shape == actual.shape
        true = entry.layer_activation(node.key, x[2:3])[0, :, :, 1]
        np.testing.assert_allclose(actual, true, rtol=1e-5, atol=1e-6)
    sep_fig, *_ = cb.render(ctx, "nested", 2, 0, 0)
    assert decode(sep_fig["data"][5]["z"]).shape == (7, 7)
    assert decode(sep_fig["data"][2]["z"]).shape == (3, 3)
    dw_fig, *_ = cb.render(ctx, "nested", 1, 0, 0)
    assert decode(dw_fig["data"][2]["z"]).shape == (5, 5)
