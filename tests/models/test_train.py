"""The training path runs end to end on a tiny slice (so it cannot rot)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.datasets import prepare, stratified_sample
from models.specs import BUILTIN_SPECS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "mnist").exists(), reason="../shared/data is not beside the repo")


@needs_data
def test_mnist17_split_sizes_and_range():
    spec = BUILTIN_SPECS["mnist17"]
    test = prepare(spec, DATA, "test")
    assert test.x.shape == (2163, 28, 28, 1) and test.y.sum() == 1028  # 1028 sevens, 1135 ones
    assert test.x.min() >= 0 and test.x.max() <= 1
    again = prepare(spec, DATA, "test")
    np.testing.assert_array_equal(test.x, again.x)  # noise is seeded


def test_stratified_sample_is_balanced():
    y = np.repeat(np.arange(3), [10, 20, 30])
    idx = stratified_sample(y, 4, seed=0)
    assert np.bincount(y[idx]).tolist() == [4, 4, 4]
    assert len(set(idx.tolist())) == 12


@needs_data
@pytest.mark.parametrize("name", ["mnist17", "cifar5"])
def test_train_script_on_a_tiny_slice(tmp_path, name):
    out = tmp_path / name
    cmd = [sys.executable, "-m", "models.train", name, "--data", str(DATA), "--epochs", "1",
           "--limit", "300", "--out", str(out), "--quiet"]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, timeout=600)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["n_train"] == 300 and meta["epochs"] == 1 and 0 <= meta["test_accuracy"] <= 1
    import keras

    model = keras.saving.load_model(out / "model.keras", safe_mode=True, compile=False)
    with np.load(out / "samples.npz", allow_pickle=False) as s:
        assert model.predict(s["x"][:2], verbose=0).shape == (2, BUILTIN_SPECS[name].n_classes)


def test_missing_data_gives_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "models.train", "mnist17", "--data", str(tmp_path),
                           "--out", str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no train-images-idx3-ubyte" in proc.stderr
