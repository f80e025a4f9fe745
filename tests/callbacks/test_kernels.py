"""Kernels page handlers, called directly."""

import numpy as np
import pytest
from dash import no_update

from callbacks import kernels as cb
from dashboard.figures.images import decode
from xai_core import fourier


def text_of(component):
    return str(component.children) if component is not None else ""


def test_render_in_range(app_context):
    grid, profile, caption, msg = cb.render(app_context, "mnist17", 7, 2, "32", [])
    assert msg is None
    assert "Seed 7" in caption and "3 convolution layer" in caption
    heatmaps = [t for t in grid["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == 3 * 2 * 3  # layers x kernels x (weights, |F|, phase)
    # each weights panel shows one real kernel slice of that layer, and its |F| is numpy's
    entry = app_context.registry.get("mnist17")
    w = entry.model.get_layer("conv2").kernel.numpy()
    title = heatmaps[6]["name"]  # first panel of row 2: "conv2 [ci→co]"
    assert title.startswith("conv2 [")
    ci, co = (int(v) for v in title.split("[")[1].rstrip("]").split("→"))
    np.testing.assert_allclose(decode(heatmaps[6]["z"]), w[:, :, ci, co], rtol=1e-6)
    padded = np.zeros((32, 32))
    padded[:3, :3] = w[:, :, ci, co]
    np.testing.assert_allclose(decode(heatmaps[7]["z"]), np.abs(np.fft.fftshift(np.fft.fft2(padded))),
                               rtol=1e-5, atol=1e-6)
    assert heatmaps[6]["zmin"] == -heatmaps[6]["zmax"]  # weights centred on 0
    # the per-layer profile is the mean power over all slices
    assert len(profile["data"]) == 3
    freq, prof = fourier.layer_power_profile(w, 32)
    np.testing.assert_allclose(decode(profile["data"][1]["y"]), prof / prof[0], rtol=1e-5)


def test_same_seed_same_kernels_new_seed_differs(app_context):
    a = cb.render(app_context, "mnist17", 11, 3, "kernel", [True])[0]
    b = cb.render(app_context, "mnist17", 11, 3, "kernel", [True])[0]
    c = cb.render(app_context, "mnist17", 12, 3, "kernel", [True])[0]
    ta = [t["name"] for t in a["data"]]
    assert ta == [t["name"] for t in b["data"]]
    assert ta != [t["name"] for t in c["data"]]
    assert cb.new_seed(1, np.random.default_rng(0)) != cb.new_seed(1, np.random.default_rng(1))


def test_log_and_input_size_options(app_context):
    grid, *_ = cb.render(app_context, "cifar10pad", 0, 1, "input", [True])
    mag = decode(grid["data"][1]["z"])
    assert mag.shape == (42, 42)
    assert np.all(mag >= 0) and mag.max() < 5  # log10(1 + |F|) of small weights


@pytest.mark.parametrize("args,needle", [
    (("nope", 1, 3, "32", []), "unknown model"),
    (("mnist17", None, 3, "32", []), "Seed is missing"),
    (("mnist17", -4, 3, "32", []), "Seed must be"),
    (("mnist17", 2.5, 3, "32", []), "Seed must be"),
    (("mnist17", 1, 9, "32", []), "Kernels per layer must be"),
    (("mnist17", 1, 3, "999", []), "FFT size must be one of"),
    ((None, 1, 3, "32", []), "choose a model"),
])
def test_bad_inputs_give_messages(app_context, args, needle):
    out = cb.render(app_context, *args)
    assert out[0] is no_update and out[1] is no_update
    assert needle.lower() in text_of(out[3]).lower()


def test_separable_layers_of_cifar5(app_context):
    grid, profile, caption, msg = cb.render(app_context, "cifar5", 3, 1, "32", [])
    assert msg is None and "6 convolution layer" in caption
    assert any("sepconv" in t["name"] for t in grid["data"])
