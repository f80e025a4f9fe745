"""The shared registry and the built-in models."""

import json
import threading

import numpy as np
import pytest

import models
from models import BUILTIN_SPECS, ModelRegistry, UnknownModel
from models.specs import build_architecture


def test_names_and_specs_do_not_need_tensorflow():
    import subprocess
    import sys

    code = ("import sys, models; assert models.names() == ['mnist17', 'cifar10', 'cifar10pad', 'cifar5']; "
            "models.spec('cifar5'); assert 'tensorflow' not in sys.modules, 'imported TF'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(models.specs.ZOO_DIR.parent.parent))


def test_unknown_name_lists_valid_names(registry):
    with pytest.raises(UnknownModel, match="valid names are: mnist17, cifar10"):
        registry.get("resnet")


@pytest.mark.parametrize("name", list(BUILTIN_SPECS))
def test_builtin_model_loads_with_consistent_metadata(registry, name):
    entry = registry.get(name)
    spec = entry.spec
    assert tuple(entry.model.input_shape[1:]) == spec.input_shape
    assert entry.model.output_shape[-1] == spec.n_classes
    meta = json.loads(spec.meta_path.read_text())
    assert meta["name"] == name and 0 < meta["test_accuracy"] <= 1 and meta["n_test"] > 0
    assert entry.x.dtype == np.float32 and entry.x.shape[1:] == spec.input_shape
    lo, hi = spec.value_range
    assert entry.x.min() >= lo and entry.x.max() <= hi
    assert set(np.unique(entry.y)) == set(range(spec.n_classes))
    for f in (spec.weights_path, spec.samples_path, spec.meta_path):
        assert f.stat().st_size < 8 * 2**20, f"{f} is over 8 MiB"
    # the architecture in the specs is the one that was trained
    assert [type(layer).__name__ for layer in build_architecture(spec).layers] == \
        [type(layer).__name__ for layer in entry.model.layers]


@pytest.mark.parametrize("name", list(BUILTIN_SPECS))
def test_bundled_samples_reproduce_recorded_accuracy(registry, name):
    entry = registry.get(name)
    probs = entry.predict(entry.x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    acc = float(np.mean(probs.argmax(axis=1) == entry.y))
    assert acc == pytest.approx(entry.meta["sample_accuracy"], abs=1.5 / len(entry.y))
    # the sample accuracy lies within binomial noise (4 sigma) of the full test accuracy
    p, n = entry.meta["test_accuracy"], len(entry.y)
    assert abs(acc - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1 / n


def test_accuracy_targets():
    meta = {n: json.loads(BUILTIN_SPECS[n].meta_path.read_text()) for n in BUILTIN_SPECS}
    assert meta["mnist17"]["test_accuracy"] >= 0.99
    assert meta["mnist17"]["n_test"] == 2163 and meta["mnist17"]["n_train"] == 13007
    assert meta["cifar5"]["test_accuracy"] >= 0.75


def test_concurrent_get_returns_one_model():
    reg = ModelRegistry(device="cpu")
    results, barrier = [], threading.Barrier(6)

    def worker():
        barrier.wait()
        results.append(reg.get("mnist17"))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(r is results[0] for r in results)
    assert all(r.model is results[0].model for r in results)


def test_device_is_reported(registry):
    dev = registry.device
    assert dev.kind == "CPU" and dev.name == "/CPU:0" and "CPU" in dev.label
    with pytest.raises(ValueError, match="auto, cpu or gpu"):
        models.registry.resolve_device("tpu")


def test_derived_pieces_are_cached_and_correct(registry):
    entry = registry.get("mnist17")
    assert [n.key for n in entry.conv_layers] == ["conv1", "conv2", "conv3"]
    assert entry.layer_output_model("conv2") is entry.layer_output_model("conv2")
    x = entry.x[:3]
    out = entry.layer_activation("conv2", x)
    manual = entry.model.get_layer("conv2")(entry.model.get_layer("conv1")(x)).numpy()
    np.testing.assert_allclose(out, manual, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(entry.layer_activation("conv1", x, layer_input=True), x)
    with pytest.raises(IndexError, match="0..63"):
        entry.sample(64)
