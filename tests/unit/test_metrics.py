"""Quality metrics checked against maps whose quality is known."""

from __future__ import annotations

import numpy as np
import pytest

from xai_core.attributions import make
from xai_core.metrics import (
    cascading_randomisation,
    completeness_residual,
    deletion_curve,
    insertion_curve,
    label_randomisation,
    mu_fidelity,
    similarity,
)
from xai_core.metrics.common import scorer
from xai_core.metrics.sanity import passed


@pytest.fixture(scope="module")
def linear():
    """y_k = Σ w_k x: a pixel's true importance is w x, and removing it (zero fill) costs exactly that."""
    import keras

    rng = np.random.default_rng(11)
    inp = keras.Input((10, 10, 1))
    dense = keras.layers.Dense(2, use_bias=False)
    model = keras.Model(inp, dense(keras.layers.Flatten()(inp)))
    w = rng.normal(size=(100, 2)).astype(np.float32)
    dense.set_weights([w])
    x = rng.uniform(size=(10, 10, 1)).astype(np.float32)
    return model, w[:, 0].reshape(10, 10, 1), x


def test_deletion_curve_values_on_linear_model(linear):
    model, w, x = linear
    perfect = w * x
    curve = deletion_curve(scorer(model), x, perfect, 0, steps=100, fill="zero")
    order = np.argsort(-perfect.ravel(), kind="stable")
    expected = perfect.sum() - np.concatenate([[0], np.cumsum(perfect.ravel()[order])])
    np.testing.assert_allclose(curve.scores, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(curve.fractions, np.arange(101) / 100)
    # the area is the trapezoid rule over the points
    assert curve.auc == pytest.approx(np.trapezoid(expected, np.arange(101) / 100), rel=1e-4)


@pytest.mark.parametrize("fill", ["zero", "mean", "blur"])
def test_perfect_map_beats_random_maps(linear, fill):
    model, w, x = linear
    score = scorer(model)
    perfect = w * x if fill == "zero" else w * (x - (x.mean() if fill == "mean" else 0))
    rng = np.random.default_rng(0)
    d_perfect = deletion_curve(score, x, perfect, 0, fill=fill).auc
    i_perfect = insertion_curve(score, x, perfect, 0, fill=fill).auc
    for _ in range(5):
        noise = rng.normal(size=x.shape)
        assert d_perfect < deletion_curve(score, x, noise, 0, fill=fill).auc
        assert i_perfect > insertion_curve(score, x, noise, 0, fill=fill).auc


def test_deletion_rejects_bad_options(linear):
    model, w, x = linear
    with pytest.raises(ValueError, match="fill must be one of"):
        deletion_curve(scorer(model), x, w, 0, fill="grey")


def test_mu_fidelity_is_one_for_the_true_importance(linear):
    model, w, x = linear
    assert mu_fidelity(scorer(model), x, w * x, 0, grid_size=5, samples=32) == pytest.approx(1.0, abs=1e-5)
    noise = np.random.default_rng(1).normal(size=x.shape)
    assert abs(mu_fidelity(scorer(model), x, noise, 0, grid_size=5, samples=64)) < 0.6


def test_completeness_residual():
    a = np.full((4, 4, 1), 0.5)
    assert completeness_residual(a, 10.0, 2.0) == (0.0, 0.0)
    res, rel = completeness_residual(a, 10.0, 4.0)
    assert res == pytest.approx(2.0) and rel == pytest.approx(2 / 6)


def test_similarity_of_identical_and_unrelated_maps():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(12, 12, 1))
    rho, ssim = similarity(a, a)
    assert rho == pytest.approx(1.0) and ssim == pytest.approx(1.0)
    rho, ssim = similarity(a, rng.normal(size=(12, 12, 1)))
    assert abs(rho) < 0.3 and ssim < 0.5


def _edges(x):
    from skimage.filters import sobel

    return sobel(x[..., 0])[..., None]


def test_cascading_randomisation_fails_an_edge_detector_and_passes_the_gradient(registry):
    e = registry.get("mnist17")
    x = e.x[3]
    edge_steps = cascading_randomisation(e.model, lambda m: _edges(x))
    assert [s.spearman for s in edge_steps] == pytest.approx([1.0] * len(edge_steps))
    assert not passed(edge_steps)
    names = [s.layer for s in edge_steps]
    assert names == ["predictions", "dense", "conv3", "conv2", "conv1"]  # top down
    before = [w.copy() for w in e.model.get_weights()]
    grad_steps = cascading_randomisation(e.model, lambda m: make("gradient", m).explain(x, 0)[0])
    assert passed(grad_steps)
    # the trained model itself was not touched
    for old, new in zip(before, e.model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_label_randomisation(registry):
    e = registry.get("mnist17")
    x = e.x[5]
    edges = label_randomisation(e.model, e.x, e.y, lambda m: _edges(x), epochs=2)
    assert edges.spearman == pytest.approx(1.0)
    grad = label_randomisation(e.model, e.x, e.y, lambda m: make("gradient", m).explain(x, 0)[0], epochs=5)
    assert grad.spearman < 0.9
