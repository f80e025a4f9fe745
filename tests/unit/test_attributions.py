"""Attribution methods: one contract for all of them, and the cases whose answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from xai_core.attributions import METHODS, make
from xai_core.attributions.expected_gradients import ExpectedGradients
from xai_core.attributions.gradcam import GradCAM, GradCAMPlusPlus
from xai_core.attributions.gradient import Gradient, GradientInput, Saliency
from xai_core.attributions.guided_backprop import GuidedBackprop
from xai_core.attributions.integrated_gradients import IntegratedGradients, quadrature
from xai_core.attributions.layer_sensitivity import LayerSensitivity
from xai_core.attributions.lighting import Lighting
from xai_core.attributions.occlusion import Occlusion
from xai_core.attributions.registry import validate_params
from xai_core.attributions.smoothgrad import SmoothGrad, SquareGrad, VarGrad
from xai_core.attributions.taylor import Taylor
from xai_core.attributions.topk import TopK
from xai_core.filters import root_point

# small settings so the contract runs quickly on both models
FAST = {"integrated_gradients": {"steps": 8}, "smoothgrad": {"samples": 4}, "vargrad": {"samples": 4},
        "squaregrad": {"samples": 4}, "occlusion": {"patch": 8, "stride": 8}, "lighting": {"patch": 7},
        "expected_gradients": {"samples": 8}}


@pytest.fixture(scope="module", params=["mnist17", "cifar5"])
def entry(request, registry):
    return registry.get(request.param)


@pytest.mark.parametrize("key", list(METHODS))
def test_contract(entry, key):
    x = entry.x[:3]
    targets = np.array([0, 1, 0])
    a = make(key, entry.model, FAST.get(key), background=entry.x[:8], batch_size=64).explain(x, targets)
    assert a.shape == x.shape and a.dtype == np.float32 and np.all(np.isfinite(a))
    assert np.any(a != 0)
    # deterministic for a fixed seed, on a fresh explainer
    again = make(key, entry.model, FAST.get(key), background=entry.x[:8], batch_size=64).explain(x, targets)
    np.testing.assert_array_equal(a, again)
    # independent of the internal batch size and of the other images in the batch
    small = make(key, entry.model, FAST.get(key), background=entry.x[:8], batch_size=1).explain(x, targets)
    np.testing.assert_allclose(small, a, rtol=1e-3, atol=1e-4 * float(np.abs(a).max()))
    one = make(key, entry.model, FAST.get(key), background=entry.x[:8]).explain(x[1], 1)
    np.testing.assert_allclose(one[0], a[1], rtol=1e-3, atol=1e-4 * float(np.abs(a).max()))


@pytest.mark.parametrize("key", ["smoothgrad", "expected_gradients"])
def test_seed_changes_random_methods(registry, key):
    e = registry.get("cifar5")
    a = make(key, e.model, FAST[key], background=e.x[:8], seed=0).explain(e.x[:1], 0)
    b = make(key, e.model, FAST[key], background=e.x[:8], seed=1).explain(e.x[:1], 0)
    assert not np.allclose(a, b)


def test_params_are_validated():
    assert validate_params("integrated_gradients", {"steps": 16})["steps"] == 16
    with pytest.raises(ValueError, match="Steps must be a whole number from 4 to 256"):
        validate_params("integrated_gradients", {"steps": 1000})
    with pytest.raises(ValueError, match="Baseline must be one of"):
        validate_params("integrated_gradients", {"baseline": "grey"})
    with pytest.raises(ValueError, match="no parameter"):
        validate_params("saliency", {"steps": 3})
    with pytest.raises(ValueError, match="unknown method"):
        validate_params("lrp", {})


# --- a linear model: y = W x + b ---------------------------------------------------------------
@pytest.fixture(scope="module")
def linear():
    import keras

    rng = np.random.default_rng(3)
    inp = keras.Input((6, 5, 2))
    dense = keras.layers.Dense(3, name="out")
    model = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    w = rng.normal(size=(60, 3)).astype(np.float32)
    dense.set_weights([w, rng.normal(size=3).astype(np.float32)])
    x = rng.uniform(size=(4, 6, 5, 2)).astype(np.float32)
    return model, w, x


def _w(w, t):
    return w[:, t].reshape(6, 5, 2)


def test_linear_saliency_gradient_gradient_input(linear):
    model, w, x = linear
    t = np.array([0, 2, 1, 2])
    wt = np.stack([_w(w, i) for i in t])
    np.testing.assert_allclose(Saliency(model).explain(x, t), np.abs(wt), rtol=1e-6)
    np.testing.assert_allclose(Gradient(model).explain(x, t), wt, rtol=1e-6)
    np.testing.assert_allclose(GradientInput(model).explain(x, t), wt * x, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("baseline", ["black", "noise", "root"])
@pytest.mark.parametrize("rule", ["trapezoid", "gauss-legendre"])
def test_linear_integrated_gradients_exact(linear, baseline, rule):
    model, w, x = linear
    ig = IntegratedGradients(model, steps=5, baseline=baseline, rule=rule)
    b = ig.baseline(x)
    if baseline == "black":
        assert np.all(b == 0)
    if baseline == "root":
        np.testing.assert_allclose(b, root_point(x, "gaussian", 2.0))
    expected = (x - b) * _w(w, 1)[None]
    np.testing.assert_allclose(ig.explain(x, 1), expected, rtol=1e-4, atol=1e-6)


def test_quadrature_rules_integrate_polynomials():
    a, w = quadrature(64, "trapezoid")
    assert abs(np.sum(w * a**2) - 1 / 3) < 1e-4
    a, w = quadrature(4, "gauss-legendre")
    assert abs(np.sum(w.astype(np.float64) * a.astype(np.float64)**7) - 1 / 8) < 1e-6  # exact to degree 7
    with pytest.raises(ValueError):
        quadrature(4, "simpson")


@pytest.mark.parametrize("softmax", [True, False])
def test_integrated_gradients_completeness_on_cifar5(registry, softmax):
    e = registry.get("cifar5")
    model = e.score_model(softmax)
    x = e.x[:3]
    t = np.argmax(e.predict(x), axis=1)
    ig = IntegratedGradients(model, steps=128, rule="trapezoid")
    a = ig.explain(x, t)
    scores = model(np.concatenate([x, ig.baseline(x)]), training=False).numpy()
    delta = scores[:3][np.arange(3), t] - scores[3:][np.arange(3), t]
    total = a.reshape(3, -1).sum(axis=1, dtype=np.float64)
    np.testing.assert_allclose(total, delta, rtol=0.01)


def test_linear_stack_shortcut_equals_plain_path(registry):
    """mnist17 is h(g(x)) with g linear: the fused path must give the plain path's numbers."""
    e = registry.get("mnist17")
    for model in (e.model, e.logits_model):
        fused = IntegratedGradients(model, steps=16, baseline="root")
        assert fused.fuse_linear
        plain = IntegratedGradients(model, steps=16, baseline="root", fuse_linear=False)
        a, b = fused.explain(e.x[:4], [0, 1, 1, 0]), plain.explain(e.x[:4], [0, 1, 1, 0])
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5 * float(np.abs(b).max()))


