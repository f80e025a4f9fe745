"""Relevance page handlers, called directly."""

import numpy as np
import pytest
from dash import no_update

from callbacks import relevance as cb
from dashboard.figures.images import decode
from dashboard.figures.relevance import OVERLAY_TRACE, RELEVANCE_TRACE, gamma_map
from xai_core.filters import root_point


def text_of(component):
    return str(component) if component is not None else ""


def close(actual, expected):
    """float32 gradients of a batch of K images vs one image differ in the last bits (oneDNN)."""
    expected = np.asarray(expected, np.float64)
    np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


def patch_ops(patch):
    return {tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]}


@pytest.fixture()
def counted(app_context, monkeypatch):
    """Count the backward passes of mnist17 and start with empty relevance caches.

    Returns ``(entry, calls)``; ``calls.forward`` lists the forward-only model
    runs (``entry.run``, used for f(x̃)).
    """
    entry = app_context.registry.get("mnist17")

    class Calls(list):
        forward: list

    calls = Calls()
    calls.forward = []
    original, original_run = entry.gradients, entry.run

    def gradients(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    def run(*args, **kwargs):
        calls.forward.append(args)
        return original_run(*args, **kwargs)

    monkeypatch.setattr(entry, "gradients", gradients)
    monkeypatch.setattr(entry, "run", run)
    cb.GRADIENTS.clear()
    cb.ROOTS.clear()
    cb.ROOT_POINTS.clear()
    return entry, calls


def args(model="mnist17", image=3, filt="gaussian", sigma=1.0, target="predicted", softmax=(True,),
         numeric=(True,), channel="sum", gamma=1.0, opacity=0.6):
    return (model, image, filt, sigma, target, list(softmax), list(numeric), channel, gamma, opacity)


def test_render_shows_grad_times_difference(app_context, counted):
    entry, calls = counted
    fig, over, nums, caption, msg = cb.render(app_context, *args(gamma=0.5))
    assert msg is None and "predicted" in caption and "Gaussian blur" in caption
    x = entry.x[3]
    pred = int(np.argmax(entry.predict(x)))
    _, g = entry.gradients(x[None], pred, softmax=True)
    r = g[0].astype(np.float64) * (x.astype(np.float64) - root_point(x, "gaussian", 1.0))
    assert len(fig["data"]) == 4
    close(decode(fig["data"][2]["z"]), g[0][:, :, 0])
    close(decode(fig["data"][RELEVANCE_TRACE]["z"]), gamma_map(r[:, :, 0], 0.5))
    assert fig["data"][RELEVANCE_TRACE]["zmin"] == -1 and fig["data"][RELEVANCE_TRACE]["zmax"] == 1
    assert over["data"][OVERLAY_TRACE]["opacity"] == 0.6
    text = text_of(nums)
    assert "Σ R = " in text and "residual" in text
    sum_r = float(text.split("Σ R = ")[1].split("'")[0])
    assert sum_r == pytest.approx(r.sum(), rel=1e-4)


def test_sigma_reuses_the_gradient_and_gamma_patches_only(app_context, counted):
    entry, calls = counted
    cb.render(app_context, *args(sigma=1.0))
    n = len(calls)
    assert n == 1
    fig2, *_ = cb.render(app_context, *args(sigma=2.5, filt="nearest"))
    assert len(calls) == n  # no new backward pass for a new sigma or filter
    main, over, msg = cb.restyle_gamma(app_context, 2.0, "mnist17", 3, "nearest", 2.5, "predicted", [True], "sum")
    assert len(calls) == n and msg is None
    ops = patch_ops(main)
    z = decode(ops[("data", RELEVANCE_TRACE, "z")])
    np.testing.assert_allclose(z, gamma_map(decode(fig2["data"][RELEVANCE_TRACE]["z"]), 2.0), rtol=1e-4, atol=1e-6)
    assert "γ = 2" in ops[("layout", "annotations", RELEVANCE_TRACE, "text")]
    assert ("data", OVERLAY_TRACE, "z") in patch_ops(over)
    patch, msg = cb.set_opacity(0.25)
    assert msg is None and patch_ops(patch)[("data", OVERLAY_TRACE, "opacity")] == 0.25
    # a new image costs one backward pass
    cb.render(app_context, *args(image=4, sigma=2.5, filt="nearest"))
    assert len(calls) == n + 1


def test_sigma_runs_the_model_only_for_the_numbers(app_context, counted):
    """Numbers off: a new sigma or filter is a filter and a product, no model call at all.
    Numbers on: one forward pass for f(x̃), then cached; gamma never runs the model."""
    entry, calls = counted
    fig, _, nums, _, msg = cb.render(app_context, *args(sigma=1.0, numeric=()))
    assert msg is None and nums is None
    assert len(calls) == 1 and calls[0][0].shape[0] == len(entry.class_names)  # x only, no root point riding along
    assert calls.forward == []
    x = entry.x[3]
    def predict(a):  # an uncounted, independent forward pass
        return np.asarray(entry.model(a[None], training=False))[0]

    pred = int(np.argmax(predict(x)))
    _, g = type(entry).gradients(entry, x[None], pred, softmax=True)  # uncounted reference
    for filt, sigma in (("gaussian", 2.0), ("nearest", 1.5), ("sharpness", 0.75)):
        fig, _, nums, _, msg = cb.render(app_context, *args(sigma=sigma, filt=filt, numeric=()))
        assert msg is None and nums is None
        r = g[0].astype(np.float64) * (x.astype(np.float64) - root_point(x, filt, sigma))
        close(decode(fig["data"][RELEVANCE_TRACE]["z"]), gamma_map(r[:, :, 0], 1.0))
    assert len(calls) == 1 and calls.forward == []
    main, over, msg = cb.restyle_gamma(app_context, 0.5, "mnist17", 3, "sharpness", 0.75, "predicted", [True], "sum")
    assert msg is None and len(calls) == 1 and calls.forward == []
    # numbers on: one forward pass for f(x̃) at this (filter, sigma), cached afterwards
    _, _, nums, _, msg = cb.render(app_context, *args(sigma=0.75, filt="sharpness", numeric=(True,)))
    assert msg is None and "residual" in text_of(nums)
    assert len(calls) == 1 and len(calls.forward) == 1
    cb.render(app_context, *args(sigma=0.75, filt="sharpness", numeric=(True,), gamma=2.0))
    cb.restyle_gamma(app_context, 2.5, "mnist17", 3, "sharpness", 0.75, "predicted", [True], "sum")
    assert len(calls) == 1 and len(calls.forward) == 1
    # the numbers shown equal an independent forward pass at x̃
    root = root_point(x, "sharpness", 0.75)
    p_root = predict(root)
    assert f"{p_root[pred]:.4f}" in text_of(nums)
    cb.render(app_context, *args(sigma=3.0, filt="sharpness", numeric=(True,)))
    assert len(calls) == 1 and len(calls.forward) == 2


def test_gamma_and_opacity_sliders_update_while_dragged():
    from dashboard import ids
    from dashboard.pages import relevance as page

    def find(node, wanted):
        if getattr(node, "id", None) == wanted:
            return node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str):
                hit = find(child, wanted)
                if hit is not None:
                    return hit
        return None

    tree = page.layout()
    assert find(tree, ids.RELEVANCE_GAMMA_SLIDER).updatemode == "drag"
    assert find(tree, ids.RELEVANCE_OPACITY_SLIDER).updatemode == "drag"
    assert find(tree, ids.RELEVANCE_SIGMA_SLIDER).updatemode == "mouseup"


