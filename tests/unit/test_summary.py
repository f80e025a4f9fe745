"""Layer tables (Keras' own parameter counts, nested models flattened) and the per-kernel view."""

import numpy as np
import pytest
from scipy.signal import correlate2d

from xai_core.graph import flatten
from xai_core.summary import averaged_kernel, correlate_like_layer, kernel_view, layer_table


def _nested_model():
    """A functional model with a nested functional base that holds conv, depthwise (5x5) and separable layers."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    b_in = keras.Input((16, 16, 4))
    y = layers.DepthwiseConv2D(5, padding="same", depth_multiplier=2, name="dw")(b_in)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.ReLU(name="relu")(y)
    y = layers.SeparableConv2D(6, 3, strides=2, padding="valid", name="sep")(y)
    inner = keras.Sequential([keras.Input((7, 7, 6)), layers.Conv2D(5, 1, name="pw")], name="deep")
    y = inner(y)
    base = keras.Model(b_in, y, name="base")
    inp = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(4, 3, padding="same", name="stem")(inp)
    x = base(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.1, name="drop")(x)
    out = layers.Dense(3, activation="softmax", name="pred")(x)
    return keras.Model(inp, out, name="outer")


def test_nested_model_lists_every_conv_layer_with_keras_counts():
    model = _nested_model()
    graph = flatten(model)
    conv = layer_table(graph, "conv")
    assert [r.key for r in conv.rows] == ["stem", "base/dw", "base/sep", "base/deep/pw"]
    assert [r.type_name for r in conv.rows] == ["Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2D"]
    layers_by_key = {n.key: n.layer for n in graph.nodes}
    for row in layer_table(graph, "all").rows:
        assert row.params == layers_by_key[row.key].count_params()
    everything = layer_table(graph, "all")
    assert everything.total == model.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert everything.trainable == trainable and everything.non_trainable == model.count_params() - trainable
    # the three views partition the layers
    dense, other = layer_table(graph, "dense"), layer_table(graph, "other")
    assert [r.key for r in dense.rows] == ["pred"]
    assert {r.key for r in other.rows} == {"base/bn", "base/relu", "gap", "drop"}
    assert conv.total + dense.total + other.total == everything.total
    assert dict((r.key, r.output_shape) for r in everything.rows)["base/sep"] == (None, 7, 7, 6)


def test_builtin_table_matches_model_layers(registry):
    entry = registry.get("cifar5")
    table = layer_table(entry.graph, "all")
    keras_layers = [layer for layer in entry.model.layers if type(layer).__name__ != "InputLayer"]
    assert [r.key for r in table.rows] == [layer.name for layer in keras_layers]
    assert [r.params for r in table.rows] == [layer.count_params() for layer in keras_layers]
    assert table.total == entry.model.count_params()
    conv = layer_table(entry.graph, "conv")
    assert {r.type_name for r in conv.rows} == {"Conv2D", "SeparableConv2D"}
    with pytest.raises(ValueError, match="kind must be"):
        layer_table(entry.graph, "pooling")


def test_averaged_kernels_of_depthwise_and_separable():
    model = _nested_model()
    graph = flatten(model)
    dw = graph["base/dw"].layer
    w = dw.kernel.numpy()  # (5, 5, 4, 2): output channel c*2 + j sees input c only
    k = averaged_kernel(dw, 5)  # c = 2, j = 1
    np.testing.assert_allclose(k, w[:, :, 2, 1] / 4, rtol=1e-6)
    assert k.shape == (5, 5)
    sep = graph["base/sep"].layer
    d, p = sep.depthwise_kernel.numpy(), sep.pointwise_kernel.numpy()
    expected = sum(d[:, :, c, 0] * p[0, 0, c, 3] for c in range(8)) / 8
    np.testing.assert_allclose(averaged_kernel(sep, 3), expected, rtol=1e-5, atol=1e-8)
    with pytest.raises(IndexError, match="kernel index"):
        averaged_kernel(sep, 6)


def test_correlation_follows_strides_and_padding():
    model = _nested_model()
    sep = flatten(model)["base/sep"].layer  # 3x3, strides 2, valid
    x = np.random.default_rng(0).normal(size=(16, 16))
    k = np.random.default_rng(1).normal(size=(3, 3))
    expected = correlate2d(x, k, mode="valid")[::2, ::2]
    np.testing.assert_allclose(correlate_like_layer(x, k, sep), expected, rtol=1e-10)


def test_single_channel_view_equals_the_true_activation(registry):
    """mnist17's first layer has one input channel, no bias and no activation: x̄ ⋆ k̄ is the layer output."""
    entry = registry.get("mnist17")
    node = entry.conv_layers[0]
    x = entry.x[:1]
    view = kernel_view(node.layer, node.key, entry.layer_activation(node.key, x, layer_input=True)[0],
                       entry.layer_activation(node.key, x)[0], 4)
    np.testing.assert_allclose(view.approx, view.actual, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(view.input_mean, x[0, :, :, 0], rtol=1e-6)
    padded = np.zeros((32, 32))
    padded[:3, :3] = node.layer.kernel.numpy()[:, :, 0, 4]
    np.testing.assert_allclose(view.kernel_magnitude, np.abs(np.fft.fftshift(np.fft.fft2(padded))), rtol=1e-6,
                               atol=1e-9)
    # a deeper layer averages 32 channels: the two differ
    deep = entry.conv_layers[1]
    v2 = kernel_view(deep.layer, deep.key, entry.layer_activation(deep.key, x, layer_input=True)[0],
                     entry.layer_activation(deep.key, x)[0], 0)
    assert v2.in_channels == 32 and not np.allclose(32 * v2.approx, v2.actual, rtol=1e-2)
