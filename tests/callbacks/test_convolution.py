"""Convolution page handlers, called directly."""

import base64
import io

import numpy as np
import pytest
import tensorflow as tf
from dash import no_update
from PIL import Image

from callbacks import convolution as cb
from dashboard import ids
from dashboard.figures.images import decode, panel_traces


def text_of(component):
    return str(component.children) if component is not None else ""


def data_uri(img: Image.Image, fmt="PNG") -> str:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def fresh(app_context, model="mnist17", seed=0):
    state, msg = cb.update_state(app_context, None, model, None, None, None, rng=np.random.default_rng(seed))
    assert msg is None
    return state


def test_initial_state_and_render_agree_with_tf(app_context):
    state = fresh(app_context)
    assert state["model"] == "mnist17" and state["layer"] == 0 and state["upload"] is None
    fig, caption, numbers, msg = cb.render(app_context, state, "linear", [True])
    assert msg is no_update
    entry = app_context.registry.get("mnist17")
    x, _ = entry.sample(state["image"])
    k = entry.model.get_layer("conv1").kernel.numpy()[:, :, state["c_in"], state["c_out"]]
    ref = tf.nn.conv2d(x[None, :, :, :1], k[:, :, None, None], 1, "SAME").numpy()[0, :, :, 0]
    panels = panel_traces(fig)
    np.testing.assert_allclose(decode(panels["Keras: tf.nn.conv2d"]["z"]), ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(decode(panels["IFFT(F{x}·F{h})"]["z"]), ref, rtol=1e-4, atol=1e-5)
    assert "agree to float precision" in str(numbers)


def test_deeper_layer_uses_the_real_layer_input(app_context):
    state = fresh(app_context)
    state, _ = cb.update_state(app_context, ids.conv_layer_button(2), "mnist17", None, None, state,
                               rng=np.random.default_rng(5))
    assert state["layer"] == 2
    fig, caption, numbers, _ = cb.render(app_context, state, "linear", [])
    entry = app_context.registry.get("mnist17")
    x, _ = entry.sample(state["image"])
    m = entry.model
    layer_in = m.get_layer("conv2")(m.get_layer("conv1")(x[None])).numpy()[0, :, :, state["c_in"]]
    np.testing.assert_allclose(decode(fig["data"][0]["z"]), layer_in, rtol=1e-4, atol=1e-5)
    assert "conv3" in str(caption)


def test_circular_mode_shows_edge_disagreement(app_context):
    state = fresh(app_context, "cifar10", 3)
    _, _, numbers, _ = cb.render(app_context, state, "circular", [])
    assert "differ" in str(numbers)


def test_input_button_changes_image_and_layer_button_changes_kernel(app_context):
    state = fresh(app_context, seed=1)
    new, _ = cb.update_state(app_context, ids.CONV_INPUT_BUTTON, "mnist17", None, None, state,
                             rng=np.random.default_rng(99))
    assert new["image"] != state["image"] and new["layer"] == state["layer"]
    same, _ = cb.update_state(app_context, "layer-buttons-rendered", "mnist17", None, None, state)
    assert same is no_update


def test_upload_of_a_real_image(app_context):
    state = fresh(app_context, "cifar10pad")
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 80, 3), np.uint8))
    state, msg = cb.update_state(app_context, ids.CONV_UPLOAD, "cifar10pad", data_uri(img), "../../etc/cat.png",
                                 state)
    assert msg is None and state["upload"] and state["upload_name"] == "cat.png"
    assert any("grayscale" in n for n in state["notes"])
    fig, caption, numbers, _ = cb.render(app_context, state, "linear", [])
    assert "uploaded image cat.png" in str(caption)
    assert decode(fig["data"][0]["z"]).shape == (42, 42)


@pytest.mark.parametrize("contents,needle", [
    ("data:image/png;base64," + base64.b64encode(b"\x89PNG garbage").decode(), "could not read"),
    ("data:image/png;base64,@@@", "not valid base64"),
    ("just text", "not a base64 data URI"),
])
def test_corrupt_upload_gets_a_message_and_keeps_state(app_context, contents, needle):
    state = fresh(app_context)
    out, msg = cb.update_state(app_context, ids.CONV_UPLOAD, "mnist17", contents, "bad.png", state)
    assert out is no_update and needle.lower() in text_of(msg).lower()


@pytest.mark.parametrize("bad", [
    {"model": "mnist17", "image": 999, "layer": 0, "c_in": 0, "c_out": 0},
    {"model": "mnist17", "image": 0, "layer": 7, "c_in": 0, "c_out": 0},
    {"model": "mnist17", "image": 0, "layer": 1, "c_in": 32, "c_out": 0},
    {"model": "ghost", "image": 0, "layer": 0, "c_in": 0, "c_out": 0},
    None,
])
def test_out_of_range_state_gets_a_message(app_context, bad):
    fig, caption, numbers, msg = cb.render(app_context, bad, "linear", [])
    assert fig is no_update and msg is not None and msg.className == "alert alert-error"


def test_bad_mode_and_layer_buttons(app_context):
    state = fresh(app_context)
    assert "must be one of" in text_of(cb.render(app_context, state, "spiral", [])[3])
    buttons = cb.layer_buttons(app_context, "cifar5")
    assert [b.children for b in buttons] == [f"Layer {i}" for i in range(1, 7)]
    assert "unknown model" in str(cb.layer_buttons(app_context, "nope").children)