def test_sigma_zero_gives_zero_relevance(app_context):
    fig, _, nums, _, msg = cb.render(app_context, *args(sigma=0.0))
    assert msg is None
    assert not np.any(decode(fig["data"][RELEVANCE_TRACE]["z"]))
    assert "Σ R = 0" in text_of(nums) and "f(x) − f(x̃) = 0" in text_of(nums)


def test_target_class_softmax_and_numeric_toggles(app_context):
    entry = app_context.registry.get("mnist17")
    pred = int(np.argmax(entry.predict(entry.x[3])))
    other = 1 - pred
    fig_p, _, nums, caption, _ = cb.render(app_context, *args(target=str(other), numeric=()))
    assert nums is None and f"class {other}" in caption and "the model predicts" in caption
    fig_z, _, nums_z, caption_z, _ = cb.render(app_context, *args(target=str(other), softmax=()))
    assert "logit" in caption_z and "f = its logit" in text_of(nums_z)
    _, g = entry.gradients(entry.x[3][None], other, softmax=False)
    close(decode(fig_z["data"][2]["z"]), g[0][:, :, 0])
    assert not np.allclose(decode(fig_z["data"][2]["z"]), decode(fig_p["data"][2]["z"]))
    # probabilities shown in both modes (logits are passed through the softmax)
    p = entry.predict(entry.x[3])
    assert f"{p[other]:.4f}" in text_of(nums_z)


