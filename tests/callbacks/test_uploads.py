"""The "Your models" page and the existing pages on uploaded models, through their handlers."""

import base64

import numpy as np
import pytest
from dash import no_update

from callbacks import convolution as conv_cb
from callbacks import kernels as kernels_cb
from callbacks import uploads as cb
from callbacks.common import AppContext
from dashboard import ids
from dashboard.arrays import ArrayStore
from dashboard.figures.images import decode
from dashboard.settings import Settings
from models import ModelRegistry
from tests.uploads import attach_store, png_bytes, sample_zip, upload
from xai_core import fourier


def text_of(component):
    return str(getattr(component, "children", component)) if component is not None else ""


def uri(data: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("uploads-ctx")
    reg = ModelRegistry(device="cpu")
    attach_store(reg, root / "store", max_models=3)
    settings = Settings(cache_dir=root / "cache", device="cpu", store_dir=root / "store", max_upload_mb=5)
    return AppContext(registry=reg, settings=settings, arrays=ArrayStore(root / "cache" / "arrays"))


def add(ctx, path, samples=None, samples_name=None, classes=None, classes_name=None, title=None, version=None):
    return cb.act(ctx, ids.MODELS_ADD_BUTTON, uri(path.read_bytes()), path.name,
                  uri(samples) if samples else None, samples_name, uri(classes) if classes else None,
                  classes_name, title, None, None, None, None, None, None, None, None, None, None, version)


def test_add_lists_the_model_everywhere_and_bad_files_get_messages(ctx, user_models):
    msg, version, options, value, table = add(ctx, user_models["gray_sigmoid"],
                                              sample_zip(["cat", "dog"], 2, 30, 1), "pets.zip", title="Pets")
    assert "Added Pets" in text_of(msg) and value.startswith("u-")
    assert {"label": f"Pets ({value})", "value": value} in options
    assert "Pets" in str(table)
    menu, selected = cb.refresh_menu(ctx, version, "mnist17")
    assert selected == value and value in [o["value"] for o in menu] and "mnist17" in [o["value"] for o in menu]
    intake_view = cb.show_intake(ctx, value, version)
    assert "one sigmoid unit" in str(intake_view[0]) and intake_view[7] == "sigmoid"
    assert [o["value"] for o in intake_view[8]] == ["conv1", "conv2"] and intake_view[9] == "conv2"
    # bad files: a specific message each, no update of anything else
    junk = np.random.default_rng(0).integers(0, 256, 3000).astype(np.uint8).tobytes()
    bad = user_models["resnet"].parent / "junk.h5"
    bad.write_bytes(junk)
    out = add(ctx, bad)
    assert "is not an HDF5 file" in text_of(out[0]) and out[1] is no_update
    out = add(ctx, user_models["lambda"])
    assert "Lambda layer" in text_of(out[0])
    out = add(ctx, user_models["resnet"], b"\0" * 100, "s.zip")
    assert "not a readable zip archive" in text_of(out[0])
    big = user_models["resnet"].parent / "big.keras"
    big.write_bytes(b"PK\x03\x04" + b"\0" * (6 * 2**20))
    assert "larger than the 5 MiB limit" in text_of(add(ctx, big)[0])
    out = cb.act(ctx, ids.MODELS_ADD_BUTTON, None, None, None, None, None, None, None, None, None, None, None,
                 None, None, None, None, None, None, None)
    assert "Choose a model file" in text_of(out[0])
    # the next request succeeds
    assert "Added" in text_of(add(ctx, user_models["resnet"], sample_zip(list("wxyz"), 1, 32), "s.zip")[0])


def test_save_settings_and_delete(ctx, user_models):
    _, version, _, name, _ = add(ctx, user_models["two_output"], title="Two")
    out = cb.act(ctx, ids.MODELS_SAVE_BUTTON, None, None, None, None, None, None, None, None, None, name,
                 "meanstd", "0.5", "0.25, 0.25, x", "RGB", 0, "softmax", None, version)
    assert "Std must be 3 number(s)" in text_of(out[0])
    out = cb.act(ctx, ids.MODELS_SAVE_BUTTON, None, None, None, None, None, None, None, None, None, name,
                 "unit", None, None, "RGB", 0, "softmax", "gap", version)
    assert "'gap' has no spatial output" in text_of(out[0])
    out = cb.act(ctx, ids.MODELS_SAVE_BUTTON, None, None, None, None, None, None, None, None, None, name,
                 "meanstd", "0.5", "0.25", "BGR", 1, "logits", None, version)
    assert "Saved the settings" in text_of(out[0])
    e = ctx.registry.get(name)
    assert e.intake.output_index == 1 and e.intake.mean == [0.5, 0.5, 0.5] and len(e.class_names) == 2
    assert e.intake.cam_layer is None
    out = cb.act(ctx, ids.MODELS_DELETE_BUTTON, None, None, None, None, None, None, None, None, None, name,
                 None, None, None, None, None, None, None, out[1])
    assert "Deleted Two" in text_of(out[0]) and name not in [o["value"] for o in out[2]]
    assert name not in ctx.registry.names()
    msg = cb.show_intake(ctx, name, None)[-1]
    assert "no uploaded model" in text_of(msg)


def test_kernels_page_on_nested_mobilenet_is_bounded_and_exact(ctx, user_models):
    name = upload(ctx.registry, None, user_models["mobilenet"])
    options, default = kernels_cb.layer_options(ctx, name)
    assert len(options) > 50 and len(default) == kernels_cb.MAX_LAYERS - 2
    grid, profile, caption, msg = kernels_cb.render(ctx, name, 3, 2, "32", [], None)
    assert msg is None and f"of {len(options)}; pick others" in caption
    assert len(profile["data"]) == len(default)
    # a chosen depthwise layer: drawn kernels are its real (non-zero) slices, the profile is exact
    entry = ctx.registry.get(name)
    dw = next(n for n in entry.conv_layers if n.type_name == "DepthwiseConv2D")
    grid, profile, caption, msg = kernels_cb.render(ctx, name, 5, 3, "32", [], [dw.key, "not-a-layer"])
    weights = [t for t in grid["data"] if t["type"] == "heatmap"][::3]
    k = dw.layer.kernel.numpy()
    for t in weights:
        ci, co = (int(v) for v in t["name"].split("[")[1].rstrip("]").split("→"))
        assert co // k.shape[3] == ci
        np.testing.assert_allclose(decode(t["z"]), k[:, :, ci, co % k.shape[3]], rtol=1e-6)
    freq, prof = fourier.layer_power_profile(k.reshape(3, 3, -1)[:, :, None, :], 32)
    np.testing.assert_allclose(decode(profile["data"][0]["y"]), prof / prof[0], rtol=1e-6)
    buttons = conv_cb.layer_buttons(ctx, name)  # 50+ layers: compact numbered buttons, names in tooltips
    assert len(buttons) == len(options) and buttons[0].children == "1" and dw.key in buttons[dw_index(entry, dw)].title
    too_many = [n.key for n in entry.conv_layers[:9]]
    assert "at most 8 layers" in text_of(kernels_cb.render(ctx, name, 5, 1, "32", [], too_many)[3])


def dw_index(entry, node):
    return [n.key for n in entry.conv_layers].index(node.key)


@pytest.mark.parametrize("kind,classes,channels", [
    ("mobilenet", ["a", "b", "c"], 3), ("resnet", list("wxyz"), 3), ("gray_sigmoid", ["n", "y"], 1),
    ("two_output", ["r", "s", "t"], 3),
])
def test_convolution_page_on_uploaded_models(ctx, user_models, kind, classes, channels):
    name = upload(ctx.registry, None, user_models[kind], samples=sample_zip(classes, 1, 24, channels))
    entry = ctx.registry.get(name)
    state, msg = conv_cb.update_state(ctx, None, name, None, None, None, rng=np.random.default_rng(1))
    assert msg is None
    last = len(entry.conv_layers) - 1
    state, _ = conv_cb.update_state(ctx, {"type": "convolution-layer-button", "index": last}, name, None, None,
                                    state, rng=np.random.default_rng(2))
    fig, caption, numbers, msg = conv_cb.render(ctx, state, "linear", [True])
    assert msg is no_update and f"layer {last + 1} of {last + 1}" in str(caption)
    assert "agree to float precision" in str(numbers)
    kernel = conv_cb.layer_kernels(ctx.registry.get(name), entry.conv_layers[last].key)
    assert np.any(kernel[:, :, state["c_in"], state["c_out"]] != 0)  # never an all-zero depthwise pair
    # an uploaded image is fitted with the model's own preprocessing
    img = (np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)
    state, msg = conv_cb.update_state(ctx, ids.CONV_UPLOAD, name, uri(png_bytes(img)), "../me/pic.png", state)
    assert msg is None and state["upload_name"] == "pic.png"
    x = ctx.arrays.get(state["upload"])
    assert x.shape == entry.input_shape


def test_a_model_without_convolutions_gets_a_precise_message(ctx, tmp_path):
    import keras

    inp = keras.Input((10, 10, 1))
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inp))
    keras.Model(inp, out).save(tmp_path / "dense.keras")
    name = upload(ctx.registry, None, tmp_path / "dense.keras", title="Dense only")
    msg = kernels_cb.render(ctx, name, 0, 2, "32", [], None)[3]
    assert "Dense only has no 2-D convolution layers" in text_of(msg)
    assert kernels_cb.layer_options(ctx, name) == ([], [])
    msg = conv_cb.update_state(ctx, None, name, None, None, None)[1]
    assert "no convolution to show" in text_of(msg)
    assert ctx.registry.get(name).cam_layer is None


