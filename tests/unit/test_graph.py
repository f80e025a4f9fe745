"""Flattening nested models and reading effective kernels."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from xai_core.graph import GraphError, effective_kernel, flatten, layer_kind


def nested_model():
    inner = keras.Sequential([keras.Input((12, 12, 2)), keras.layers.Conv2D(4, 3, padding="same", name="c1"),
                              keras.layers.ReLU(name="r1"),
                              keras.layers.DepthwiseConv2D(3, padding="same", name="dw")], name="inner")
    base_in = keras.Input((12, 12, 4))
    base_out = keras.layers.SeparableConv2D(3, 5, padding="same", name="sep")(base_in)
    base = keras.Model(base_in, base_out, name="base")
    inp = keras.Input((12, 12, 2))
    x = base(inner(inp))
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(2, activation="softmax", name="head")(x)
    return keras.Model(inp, out)


def test_flatten_reaches_every_leaf_and_computes_the_same():
    m = nested_model()
    g = flatten(m)
    assert g.keys() == ["inner/c1", "inner/r1", "inner/dw", "base/sep", "gap", "head"]
    assert [n.key for n in g.conv_nodes()] == ["inner/c1", "inner/dw", "base/sep"]
    x = np.random.default_rng(0).random((3, 12, 12, 2)).astype("float32")
    np.testing.assert_allclose(g.model(x).numpy(), m(x).numpy(), atol=1e-6)
    sub = g.submodel("inner/dw")
    manual = m.get_layer("inner").get_layer("dw")(m.get_layer("inner").get_layer("r1")(
        m.get_layer("inner").get_layer("c1")(x)))
    np.testing.assert_allclose(sub(x).numpy(), manual.numpy(), atol=1e-6)
    inp = g.submodel("base/sep", layer_inputs=True)
    assert tuple(inp.output.shape) == (None, 12, 12, 4)


def test_effective_kernels_reproduce_the_layers():
    x = np.random.default_rng(1).random((1, 9, 9, 3)).astype("float32")
    for layer in (keras.layers.Conv2D(4, (3, 5), padding="same", use_bias=False),
                  keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, depth_multiplier=2),
                  keras.layers.SeparableConv2D(5, 3, padding="same", use_bias=False, depth_multiplier=2)):
        y = layer(x).numpy()
        k = effective_kernel(layer)
        np.testing.assert_allclose(tf.nn.conv2d(x, k, 1, "SAME").numpy(), y, atol=1e-5)


def test_layer_kinds_and_errors():
    assert layer_kind(keras.layers.Conv2D(1, 1)) == "conv"
    assert layer_kind(keras.layers.SeparableConv2D(1, 1)) == "conv"
    assert layer_kind(keras.layers.Dense(1)) == "dense"
    assert layer_kind(keras.layers.ReLU()) == "other"
    with pytest.raises(GraphError):
        effective_kernel(keras.layers.Dense(2))

    class Sub(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(GraphError, match="subclassed"):
        flatten(Sub())