def test_rgb_channels(app_context):
    entry = app_context.registry.get("cifar5")
    fig, over, _, _, msg = cb.render(app_context, *args(model="cifar5", image=2, channel="sum"))
    assert msg is None
    assert fig["data"][0]["type"] == "image" and over["data"][0]["type"] == "image"
    x = entry.x[2]
    pred = int(np.argmax(entry.predict(x)))
    _, g = entry.gradients(x[None], pred, softmax=True)
    close(decode(fig["data"][2]["z"]), g[0].sum(-1))
    fig1, *_ = cb.render(app_context, *args(model="cifar5", image=2, channel="1"))
    assert fig1["data"][0]["type"] == "heatmap"
    close(decode(fig1["data"][2]["z"]), g[0][:, :, 1])
    opts = cb.model_controls(app_context, "cifar5")
    assert opts[0] == entry.n_samples - 1 and [o["value"] for o in opts[5]] == ["sum", "0", "1", "2"]
    assert len(opts[3]) == 1 + len(entry.class_names) and max(opts[2]) == entry.n_samples - 1


@pytest.mark.parametrize("overrides,needle", [
    ({"model": "nope"}, "unknown model"),
    ({"model": None}, "choose a model"),
    ({"image": 10_000}, "Image must be"),
    ({"image": 1.5}, "Image must be"),
    ({"sigma": 9}, "Sigma must be"),
    ({"sigma": "abc"}, "Sigma must be"),
    ({"filt": "median"}, "Filter must be one of"),
    ({"target": "7"}, "Target class must be"),
    ({"gamma": 0}, "Gamma must be"),
    ({"channel": "1"}, None),  # a channel on a gray model falls back to the one channel
])
def test_bad_inputs_give_messages(app_context, overrides, needle):
    out = cb.render(app_context, *args(**overrides))
    if needle is None:
        assert out[4] is None
        return
    assert out[0] is no_update and out[1] is no_update
    assert needle.lower() in text_of(out[4]).lower()
    bad = cb.restyle_gamma(app_context, 5.0, "mnist17", 3, "gaussian", 1.0, "predicted", [True], "sum")
    assert "gamma must be" in text_of(bad[2]).lower()


@pytest.mark.parametrize("value", [1.5, -0.1, "abc", None])
def test_bad_opacity_gives_a_message(value):
    patch, msg = cb.set_opacity(value)
    assert patch is no_update and "opacity must be a number from 0 to 1" in text_of(msg).lower()