def test_taylor_matches_relevance_module(registry):
    from xai_core.relevance import explain

    e = registry.get("cifar5")
    a = Taylor(e.model, filter="nearest", sigma=1.5).explain(e.x[2], 3)[0]
    ref = explain(lambda xb, t: e.gradients(xb, t, softmax=True), e.x[2], 3, filter_name="nearest", sigma=1.5)
    np.testing.assert_allclose(a, ref.relevance, rtol=1e-4, atol=1e-8)


def test_noise_wrappers_on_a_linear_model(linear):
    model, w, x = linear
    wt = _w(w, 0)[None]
    np.testing.assert_allclose(SmoothGrad(model, samples=5, noise=0.3).explain(x, 0), np.broadcast_to(wt, x.shape),
                               rtol=1e-5)
    np.testing.assert_allclose(VarGrad(model, samples=5, noise=0.3).explain(x, 0), 0, atol=1e-10)
    np.testing.assert_allclose(SquareGrad(model, samples=5).explain(x, 0), np.broadcast_to(wt**2, x.shape),
                               rtol=1e-5)
    # wrapping gradient x input averages (x + eps) * W over the noise draws
    sg = SmoothGrad(model, method="gradient_input", samples=6, noise=0.2)
    expected = (x + sg.noise_draws().mean(axis=0)[None]) * wt
    np.testing.assert_allclose(sg.explain(x, 0), expected, rtol=1e-4, atol=1e-6)


def test_expected_gradients_with_one_background_is_exact_on_linear(linear):
    model, w, x = linear
    bg = np.full((1, 6, 5, 2), 0.25, np.float32)
    a = ExpectedGradients(model, background=bg, samples=7).explain(x, 2)
    np.testing.assert_allclose(a, (x - 0.25) * _w(w, 2)[None], rtol=1e-4, atol=1e-6)


def test_topk_marks_the_largest_weights(linear):
    model, w, x = linear
    mask = TopK(model, k=5).explain(x[:1], 1)[0]
    importance = np.abs(_w(w, 1)).sum(axis=-1)
    top = np.argsort(-importance.ravel())[:5]
    expected = np.zeros(30)
    expected[top] = 1
    np.testing.assert_array_equal(mask[..., 0].ravel(), expected)
    np.testing.assert_array_equal(mask[..., 0], mask[..., 1])


def test_lighting_on_a_linear_model(linear):
    model, w, x = linear
    maps = Lighting(model, patch=1).class_maps(x[:2])
    assert maps.shape == (2, 3, 6, 5)
    # lighting pixel (i, j) sets both its channels to 1: change = sum_c w_c (1 - x_c)
    for k in range(3):
        expected = ((1 - x[:2]) * _w(w, k)[None]).sum(axis=-1)
        np.testing.assert_allclose(maps[:, k], expected, rtol=1e-4, atol=1e-5)


