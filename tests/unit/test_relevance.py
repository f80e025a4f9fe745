"""Taylor relevance: gradients vs finite differences, the softmax toggle vs the analytic Jacobian,
R = ∂y/∂x · (x − x̃), and each root-point filter vs its scikit-image / scipy definition."""

from dataclasses import replace

import numpy as np
import pytest
import scipy.ndimage as ndi

from xai_core import filters
from xai_core.relevance import explain, taylor_relevance


def _tiny_model(head: str):
    """A float64 nonlinear classifier on 8x8x2 inputs, 3 classes, with the softmax placed by ``head``."""
    import keras

    keras.utils.set_random_seed(3)
    inp = keras.Input((8, 8, 2), name="image", dtype="float64")
    x = keras.layers.Conv2D(3, 3, activation="tanh", dtype="float64", name="conv")(inp)
    x = keras.layers.Flatten(dtype="float64")(x)
    if head == "dense":
        out = keras.layers.Dense(3, activation="softmax", dtype="float64", name="pred")(x)
    elif head == "layer":
        x = keras.layers.Dense(3, dtype="float64", name="logits")(x)
        out = keras.layers.Softmax(dtype="float64", name="softmax")(x)
    elif head == "activation":
        x = keras.layers.Dense(3, dtype="float64", name="logits")(x)
        out = keras.layers.Activation("softmax", dtype="float64", name="softmax")(x)
    else:
        out = keras.layers.Dense(3, dtype="float64", name="scores")(x)
    return keras.Model(inp, out)


def _entry(head: str):
    from models.registry import DeviceInfo, ModelEntry
    from models.specs import BUILTIN_SPECS

    spec = replace(BUILTIN_SPECS["mnist17"], name=f"tiny-{head}", input_shape=(8, 8, 2),
                   class_names=("a", "b", "c"))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (4, 8, 8, 2)).astype(np.float32)
    return ModelEntry(spec, _tiny_model(head), {}, x, np.zeros(4, np.int64), DeviceInfo("/CPU:0", "CPU", "CPU"))


def _f64(model, x):
    import tensorflow as tf

    return model(tf.constant(np.asarray(x, np.float64)[None])).numpy()[0]


@pytest.mark.parametrize("head", ["dense", "layer"])
@pytest.mark.parametrize("softmax", [True, False])
def test_gradients_equal_central_differences(head, softmax):
    entry = _entry(head)
    model = entry.score_model(softmax)
    rng = np.random.default_rng(1)
    for _trial in range(2):
        # float32-exact points, so the float64 differences see the same input the gradient did
        x = rng.uniform(0, 1, (8, 8, 2)).astype(np.float32).astype(np.float64)
        target = int(rng.integers(3))
        _, grads = entry.gradients(x[None].astype(np.float32), target, softmax=softmax)
        fd = np.zeros_like(x)
        eps = 1e-6
        for idx in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[idx] += eps
            down[idx] -= eps
            fd[idx] = (_f64(model, up)[target] - _f64(model, down)[target]) / (2 * eps)
        np.testing.assert_allclose(grads[0], fd, rtol=1e-4, atol=1e-7 * np.abs(fd).max())


@pytest.mark.parametrize("head", ["dense", "layer", "activation"])
def test_softmax_toggle_matches_analytic_jacobian(head):
    """∂p_c/∂x = Σ_j p_c (δ_cj − p_j) ∂z_j/∂x, with z the logits (softmax off)."""
    entry = _entry(head)
    assert entry.head.kind == "softmax"
    x = entry.x[:1]
    logit_grads = np.stack([entry.gradients(x, j, softmax=False)[1][0] for j in range(3)])
    z, _ = entry.gradients(x, 0, softmax=False)
    p = np.exp(z[0] - z[0].max())
    p /= p.sum()
    for c in range(3):
        probs, g = entry.gradients(x, c, softmax=True)
        np.testing.assert_allclose(probs[0], p, rtol=1e-6)
        jac_row = p[c] * ((np.arange(3) == c) - p)
        expected = np.tensordot(jac_row, logit_grads, axes=1)
        np.testing.assert_allclose(g[0], expected, rtol=1e-4, atol=1e-9)
        # the logit gradient is not the probability gradient
        assert not np.allclose(g[0], logit_grads[c], rtol=1e-2)