def _png_uri(array):
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_uploaded_image_is_the_last_slider_position(app_context):
    from dashboard import ids

    rng = np.random.default_rng(5)
    store, msg = cb.store_upload(app_context, _png_uri(rng.integers(0, 255, (40, 50, 3), np.uint8)), "mine.png")
    assert msg is None and store["name"] == "mine.png"
    for model in ("mnist17", "cifar5"):
        entry = app_context.registry.get(model)
        n = entry.n_samples
        controls = cb.model_controls(app_context, model, store, ids.RELEVANCE_UPLOAD_STORE)
        assert controls[0] == n and controls[1] == n and controls[2][n] == "upload"
        assert cb.model_controls(app_context, model, store, ids.APP_MODEL_DROPDOWN)[1] == 0
        fig, _, _, caption, msg = cb.render(app_context, *args(model=model, image=n), upload=store)
        assert msg is None and "uploaded image mine.png" in caption and "resized from 50×40" in caption
        x, _ = cb.uploaded_image(app_context, entry, store)
        assert x.shape == entry.input_shape
        pred = int(np.argmax(entry.predict(x)))
        _, g = entry.gradients(x[None], pred, softmax=True)
        close(decode(fig["data"][2]["z"]), g[0].sum(-1))
        # without an upload the same position is out of range
        out = cb.render(app_context, *args(model=model, image=n))
        assert "image must be" in text_of(out[4]).lower()


def test_bad_upload_gives_a_message(app_context):
    bad = "data:image/png;base64," + __import__("base64").b64encode(b"\x89PNG\r\n\x1a\n" + bytes(99)).decode()
    out = cb.store_upload(app_context, bad, "broken.png")
    assert out[0] is no_update and "broken.png" in text_of(out[1])
    out = cb.store_upload(app_context, "not a data uri", "x.png")
    assert out[0] is no_update and "base64" in text_of(out[1])


def test_model_without_softmax_says_so(app_context):
    """A model with a linear head: the page says its raw outputs are used, in both softmax settings."""
    from callbacks.common import AppContext
    from tests.unit.test_relevance import _entry

    entry = _entry("linear")

    class OneModel:
        def spec(self, name):
            return entry.spec

        def get(self, name):
            return entry

    ctx = AppContext(OneModel(), app_context.settings, app_context.arrays)
    for softmax in ((True,), ()):
        fig, _, nums, caption, note = cb.render(ctx, *args(model=entry.name, image=1, softmax=softmax))
        assert "no final softmax" in text_of(note) and "raw outputs" in text_of(note)
        assert "output at x" in text_of(nums)
    # and a model with a separate Softmax layer is differentiated through it
    layered = _entry("layer")
    ctx2 = AppContext(type("R", (), {"spec": lambda self, n: layered.spec, "get": lambda self, n: layered})(),
                      app_context.settings, app_context.arrays)
    _, _, _, caption, note = cb.render(ctx2, *args(model=layered.name, image=1, softmax=()))
    assert note is None and "logit" in caption


def test_ten_class_model_computes_only_the_class_it_shows(app_context, monkeypatch):
    """cifar10 (10 > MAX_CLASS_BATCH classes): a new image costs two small gradient calls, not a batch of 11,
    and the gradient shown is the predicted class's, as an independent tape computes it."""
    import tensorflow as tf

    entry = app_context.registry.get("cifar10")
    assert len(entry.class_names) > cb.MAX_CLASS_BATCH
    calls, original = [], entry.gradients

    def gradients(x, *rest, **kwargs):
        calls.append(len(x))
        return original(x, *rest, **kwargs)

    monkeypatch.setattr(entry, "gradients", gradients)
    cb.GRADIENTS.clear()
    cb.ROOTS.clear()
    cb.ROOT_POINTS.clear()
    fig, _over, _nums, _caption, msg = cb.render(app_context, *args(model="cifar10", image=3))
    assert msg is None and len(calls) <= 2 and max(calls) <= 2
    x = tf.constant(entry.x[3][None])  # predicted class 3, not the class 0 that comes along
    with tf.GradientTape() as tape:
        tape.watch(x)
        p = entry.model(x, training=False)
        pred = int(np.argmax(p[0]))
        y = p[0, pred]
    close(decode(fig["data"][2]["z"]), tape.gradient(y, x).numpy()[0, :, :, 0])
