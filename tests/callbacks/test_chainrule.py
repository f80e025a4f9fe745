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


def test_render_gradients_agree_with_the_tape(app_context):
    dydg, pixel, grad, grad_text, taylor, taylor_text, caption, msg = cb.render(
        app_context, "mnist17", 5, "1", 7, 10, 12)
    assert msg is None and "class 1 (7)" in caption and "pixel p = (10, 12)" in caption
    entry = app_context.registry.get("mnist17")
    _, direct = entry.gradients(entry.x[5:6], 1, softmax=False)
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
    # Taylor through the split equals the relevance core
    tt = {t["name"]: t for t in taylor["data"]}
    np.testing.assert_allclose(decode(tt["R through the split"]["z"]), decode(tt["R from the relevance core"]["z"]),
                               atol=1e-5 * np.abs(decode(tt["R from the relevance core"]["z"])).max())
    assert "Σ R through the split" in str(taylor_text.children[0].children)
    assert "everywhere" in str(grad_text.children[0].children)


def test_channel_and_pixel_controls_change_panels(app_context):
    a = cb.render(app_context, "mnist17", 0, "predicted", 1, 14, 14)
    b = cb.render(app_context, "mnist17", 0, "predicted", 2, 14, 14)
    c = cb.render(app_context, "mnist17", 0, "predicted", 1, 5, 20)
    assert not np.allclose(decode(a[0]["data"][1]["z"]), decode(b[0]["data"][1]["z"]))
    assert not np.allclose(decode(a[1]["data"][2]["z"]), decode(c[1]["data"][2]["z"]))


@pytest.mark.parametrize("args,needle", [
    (("cifar5", 0, "predicted", 0, 0, 0), "not a linear conv stack"),
    (("mnist17", 0, "predicted", 0, 28, 0), "Pixel row must be"),
    (("mnist17", 0, "5", 0, 1, 1), "Class must be"),
    (("mnist17", -1, "predicted", 0, 1, 1), "Image must be"),
])
def test_render_bad_input(app_context, args, needle):
    out = cb.render(app_context, *args)
    assert out[0] is no_update and needle in text_of(out[7])
