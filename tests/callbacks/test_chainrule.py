"""Chain-rule page handlers, called directly."""

import numpy as np
import pytest
from dash import no_update

from callbacks import chainrule as cb
from dashboard.figures.images import decode


def text_of(component):
    return str(component.children) if component is not None and hasattr(component, "children") else str(component)


def table_values(table):
    return {tr.children[0].children: tr.children[1].children for tr in table.children.children}


def test_scalar_example_table(app_context):
    table, msg = cb.scalar(app_context, 3, "3, 4")
    assert msg is None
    v = table_values(table)
    assert v["g = x·b"] == "[9, 12]"
    assert v["y = Σ g⁵"] == "307,881"
    assert v["∂y/∂g = 5 g⁴ (tape)"] == "[32,805, 103,680]"
    assert v["∂y/∂x directly (tape)"] == v["∂y/∂x = ∂y/∂g · ∂g/∂x (chain rule)"] == "513,135"
    table, _ = cb.scalar(app_context, 2, "1 -1 0.5")
    assert table_values(table)["∂y/∂x directly (tape)"] == f"{5 * 2**4 * (1 - 1 + 0.5**5):,.6g}"


@pytest.mark.parametrize("x,b,needle", [
    (None, "3, 4", "x must be"),
    (3, "", "b is empty"),
    (3, "3, four", "b must be numbers"),
    (3, ",".join(["1"] * 17), "at most 16"),
    (5000, "1", "x must be"),
])
def test_scalar_bad_input(app_context, x, b, needle):
    table, msg = cb.scalar(app_context, x, b)
    assert table is no_update and needle.lower() in text_of(msg).lower()


def test_class_options(app_context):
    opts, value = cb.class_options(app_context, "mnist17")
    assert value == "predicted" and [o["label"] for o in opts] == ["predicted", "0: 1", "1: 7"]


# The probability case uses a sample the model is unsure about (p(1 − p) ≈ 0.013): for a saturated
# softmax (p = 1 − 2e-6, sample 5) float32 resolves 1 − p to a few per cent, so two float32 paths to
# the probability gradient agree only to ~1e-4 relative, which says nothing about the chain rule.
@pytest.mark.parametrize("softmax,image", [((True,), 25), ((), 5)], ids=["probability", "logit"])
def test_render_gradients_agree_with_the_tape(app_context, softmax, image):
    dydg, pixel, grad, grad_text, taylor, taylor_text, caption, msg = cb.render(
        app_context, "mnist17", image, "1", 7, 10, 12, list(softmax))
    assert msg is None and "class 1 (7)" in caption and "pixel p = (10, 12)" in caption
    assert ("probability of class" if softmax else "logit of class") in caption
    entry = app_context.registry.get("mnist17")
    _, direct = entry.gradients(entry.x[image:image + 1], 1, softmax=bool(softmax))
    traces = {t["name"]: t for t in grad["data"]}
    tape = decode(traces["GradientTape ∂y/∂x"]["z"])
    np.testing.assert_allclose(tape, direct[0, :, :, 0], rtol=1e-6)
    scale = np.abs(tape).max()
    for name in ("chain rule, spatial", "chain rule, Fourier (per layer)"):
        assert np.abs(decode(traces[name]["z"]) - tape).max() <= 1e-5 * scale
    fused = decode(traces["chain rule, fused F{K123}"]["z"])
    assert np.abs(fused - tape)[3:-3, 3:-3].max() <= 1e-5 * scale
    # the pixel panel's spatial map is the fused kernel placed at p: g(delta_p) in the interior
    impulse = np.zeros((1, 28, 28, 1), np.float32)
    impulse[0, 10, 12, 0] = 1
    from callbacks.fouriernet import stack_parts

    _, parts = stack_parts(app_context, "mnist17")
    col = parts.g(impulse)[0, :, :, 7]
    ptr = {t["name"]: t for t in pixel["data"]}
    np.testing.assert_allclose(decode(ptr["∂g[7]/∂x at p=(10, 12)"]["z"]), col, atol=1e-6)
    # Taylor through the split equals the relevance core.  For the probability, ∂p/∂x scales with
    # p(1 − p), whose relative error is |1 − 2p|·δz for an error δz of z1 − z0: float32 logits of a batch
    # of 1 and of 2 (the core's batch) differ by δz ~ 3e-5 here, so that is added to the tolerance.
    from xai_core.filters import root_point

    x = entry.x[image]
    root = root_point(x, "gaussian", 1.0)
    rtol = 1e-5
    if softmax:
        z1 = entry.gradients(x[None], 1, softmax=False)[0][0]
        z2 = entry.gradients(np.stack([x, root]), 1, softmax=False)[0][0]
        rtol += 2 * abs((z1[1] - z1[0]) - (z2[1] - z2[0]))
        assert rtol < 1e-4
    tt = {t["name"]: t for t in taylor["data"]}
    np.testing.assert_allclose(decode(tt["R through the split"]["z"]), decode(tt["R from the relevance core"]["z"]),
                               atol=rtol * np.abs(decode(tt["R from the relevance core"]["z"])).max())
    assert "Σ R through the split" in str(taylor_text.children[0].children)
    assert "everywhere" in str(grad_text.children[0].children)
    # ... and the Relevance page's core (xai_core.relevance.explain) for the same score, computed here
    from functools import partial

    from xai_core.relevance import explain

    ref = explain(partial(entry.gradients, softmax=bool(softmax)), x, 1, root=root)
    r = decode(tt["R through the split"]["z"])
    np.testing.assert_allclose(r, ref.relevance[:, :, 0], atol=rtol * np.abs(ref.relevance).max())
    if softmax:  # and it is the probability's relevance, not the logit's
        logit = explain(partial(entry.gradients, softmax=False), x, 1, root=root)
        assert np.abs(r - logit.relevance[:, :, 0]).max() > 0.5 * np.abs(r).max()
    # ∂y/∂g on the page is that score's derivative: for the probability, the softmax Jacobian times ∂logits/∂g
    import tensorflow as tf

    g = tf.constant(parts.g(x[None]))
    with tf.GradientTape() as tape:
        tape.watch(g)
        z = parts.split.h(g, training=False)
        y = (tf.nn.softmax(z, axis=-1) if softmax else z)[0, 1]
    dydg_ref = tape.gradient(y, g).numpy()[0, :, :, 7]
    d = {t["name"]: t for t in dydg["data"]}
    np.testing.assert_allclose(decode(d["∂y/∂g [ch 7]"]["z"]), dydg_ref, atol=1e-6 * np.abs(dydg_ref).max() + 1e-12)


