"""Figure builders of the Fourier-Net and Chain-rule pages."""

import numpy as np

from dashboard.figures import fouriernet as figs
from dashboard.figures.images import decode


def test_variants_figure_shares_scales_and_log_errors():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(8, 8))
    outs = {"spatial": ref, "fn1": ref + 1e-9, "fn2": ref * 1.5, "fn3": ref * 1.5}
    fig = figs.variants_figure(rng.uniform(size=(8, 8, 1)), outs, 3)
    traces = {t["name"]: t for t in fig["data"]}
    signed = [t for n, t in traces.items() if "[ch 3]" in n]
    assert len(signed) == 4 and len({t["zmax"] for t in signed}) == 1
    assert signed[0]["zmax"] == -signed[0]["zmin"] == np.abs(ref * 1.5).max()
    logs = [t for n, t in traces.items() if n.startswith("log")]
    assert len(logs) == 3 and len({(t["zmin"], t["zmax"]) for t in logs}) == 1
    np.testing.assert_allclose(decode(logs[2]["z"]), np.log10(np.abs(ref * 0.5) + 1e-12), rtol=1e-5)


def test_counts_and_needed_figures():
    counts = np.array([0, 3, 1, 5])
    fig = figs.counts_figure(counts, 5)
    np.testing.assert_array_equal(decode(fig["data"][0]["y"]), counts)
    needed = figs.needed_figure(np.array([1, 2, 2, 4]), 4)
    assert needed["data"][0]["type"] == "histogram"
    np.testing.assert_array_equal(decode(needed["data"][0]["x"]), [1, 2, 2, 4])


def test_timing_figure_error_bars_reach_p95():
    t = {"spatial": {"median": 0.010, "p95": 0.012}, "fn3": {"median": 0.005, "p95": 0.009}}
    fig = figs.timing_figure(t, "CPU (2 cores)")
    bar = fig["data"][0]
    assert bar["x"] == ["spatial g(x)", "Fourier-Net 3"]
    np.testing.assert_allclose(bar["y"], [10.0, 5.0])
    np.testing.assert_allclose(bar["error_y"]["array"], [2.0, 4.0])
    assert "CPU (2 cores)" in fig["layout"]["title"]["text"]
