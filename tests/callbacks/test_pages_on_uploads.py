"""Relevance, Model summary, Fourier-Net and Chain rule on uploaded models, through their handlers.

Every page renders on each test upload (nested MobileNetV2, ResNet with BN, grayscale sigmoid ``.h5``,
two outputs, and a linear conv stack with 40 classes fed 0–255 values) or says precisely why a view does
not apply; on the nested MobileNetV2 the relevance and summary numbers equal those computed by hand on the
original (nested) Keras model.
"""

import base64
import re

import numpy as np
import pytest

from callbacks import chainrule as cr_cb
from callbacks import fouriernet as fn_cb
from callbacks import relevance as rel_cb
from callbacks import summary as sum_cb
from callbacks.common import UserError
from dashboard import ids
from dashboard.figures.images import decode
from dashboard.figures.relevance import RELEVANCE_TRACE, gamma_map
from tests.uploads import UPLOAD_KINDS, png_bytes, uploaded_context
from xai_core.filters import root_point

KINDS = UPLOAD_KINDS


def text_of(component) -> str:
    return str(getattr(component, "children", component)) if component is not None else ""


@pytest.fixture(scope="module")
def env(tmp_path_factory, user_models):
    return uploaded_context(tmp_path_factory.mktemp("pages-on-uploads"), user_models)


def relevance_args(name, image=0, target="predicted", channel="sum", upload=None):
    return (name, image, "gaussian", 1.0, target, [True], [True], channel, 1.0, 0.6, upload)


@pytest.mark.parametrize("kind", list(KINDS) + ["linear"])
def test_every_page_renders_or_says_why(env, kind):
    ctx, names = env
    name = names[kind]
    entry = ctx.registry.get(name)
    k = len(entry.class_names)
    title = entry.spec.title
    # Relevance: one target option per class, four panels, the numbers table lists every class
    controls = rel_cb.model_controls(ctx, name)
    assert len(controls[3]) == k + 1 and controls[0] == entry.n_samples - 1
    fig, over, nums, caption, msg = rel_cb.render(ctx, *relevance_args(name))
    assert (msg is None) == (kind != "two_output")  # two outputs: an info note says which one is explained
    assert len(fig["data"]) == 4 and "Explaining image 0" in caption
    assert all(c in str(nums) for c in entry.class_names)
    # Model summary: tables, bounded slider marks, a kernel view of the last conv layer
    table, msg = sum_cb.table(ctx, name, "conv")
    assert msg is None and title in str(table)
    n_conv = len(entry.conv_layers)
    ranges = sum_cb.slider_ranges(ctx, name, n_conv - 1, 0, 0)
    assert ranges[0] == n_conv - 1 and len(ranges[6]) <= 3
    assert ranges[2] == entry.conv_layers[-1].outputs[0].shape[-1] - 1
    fig, caption, msg = sum_cb.render(ctx, name, n_conv - 1, ranges[2], 0)
    assert msg is None and f"Layer {n_conv} of {n_conv}" in caption and len(fig["data"]) == 6
    # Fourier-Net and Chain rule: only a linear conv stack qualifies
    fn = fn_cb.render(ctx, name, 0, 0)
    cr = cr_cb.render(ctx, name, 0, "predicted", 0, 3, 4)
    assert len(cr_cb.class_options(ctx, name)[0]) == k + 1
    if kind != "linear":
        for out in (fn[-1], fn_cb.render_kernels(ctx, name, 0, None)[-1], fn_cb.render_timing(ctx, name)[-1],
                    cr[-1]):
            text = text_of(out)
            assert text.startswith(f"{title} is not a linear conv stack: "), text
            assert "the Fourier-Net view needs convolutions without activations before the dense head" in text
        return
    assert fn[-1] is None and title in fn[3] and "c1 → c2" in fn[3]
    logits = entry.logits_model(entry.x[:1], training=False).numpy()[0]
    rows = fn[2].children[1].children
    assert len(rows) == fn_cb.MAX_LOGIT_ROWS and "(top 10 of 40)" in str(fn[2])  # the 10 highest of 40 logits
    assert [int(r.children[0].children.split(":")[0]) for r in rows] == list(np.argsort(-logits)[:10])
    assert fn_cb.render_kernels(ctx, name, 0, None)[-1] is None
    with pytest.raises(UserError, match="My linear is an uploaded model: it has no training or test split"):
        fn_cb.image_set(entry, "test")
    assert fn_cb.image_set(entry, "samples")[0] is entry.x
    options, value = fn_cb.image_set_options(ctx, name, "train")
    assert value == "samples" and [o.get("disabled", False) for o in options] == [False, True, True]
    assert all("an uploaded model has only its bundled samples" in o["label"] for o in options[1:])
    imp = fn_cb.run_importance(lambda _: None, ctx, 1, name, 30, "exact", 0, "samples")
    assert imp[-1] is None and f"{entry.n_samples} bundled samples of My linear" in imp[3]
    assert cr[-1] is None and "My linear, sample 0, y = " in cr[6]
    assert "agree with GradientTape to float precision" in str(cr[3])