def test_model_without_softmax_uses_raw_output():
    entry = _entry("linear")
    assert entry.head.kind == "linear" and "raw outputs" in entry.head.describe()
    x = entry.x[:1]
    a = entry.gradients(x, 1, softmax=True)
    b = entry.gradients(x, 1, softmax=False)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("name", filters.FILTERS)
def test_relevance_is_grad_times_difference(name):
    entry = _entry("dense")
    x = entry.x[2]
    res = explain(lambda b, t: entry.gradients(b, t, softmax=True), x, None, filter_name=name, sigma=1.5)
    _, g = entry.gradients(x[None], res.target, softmax=True)
    root = filters.root_point(x, name, 1.5)
    expected = g[0].astype(np.float64) * (x.astype(np.float64) - root.astype(np.float64))
    np.testing.assert_allclose(res.relevance, expected, rtol=1e-6, atol=1e-12)
    assert res.target == int(np.argmax(entry.predict(x)))
    assert res.relevance_sum == pytest.approx(float(expected.sum()), rel=1e-5)
    assert res.residual == pytest.approx(res.delta - float(expected.sum()), abs=1e-6)


@pytest.mark.parametrize("name", filters.FILTERS)
def test_sigma_zero_gives_identity_root_and_zero_relevance(name):
    x = np.random.default_rng(2).uniform(0, 1, (12, 10, 3)).astype(np.float32)
    root = filters.root_point(x, name, 0.0)
    np.testing.assert_array_equal(root, x)
    assert not np.any(taylor_relevance(np.ones_like(x), x, root))


def _rgb(shape=(17, 13, 3), seed=4):
    return np.random.default_rng(seed).uniform(0, 1, shape)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_gaussian_is_per_channel_blur(sigma):
    x = _rgb()
    expected = ndi.gaussian_filter(x, sigma=(sigma, sigma, 0), mode="nearest", truncate=4.0)
    np.testing.assert_allclose(filters.root_point(x, "gaussian", sigma), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_sharpness_is_unsharp_mask_per_channel(sigma):
    from skimage.filters import unsharp_mask

    x = _rgb()
    blurred = ndi.gaussian_filter(x, sigma=(sigma, sigma, 0), mode="reflect", truncate=4.0)
    expected = x + (x - blurred)
    got = filters.root_point(x, "sharpness", sigma)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # and each channel is scikit-image's single-channel unsharp mask
    for c in range(3):
        np.testing.assert_allclose(got[:, :, c], unsharp_mask(x[:, :, c], radius=sigma, amount=1.0,
                                                              preserve_range=True), rtol=1e-5, atol=1e-6)
    # gray images too
    g = _rgb((9, 9, 1))
    np.testing.assert_allclose(filters.root_point(g, "sharpness", sigma)[:, :, 0],
                               unsharp_mask(g[:, :, 0], radius=sigma, amount=1.0, preserve_range=True),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_nearest_is_a_pixelated_copy(sigma):
    from skimage.transform import rescale, resize

    x = _rgb((28, 28, 3))
    got = filters.root_point(x, "nearest", sigma)
    small = rescale(x, 1 / (1 + sigma), order=0, anti_aliasing=False, preserve_range=True, channel_axis=2)
    np.testing.assert_allclose(got, resize(small, x.shape, order=0, anti_aliasing=False, preserve_range=True),
                               rtol=1e-6)
    assert small.shape[0] == round(28 / (1 + sigma))
    # every pixel of x̃ is a pixel of x (no new values), and there are at most small-size² distinct colours
    flat = {tuple(v) for v in x.astype(np.float32).reshape(-1, 3)}
    assert all(tuple(v) in flat for v in got.reshape(-1, 3))
    assert len({tuple(v) for v in got.reshape(-1, 3)}) <= small.shape[0] * small.shape[1]


def test_bad_filter_arguments():
    x = _rgb()
    with pytest.raises(ValueError, match="filter must be"):
        filters.root_point(x, "median", 1.0)
    with pytest.raises(ValueError, match="sigma must be"):
        filters.root_point(x, "gaussian", -1.0)