def test_add_reports_increasing_stages_ending_at_done_and_a_refusal_stops_below(ctx, user_models):
    reports = []
    path = user_models["gray_sigmoid"]
    out = cb.act(ctx, ids.MODELS_ADD_BUTTON, uri(path.read_bytes()), path.name,
                 uri(sample_zip(["a", "b"], 1, 28, 1)), "ab.zip", None, None, "Staged", None, None, None, None,
                 None, None, None, None, None, None, None, set_progress=reports.append)
    assert "Added Staged" in text_of(out[0]) and out[3].startswith("u-")
    values = [float(v) for v, _ in reports]
    texts = [t for _, t in reports]
    assert all(b > a for a, b in zip(values, values[1:])), reports
    assert values[-1] == 1.0 and texts[-1] == "done: added Staged" and all(v < 1 for v in values[:-1])
    for stage in ("checking files", "reading samples", "loading the model safely", "inspecting the model",
                  "test forward pass", "writing to the store", "warming up"):
        assert any(t.startswith(stage) for t in texts), (stage, texts)
    # warmed up: the new model is already in memory
    assert out[3] in ctx.registry.uploads.loaded_names()
    # a refused file: its specific message, and the bar stays below done, saying where it stopped
    reports.clear()
    bad = path.parent / "page.h5"
    bad.write_bytes(b"<!DOCTYPE html><html><body>Not found</body></html>")
    out = cb.act(ctx, ids.MODELS_ADD_BUTTON, uri(bad.read_bytes()), bad.name, None, None, None, None, None,
                 None, None, None, None, None, None, None, None, None, None, None, set_progress=reports.append)
    assert "is an HTML page, not a model" in text_of(out[0]) and out[1] is no_update
    assert reports and all(float(v) < 1 for v, _ in reports)
    assert reports[-1][1] == "stopped while checking files"
    reports.clear()
    out = cb.act(ctx, ids.MODELS_ADD_BUTTON, uri(user_models["lambda"].read_bytes()), "lambda.keras", None, None,
                 None, None, None, None, None, None, None, None, None, None, None, None, None, None,
                 set_progress=reports.append)
    assert "Lambda layer" in text_of(out[0]) and out[1] is no_update
    assert all(float(v) < 1 for v, _ in reports) and reports[-1][1] == "stopped while loading the model safely"