@pytest.mark.parametrize("kind,reason", [
    ("mobilenet", "the model does not start with a linear convolution: 'Conv1' has strides (2, 2)"),
    ("resnet", "only 'stem' is linear, the next layer 'stem_bn' is a BatchNormalization"),
    ("gray_sigmoid", "the model does not start with a linear convolution: 'conv1' has the activation 'relu'"),
    ("two_output", "the model does not start with a linear convolution: 'conv1' has the activation 'relu'"),
])
def test_fouriernet_says_which_layer_breaks_the_linear_stack(env, kind, reason):
    ctx, names = env
    text = text_of(fn_cb.render(ctx, names[kind], 0, 0)[-1])
    assert text.startswith(f"My {kind} is not a linear conv stack: {reason}"), text


def test_two_output_and_sigmoid_uploads_say_what_is_explained(env, user_models):
    import keras

    ctx, names = env
    note = rel_cb.render(ctx, *relevance_args(names["two_output"]))[-1]
    assert "My two_output has 2 outputs; this page explains output 0 (shape (None, 3))" in text_of(note)
    assert rel_cb.render(ctx, *relevance_args(names["gray_sigmoid"]))[-1] is None
    for kind in ("two_output", "gray_sigmoid"):  # the tables list the model as uploaded
        original = keras.saving.load_model(user_models[kind], safe_mode=True)
        table = str(sum_cb.table(ctx, names[kind], "all")[0])
        assert f"{original.count_params():,}" in table and "kernelscope_" not in table
        assert all(layer.name in table for layer in original.layers[1:])


def test_relevance_on_nested_mobilenet_equals_the_original_model(env, user_models):
    """Gradient and R from the page equal a GradientTape on the original nested Keras model."""
    import keras
    import tensorflow as tf

    ctx, names = env
    name = names["mobilenet"]
    entry = ctx.registry.get(name)
    original = keras.saving.load_model(user_models["mobilenet"], safe_mode=True)
    assert any(isinstance(layer, keras.Model) for layer in original.layers)  # really nested
    x = entry.x[1]
    probs = original(x[None], training=False).numpy()[0]
    target = (int(np.argmax(probs)) + 1) % len(probs)  # a chosen (not predicted) class
    with tf.GradientTape() as tape:
        t = tf.convert_to_tensor(x[None])
        tape.watch(t)
        p = original(t, training=False)[0, target]
    grad = tape.gradient(p, t).numpy()[0].astype(np.float64)
    root = root_point(x, "gaussian", 1.0).astype(np.float64)
    r = grad * (x.astype(np.float64) - root)
    for channel in ("0", "2"):
        fig, _, nums, caption, msg = rel_cb.render(ctx, *relevance_args(name, 1, str(target), channel))
        assert msg is None and f"class {target}" in caption and "chosen" in caption
        c = int(channel)
        scale = np.abs(grad[..., c]).max()
        np.testing.assert_allclose(decode(fig["data"][2]["z"]), grad[..., c], rtol=1e-3, atol=1e-4 * scale)
        np.testing.assert_allclose(decode(fig["data"][RELEVANCE_TRACE]["z"]), gamma_map(r[..., c], 1.0),
                                   rtol=1e-3, atol=1e-3)
    shown = float(re.search(r"Σ R = ([-0-9.e+]+)", str(nums)).group(1))
    assert shown == pytest.approx(r.sum(), rel=1e-3, abs=1e-6)
    for p in probs:
        assert f"{p:.4f}" in str(nums)


