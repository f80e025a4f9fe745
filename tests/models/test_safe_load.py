"""Loading untrusted model files: every bad file gets its own message, no code from a file is run."""

import numpy as np
import pytest

from models.safe_load import ModelLoadError, check_model_file, load_model_file


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("name,needle", [
    ("junk.keras", "is not a .keras file"),
    ("junk.h5", "is not an HDF5 file"),
    ("junk.hdf5", "is not an HDF5 file"),
])
def test_random_bytes(tmp_path, name, needle):
    data = np.random.default_rng(0).integers(0, 256, 2048).astype(np.uint8).tobytes()
    with pytest.raises(ModelLoadError, match=needle):
        check_model_file(write(tmp_path, name, data))


def test_unknown_extension_and_empty_file(tmp_path):
    with pytest.raises(ModelLoadError, match="not a Keras model file; upload a .keras"):
        check_model_file(write(tmp_path, "model.pkl", b"\x80\x04junk"))
    with pytest.raises(ModelLoadError, match="is empty"):
        check_model_file(write(tmp_path, "model.keras", b""))


def test_truncated_keras_file(tmp_path, user_models):
    data = user_models["resnet"].read_bytes()
    with pytest.raises(ModelLoadError, match="truncated or corrupt"):
        check_model_file(write(tmp_path, "cut.keras", data[: len(data) // 2]))


def test_html_page_renamed_h5(tmp_path):
    html = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please log in</body></html>"
    with pytest.raises(ModelLoadError, match="is an HTML page, not a model"):
        check_model_file(write(tmp_path, "model.h5", html))


def test_h5_renamed_keras_is_named(tmp_path, user_models):
    data = user_models["gray_sigmoid"].read_bytes()
    with pytest.raises(ModelLoadError, match=r"really a .h5 \(HDF5\) file; rename it"):
        check_model_file(write(tmp_path, "model.keras", data))


def test_lambda_layer_is_refused_with_reason_and_advice(user_models):
    with pytest.raises(ModelLoadError) as err:
        load_model_file(user_models["lambda"])
    text = str(err.value)
    assert "Lambda layer (layer 'double')" in text
    assert "never runs code" in text and "Replace the Lambda" in text


def test_lambda_in_legacy_h5_is_refused(tmp_path):
    from tests.uploads import lambda_model

    path = tmp_path / "lam.h5"
    lambda_model().save(path)
    with pytest.raises(ModelLoadError, match="Lambda layer"):
        load_model_file(path)


def test_custom_layer_is_refused(user_models):
    with pytest.raises(ModelLoadError, match=r"custom class 'userpkg>Scale' \(layer 'scale'\).*not part of Keras"):
        load_model_file(user_models["custom"])


def test_good_files_load(user_models):
    m = load_model_file(user_models["gray_sigmoid"])
    assert m.outputs[0].shape[-1] == 1
    assert load_model_file(user_models["two_output"]).name == "two_output"
