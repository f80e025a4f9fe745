"""The chain rule through y = h(g(x)): the worked 1-D example and the image model."""

import functools

import numpy as np
import pytest

from xai_core.chainrule import image_chain_rule, pixel_derivative, scalar_example
from xai_core.fouriernet import FourierNet, interior_mask


def test_scalar_example_numbers():
    r = scalar_example(3.0, (3.0, 4.0))
    np.testing.assert_array_equal(r.g, [9.0, 12.0])
    assert r.y == 307881.0
    np.testing.assert_array_equal(r.dy_dg, [32805.0, 103680.0])
    np.testing.assert_array_equal(r.dg_dx, [3.0, 4.0])
    assert r.dy_dx_direct == r.dy_dx_chain == 513135.0


def test_scalar_example_other_values_analytic():
    x, b = -1.5, np.array([2.0, 0.5, -3.0])
    r = scalar_example(x, b)
    assert r.y == pytest.approx(np.sum((x * b) ** 5))
    assert r.dy_dx_chain == pytest.approx(5 * x ** 4 * np.sum(b ** 5))
    assert r.difference == pytest.approx(0.0, abs=1e-9 * abs(r.dy_dx_direct))


@pytest.fixture(scope="module")
def mnist(registry):
    from xai_core.graph import flatten
    from xai_core.linear_stack import split_linear_stack

    entry = registry.get("mnist17")
    split = split_linear_stack(flatten(entry.logits_model))
    return entry, split, FourierNet(split.kernels, (28, 28))


@pytest.mark.parametrize("index,target", [(0, 0), (40, 1), (5, None)])
def test_image_chain_rule_equals_gradient_tape(mnist, index, target):
    entry, split, fnet = mnist
    x = entry.x[index]
    res = image_chain_rule(split, fnet, x, target)
    _, direct = entry.gradients(x[None], res.target, softmax=False)  # the registry's own tape
    scale = np.abs(direct).max()
    assert np.abs(res.spatial - direct[0]).max() / scale <= 1e-5
    assert np.abs(res.fourier - direct[0]).max() / scale <= 1e-5
    inner = interior_mask((28, 28), fnet.fused.radius)
    assert np.abs(res.fused - direct[0])[inner].max() / scale <= 1e-5
    assert np.abs(res.fused - direct[0])[~inner].max() / scale > 1e-4  # the fused map's edge error


def test_fused_chain_rule_is_the_tape_gradient_of_the_fused_model(mnist):
    import tensorflow as tf

    entry, split, fnet = mnist
    x = entry.x[3].astype(np.float64)
    fused = fnet.fused
    xt = tf.Variable(x[None])
    with tf.GradientTape() as tape:
        xp = tf.pad(xt, [[0, 0], [3, 3], [3, 3], [0, 0]])
        g = tf.nn.conv2d(xp, fused.kernel, 1, "VALID")
        y = split.h(tf.cast(g, tf.float32))[0, 1]
    direct = tape.gradient(y, xt).numpy()[0]
    res = image_chain_rule(split, fnet, x, 1)
    # dy/dg where the fused model's head sees the fused g
    with tf.GradientTape() as tape:
        gt = tf.Variable(tf.cast(g, tf.float32))
        yy = split.h(gt)[0, 1]
    v = tape.gradient(yy, gt).numpy()[0].astype(np.float64)
    assert np.abs(fnet.fn3_transpose(v) - direct).max() / np.abs(direct).max() <= 1e-5
    assert res.dy_dg.shape == (28, 28, 128)


def test_pixel_derivative_is_the_response_to_an_impulse(mnist):
    _, split, fnet = mnist
    p = (12, 9)
    pd = pixel_derivative(fnet, p, 0, 7)
    impulse = np.zeros((1, 28, 28, 1), np.float32)
    impulse[0, p[0], p[1], 0] = 1.0
    column = split.g(impulse).numpy()[0, :, :, 7]  # g is linear: dg/dx_p = g(delta_p)
    np.testing.assert_allclose(pd.spatial, column, atol=1e-6 * np.abs(column).max())
    assert pd.spectrum.shape == fnet.grid
    # |F{delta_p} F{K}| = |F{K}|: the shift only changes the phase
    k = np.fft.fftshift(np.fft.fft2(np.pad(fnet.fused.kernel[:, :, 0, 7], ((0, 27), (0, 27)))))
    np.testing.assert_allclose(np.abs(pd.spectrum), np.abs(k), atol=1e-12)
    with pytest.raises(ValueError, match="outside"):
        pixel_derivative(fnet, (28, 0), 0, 0)


def test_taylor_through_the_split_equals_the_relevance_core(mnist):
    from xai_core.filters import root_point
    from xai_core.relevance import explain, taylor_relevance

    entry, split, fnet = mnist
    x = entry.x[7]
    res = image_chain_rule(split, fnet, x, 1)
    root = root_point(x, "gaussian", 1.0)
    ours = taylor_relevance(res.fourier, x, root)
    ref = explain(functools.partial(entry.gradients, softmax=False), x, 1, root=root, softmax=False)
    np.testing.assert_allclose(ours, ref.relevance, atol=1e-5 * np.abs(ref.relevance).max())