# --- occlusion: one informative pixel ----------------------------------------------------------------
def test_occlusion_single_informative_pixel():
    import keras

    inp = keras.Input((8, 8, 1))
    dense = keras.layers.Dense(2, use_bias=False)
    model = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    w = np.zeros((64, 2), np.float32)
    w[3 * 8 + 5, 0] = 2.0  # only pixel (3, 5) matters for class 0
    dense.set_weights([w])
    x = np.full((1, 8, 8, 1), 0.5, np.float32)
    a = Occlusion(model, patch=2, stride=2, fill="zero").explain(x, 0)[0, ..., 0]
    expected = np.zeros((8, 8))
    expected[2:4, 4:6] = 1.0  # the patch covering (3, 5) loses the full score 2 * 0.5
    np.testing.assert_allclose(a, expected, atol=1e-6)
    a1 = Occlusion(model, patch=1, stride=1, fill="zero").explain(x, 0)[0, ..., 0]
    expected1 = np.zeros((8, 8))
    expected1[3, 5] = 1.0
    np.testing.assert_allclose(a1, expected1, atol=1e-6)
    # the mean fill of a constant image changes nothing
    np.testing.assert_allclose(Occlusion(model, patch=2, stride=2, fill="mean").explain(x, 0), 0, atol=1e-6)


# --- Grad-CAM on a hand-built model with one active channel ------------------------------------------
def test_gradcam_lights_the_active_channel_region():
    import keras

    inp = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(2, 1, use_bias=False, name="conv")
    pooled = keras.layers.GlobalAveragePooling2D()(conv(inp))
    dense = keras.layers.Dense(1, use_bias=False)
    model = keras.Model(inp, dense(pooled))
    conv.set_weights([np.array([1.0, 1.0], np.float32).reshape(1, 1, 1, 2)])
    dense.set_weights([np.array([[1.0], [0.0]], np.float32)])  # channel 1 is ignored by the head
    x = np.zeros((1, 8, 8, 1), np.float32)
    x[0, 2:5, 1:4] = 1.0
    region = x[0, ..., 0] > 0
    for cls in (GradCAM, GradCAMPlusPlus):
        cam = cls(model, layer="conv").explain(x, 0)[0, ..., 0]
        assert np.all(cam[region] > 0) and np.all(cam[~region] == 0)
        np.testing.assert_allclose(cam[region], cam[region][0], rtol=1e-6)
    # Grad-CAM's weight is the mean gradient 1/64 on channel 0
    np.testing.assert_allclose(GradCAM(model, layer="conv").explain(x, 0)[0, ..., 0], x[0, ..., 0] / 64, rtol=1e-6)
    # without the clamp a negative evidence map stays negative
    neg = -x
    assert GradCAM(model, layer="conv", relu=True).explain(neg, 0).max() == 0
    assert GradCAM(model, layer="conv", relu=False).explain(neg, 0).min() < 0
    with pytest.raises(ValueError, match="layer must be one of"):
        GradCAM(model, layer="nope")


def test_guided_backprop_on_a_small_relu_net():
    import keras

    rng = np.random.default_rng(5)
    inp = keras.Input((3, 3, 1))
    h = keras.layers.Dense(4, activation="relu")
    out = keras.layers.Dense(2)
    model = keras.Model(inp, out(h(keras.layers.Flatten()(inp))))
    w1, b1 = rng.normal(size=(9, 4)).astype(np.float32), rng.normal(size=4).astype(np.float32)
    w2 = rng.normal(size=(4, 2)).astype(np.float32)
    h.set_weights([w1, b1])
    out.set_weights([w2, np.zeros(2, np.float32)])
    x = rng.uniform(size=(2, 3, 3, 1)).astype(np.float32)
    a = GuidedBackprop(model).explain(x, 1)
    z = x.reshape(2, 9) @ w1 + b1
    g = w2[:, 1][None] * (z > 0) * (w2[:, 1][None] > 0)
    np.testing.assert_allclose(a.reshape(2, 9), g @ w1.T, rtol=1e-5, atol=1e-6)
    # the original model is untouched
    np.testing.assert_allclose(Gradient(model).explain(x, 1).reshape(2, 9), (w2[:, 1][None] * (z > 0)) @ w1.T,
                               rtol=1e-5, atol=1e-6)


def test_layer_sensitivity_of_a_linear_conv(registry):
    e = registry.get("mnist17")
    k = e.model.get_layer("conv1").kernel.numpy()  # (3, 3, 1, 32)
    a = LayerSensitivity(e.model, layer="conv1", channel=4).explain(e.x[:1])[0, ..., 0]
    # an interior pixel feeds nine outputs, through every kernel tap once
    np.testing.assert_allclose(a[5:-5, 5:-5], k[..., 0, 4].sum(), rtol=1e-5)
    all_channels = LayerSensitivity(e.model, layer="conv1").explain(e.x[:1])[0, ..., 0]
    np.testing.assert_allclose(all_channels[10, 10], k.sum(), rtol=1e-5)
    with pytest.raises(ValueError, match="channel must be"):
        LayerSensitivity(e.model, layer="conv1", channel=99)