def test_summary_on_nested_mobilenet_equals_the_original_model(env, user_models):
    """Tables and kernel views on the flattened upload equal the nested model's own layers."""
    import keras

    ctx, names = env
    name = names["mobilenet"]
    entry = ctx.registry.get(name)
    original = keras.saving.load_model(user_models["mobilenet"], safe_mode=True)
    base = next(layer for layer in original.layers if isinstance(layer, keras.Model))
    conv_types = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
    by_hand = [f"{base.name}/{layer.name}" for layer in base.layers if type(layer).__name__ in conv_types]
    assert [n.key for n in entry.conv_layers] == by_hand and len(by_hand) > 50
    table = str(sum_cb.table(ctx, name, "all")[0])
    assert f"{original.count_params():,}" in table
    conv_table = str(sum_cb.table(ctx, name, "conv")[0])
    assert all(key in conv_table for key in by_hand)
    image = 2
    x = entry.x[image][None]
    for layer_type in ("DepthwiseConv2D", "Conv2D"):
        index = next(i for i, n in enumerate(entry.conv_layers) if n.type_name == layer_type and i > 0)
        node = entry.conv_layers[index]
        layer = base.get_layer(node.key.split("/", 1)[1])
        channels = int(layer.output.shape[-1])
        ranges = sum_cb.slider_ranges(ctx, name, index, 10_000, image)
        assert ranges[2] == channels - 1 and ranges[3] == channels - 1 and ranges[5] == image
        kernel = channels // 2 + 1
        fig, caption, msg = sum_cb.render(ctx, name, index, kernel, image)
        assert msg is None and node.key in caption
        # the true channel, computed on the nested base (the outer model feeds x to the base unchanged)
        actual = keras.Model(base.input, layer.output)(x, training=False).numpy()[0, :, :, kernel]
        layer_in = keras.Model(base.input, layer.input)(x, training=False).numpy()[0]
        np.testing.assert_allclose(decode(fig["data"][5]["z"]), actual, rtol=1e-4, atol=1e-5 * np.abs(actual).max())
        if layer_type == "DepthwiseConv2D":  # one input channel, one real kernel: the view is exact
            m = layer.kernel.shape[3]
            np.testing.assert_allclose(decode(fig["data"][2]["z"]), layer.kernel.numpy()[:, :, kernel // m,
                                                                                        kernel % m], rtol=1e-6)
            np.testing.assert_allclose(decode(fig["data"][1]["z"]), layer_in[:, :, kernel // m], rtol=1e-5,
                                       atol=1e-6)
            np.testing.assert_allclose(decode(fig["data"][4]["z"]), actual, rtol=1e-3,
                                       atol=1e-4 * np.abs(actual).max())
            assert f"its {channels} real kernels" in caption
        else:
            np.testing.assert_allclose(decode(fig["data"][1]["z"]), layer_in.mean(axis=-1), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(decode(fig["data"][2]["z"]), layer.kernel.numpy()[..., kernel].mean(axis=2),
                                       rtol=1e-5, atol=1e-7)


def test_uploaded_image_and_many_classes_on_a_0_255_model(env):
    """A user image is fitted with the upload's scaling; 40 classes cost one backward pass per class used."""
    import tensorflow as tf

    ctx, names = env
    name = names["linear"]
    entry = ctx.registry.get(name)
    assert entry.spec.value_range == (0.0, 255.0) and entry.y is None and len(entry.class_names) == 40
    img = (np.random.default_rng(1).random((30, 20)) * 255).astype(np.uint8)
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode()
    store, msg = rel_cb.store_upload(ctx, uri, "../me/pic.png")
    assert msg is None and store["name"] == "pic.png"
    controls = rel_cb.model_controls(ctx, name, store, ids.RELEVANCE_UPLOAD_STORE)
    assert controls[1] == entry.n_samples and controls[2][entry.n_samples] == "upload"
    rel_cb.GRADIENTS.clear()
    calls = []
    original = entry.gradients

    def counted(*args, **kwargs):
        calls.append(np.shape(args[0])[0])
        return original(*args, **kwargs)

    entry.gradients = counted
    try:
        fig, _, nums, caption, msg = rel_cb.render(ctx, *relevance_args(name, entry.n_samples, "37", upload=store))
    finally:
        del entry.gradients
    assert msg is None and "uploaded image pic.png" in caption
    assert sum(calls) <= 3  # x and x̃ for the scores, then x for class 37 only (not 40 copies)
    x = entry.fit_image(ctx.arrays.get(store["key"])).x
    assert x.shape == (16, 16, 1) and 1.5 < x.max() <= 255.0  # 0-255 scaling applied
    t = tf.convert_to_tensor(x[None])
    with tf.GradientTape() as tape:
        tape.watch(t)
        p = entry.model(t, training=False)[0, 37]
    grad = tape.gradient(p, t).numpy()[0, :, :, 0]
    np.testing.assert_allclose(decode(fig["data"][2]["z"]), grad, rtol=1e-3, atol=1e-4 * np.abs(grad).max())


def test_corrected_settings_never_show_stale_results(env):
    """After the scaling of an upload is corrected, relevance and summary use the new inputs (runs last:
    it changes the gray_sigmoid upload of this module)."""
    from dataclasses import replace

    ctx, names = env
    name = names["gray_sigmoid"]
    before = ctx.registry.get(name)
    rel_cb.render(ctx, *relevance_args(name, 1))
    sum_cb.render(ctx, name, 1, 2, 1)
    uploads = ctx.registry.uploads
    uploads.update_intake(name, replace(before.intake, scaling="byte"))
    entry = ctx.registry.get(name)
    assert entry is not before and entry.spec.value_range == (0.0, 255.0)
    np.testing.assert_allclose(entry.x, before.x * 255.0, rtol=1e-6)
    fig = rel_cb.render(ctx, *relevance_args(name, 1))[0]
    scores, grad = entry.gradients(entry.x[1:2], int(np.argmax(entry.predict(entry.x[1]))), softmax=True)
    g = grad[0, :, :, 0]
    np.testing.assert_allclose(decode(fig["data"][2]["z"]), g, rtol=1e-3, atol=1e-4 * np.abs(g).max())
    fig = sum_cb.render(ctx, name, 1, 2, 1)[0]
    actual = entry.layer_activation(entry.conv_layers[1].key, entry.x[1:2])[0, :, :, 2]
    np.testing.assert_allclose(decode(fig["data"][5]["z"]), actual, rtol=1e-5, atol=1e-6)