def test_channel_and_pixel_controls_change_panels(app_context):
    a = cb.render(app_context, "mnist17", 0, "predicted", 1, 14, 14)
    b = cb.render(app_context, "mnist17", 0, "predicted", 2, 14, 14)
    c = cb.render(app_context, "mnist17", 0, "predicted", 1, 5, 20)
    assert not np.allclose(decode(a[0]["data"][1]["z"]), decode(b[0]["data"][1]["z"]))
    assert not np.allclose(decode(a[1]["data"][2]["z"]), decode(c[1]["data"][2]["z"]))


def test_taylor_root_point_follows_filter_and_sigma(app_context):
    """The Taylor panel's root point is the Relevance page's: the same filter and σ give the same R."""
    from functools import partial

    from xai_core.filters import root_point
    from xai_core.relevance import explain

    entry = app_context.registry.get("mnist17")
    x = entry.x[25]
    for filt, sigma in (("nearest", 2.0), ("sharpness", 0.5)):
        out = cb.render(app_context, "mnist17", 25, "0", 0, 14, 14, [], filt, sigma)
        assert out[7] is None and f"σ = {sigma:g}" in str(out[5].children[1].children)
        ref = explain(partial(entry.gradients, softmax=False), x, 0, root=root_point(x, filt, sigma))
        tt = {t["name"]: t for t in out[4]["data"]}
        np.testing.assert_allclose(decode(tt["R through the split"]["z"]), ref.relevance[:, :, 0],
                                   atol=1e-5 * np.abs(ref.relevance).max())
    zero = cb.render(app_context, "mnist17", 25, "0", 0, 14, 14, [], "gaussian", 0)
    assert not np.any(decode({t["name"]: t for t in zero[4]["data"]}["R through the split"]["z"]))


@pytest.mark.parametrize("args,needle", [
    (("mnist17", 0, "predicted", 0, 1, 1, [True], "median", 1.0), "Filter must be one of"),
    (("mnist17", 0, "predicted", 0, 1, 1, [True], "gaussian", 7), "Sigma must be a number from 0 to 5"),
    (("cifar5", 0, "predicted", 0, 0, 0), "not a linear conv stack"),
    (("mnist17", 0, "predicted", 0, 28, 0), "Pixel row must be"),
    (("mnist17", 0, "5", 0, 1, 1), "Class must be"),
    (("mnist17", -1, "predicted", 0, 1, 1), "Image must be"),
])
def test_render_bad_input(app_context, args, needle):
    out = cb.render(app_context, *args)
    assert out[0] is no_update and needle in text_of(out[7])
