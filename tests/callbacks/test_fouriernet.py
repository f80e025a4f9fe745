"""Fourier-Net page handlers, called directly."""

import numpy as np
import pytest
from dash import no_update

from callbacks import fouriernet as cb
from dashboard import ids
from dashboard.figures.images import decode
from xai_core.fouriernet import fuse_kernels, spatial_stack


def text_of(component):
    return str(component.children) if component is not None and hasattr(component, "children") else str(component)


def cells(table):
    """The text of every body cell of an html.Table, row by row."""
    body = table.children[1]
    return [[td.children for td in tr.children] for tr in body.children]


def test_render_panels_match_independent_computations(app_context):
    fig, errors, logits, caption, pages, msg = cb.render(app_context, "mnist17", 3, 5)
    assert msg is None
    assert "128 kernels of 7×7" in caption and "10,272" in caption and "channel 5" in caption
    assert [p["value"] for p in pages] == list(range(8))
    entry = app_context.registry.get("mnist17")
    _, parts = cb.stack_parts(app_context, "mnist17")
    x = entry.x[3].astype(np.float64)
    ref = spatial_stack(x[None], parts.split.kernels)[0, :, :, 5]
    traces = {t["name"]: t for t in fig["data"]}
    np.testing.assert_allclose(decode(traces["spatial g(x) [ch 5]"]["z"]), ref, atol=1e-5)
    np.testing.assert_allclose(decode(traces["Fourier-Net 1 [ch 5]"]["z"]), ref, atol=1e-5)
    fn3 = decode(traces["Fourier-Net 3 [ch 5]"]["z"])
    np.testing.assert_allclose(fn3[3:-3, 3:-3], ref[3:-3, 3:-3], atol=1e-5)
    assert np.abs(fn3 - ref).max() > 1e-3  # the edge error is on the page
    rows = cells(errors.children[0])
    assert [r[0] for r in rows] == ["Fourier-Net 1", "Fourier-Net 2", "Fourier-Net 3"]
    assert float(rows[0][4]) <= 1e-5 and float(rows[2][2]) <= 1e-5 and float(rows[2][4]) > 1e-3
    lrows = cells(logits)
    model_logits = entry.gradients(entry.x[3:4], 0, softmax=False)[0][0]
    for j, row in enumerate(lrows):
        assert float(row[1]) == pytest.approx(model_logits[j], abs=1e-4)  # the model's own logits
        assert float(row[2]) == pytest.approx(model_logits[j], abs=1e-4)  # h(spatial g)
        assert float(row[3]) == pytest.approx(model_logits[j], abs=1e-4)  # h(FN1)


def test_channel_and_image_change_the_panels(app_context):
    a = cb.render(app_context, "mnist17", 3, 5)[0]
    b = cb.render(app_context, "mnist17", 3, 6)[0]
    c = cb.render(app_context, "mnist17", 4, 5)[0]
    assert any("[ch 6]" in t["name"] for t in b["data"])
    za = decode(a["data"][1]["z"])
    assert not np.allclose(za, decode(b["data"][1]["z"])) and not np.allclose(za, decode(c["data"][1]["z"]))


def test_fused_kernel_grid_and_click(app_context):
    grid, contrib, msg = cb.render_kernels(app_context, "mnist17", 2, None)
    assert msg is None and len(grid["data"]) == 2 * 16
    assert grid["data"][0]["name"] == "K32"
    _, parts = cb.stack_parts(app_context, "mnist17")
    fused = fuse_kernels(parts.split.kernels).kernel
    np.testing.assert_allclose(decode(grid["data"][0]["z"]), fused[:, :, 0, 32], atol=1e-6)
    mag = decode(grid["data"][1]["z"])
    ref = np.abs(np.fft.fftshift(np.fft.fft2(fused[:, :, 0, 32], s=parts.fnet.grid)))
    np.testing.assert_allclose(mag, ref, rtol=1e-5, atol=1e-6)
    assert contrib["data"] == []
    click = {"points": [{"curveNumber": 7, "x": 1, "y": 1}]}
    grid, contrib, msg = cb.render_kernels(app_context, "mnist17", 2, click, triggered=ids.FN_KERNELS_GRAPH)
    assert "K35 ●" in [t["name"] for t in grid["data"]]
    np.testing.assert_allclose(decode(contrib["data"][0]["z"]), fused[:, :, 0, 35], atol=1e-6)
    assert len(contrib["data"]) == 1 + 3 * 6


def test_timing_names_the_device(app_context):
    fig, text, msg = cb.render_timing(app_context, "mnist17")
    assert msg is None and "CPU" in text and "Fourier-Net 3" in text
    assert [t for t in fig["data"][0]["x"]] == ["spatial g(x)", "Fourier-Net 1", "Fourier-Net 2", "Fourier-Net 3",
                                                 "FN1 (TF)", "FN2 (TF)", "FN3 (TF)"]
    assert all(v > 0 for v in fig["data"][0]["y"])


def test_importance_job_reports_progress_and_caches(app_context):
    cb._results.clear()  # another test may have run the same analysis; this one watches a fresh run
    seen = []
    out = cb.run_importance(seen.append, app_context, 1, "mnist17", 30, "exact", 2)
    counts, needed, acts, summary, msg = out
    assert msg is None and "64 bundled samples" in summary
    assert seen and seen[-1][0] == seen[-1][1]  # finished at 100 %
    assert [int(v) for v in (seen[0][0], seen[0][1])][0] < int(seen[0][1])
    y = decode(counts["data"][0]["y"])
    n = decode(needed["data"][0]["x"])
    assert len(y) == 128 and len(n) == 64 and int(y.sum()) == int(n.sum())
    assert acts["data"][0]["name"].startswith("sample 2")
    again = []
    cb.run_importance(again.append, app_context, 2, "mnist17", 30, "exact", 2)
    assert again == [("128", "128", "128 / 128")]  # cached: no analysis, the bar shows it finished
    stoch = cb.compute_importance(app_context, "mnist17", 0.3, "stochastic")
    assert stoch["method"].startswith("stochastic (32 of 128")


@pytest.mark.parametrize("handler,args,needle", [
    ("render", ("cifar5", 0, 0), "not a linear conv stack"),
    ("render", ("mnist17", 999, 0), "Image must be"),
    ("render", ("mnist17", 0, 128), "Output channel must be"),
    ("render", (None, 0, 0), "choose a model"),
    ("render_kernels", ("mnist17", 8, None), "Kernel page must be"),
    ("render_timing", ("cifar5",), "BatchNormalization"),
])
def test_bad_inputs_give_messages(app_context, handler, args, needle):
    out = getattr(cb, handler)(app_context, *args)
    assert out[0] is no_update
    assert needle.lower() in text_of(out[-1]).lower()


def test_importance_bad_input_and_cifar5(app_context):
    out = cb.run_importance(lambda v: None, app_context, 1, "cifar5", 30, "exact", 0)
    assert out[0] is no_update and "not a linear conv stack" in text_of(out[4])
    out = cb.run_importance(lambda v: None, app_context, 1, "mnist17", 130, "exact", 0)
    assert "Threshold must be" in text_of(out[4])


def _write_idx(path, array):
    import gzip

    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_importance_on_a_test_split_from_the_data_folder(app_context, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    labels = np.array([1, 7, 3, 1, 7, 1, 0, 7] * 5)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (len(labels), 28, 28)))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    monkeypatch.delenv("KERNELSCOPE_DATA_DIR", raising=False)
    out = cb.run_importance(lambda v: None, app_context, 1, "mnist17", 30, "exact", 0, "test")
    assert "KERNELSCOPE_DATA_DIR" in text_of(out[4])
    monkeypatch.setenv("KERNELSCOPE_DATA_DIR", str(tmp_path))
    seen = []
    counts, needed, acts, summary, msg = cb.run_importance(seen.append, app_context, 1, "mnist17", 40, "exact", 0,
                                                           "test")
    title = app_context.registry.spec("mnist17").title
    assert msg is None and summary.startswith(f"30 test images of {title}")  # only the 1s and 7s
    assert len(decode(needed["data"][0]["x"])) == 30 and seen[-1][1] == "60"
    out = cb.run_importance(lambda v: None, app_context, 1, "mnist17", 30, "exact", 0, "everything")
    assert "Images must be one of" in text_of(out[4])


def test_training_split_with_a_limit_and_the_options_that_say_what_is_there(app_context, tmp_path, monkeypatch):
    from models.datasets import prepare

    rng = np.random.default_rng(1)
    monkeypatch.delenv("KERNELSCOPE_DATA_DIR", raising=False)
    options, value = cb.image_set_options(app_context, "mnist17", "train")
    assert value == "samples" and [o["value"] for o in options] == ["samples", "train", "test"]
    assert options[0]["label"] == "bundled samples (64 images)"
    assert all(o["disabled"] and "KERNELSCOPE_DATA_DIR" in o["label"] for o in options[1:])
    out = cb.run_importance(lambda v: None, app_context, 1, "mnist17", 30, "exact", 0, "train", 5)
    assert "KERNELSCOPE_DATA_DIR" in text_of(out[4]) and "training split" in text_of(out[4])

    monkeypatch.setenv("KERNELSCOPE_DATA_DIR", str(tmp_path))
    test_labels = np.array([1, 7, 0] * 4)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 255, (len(test_labels), 28, 28)))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", test_labels)
    options, value = cb.image_set_options(app_context, "mnist17", "test")
    by_value = {o["value"]: o for o in options}
    assert value == "test" and not by_value["test"].get("disabled") and str(tmp_path) in by_value["test"]["label"]
    assert by_value["train"]["disabled"] and "train-images-idx3-ubyte" in by_value["train"]["label"]

    labels = np.array([7, 1, 2, 1, 7, 7, 3, 1, 1, 7, 4, 7] * 3)  # 27 ones and sevens among 36 digits
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 255, (len(labels), 28, 28)))
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", labels)
    options, value = cb.image_set_options(app_context, "mnist17", "train")
    assert value == "train" and not any(o.get("disabled") for o in options)
    seen = []
    counts, needed, acts, summary, msg = cb.run_importance(seen.append, app_context, 1, "mnist17", 30, "exact", 0,
                                                           "train", 7)
    title = app_context.registry.spec("mnist17").title
    assert msg is None and summary.startswith(f"7 training images of {title} (the first 7 of 27)")
    assert len(decode(needed["data"][0]["x"])) == 7 and seen[-1][1] == "14"
    # the analysed images are the first 7 model-ready training images: their full logits are the model's
    entry = app_context.registry.get("mnist17")
    x = prepare(entry.spec, tmp_path, "train").x[:7]
    res = cb.compute_importance(app_context, "mnist17", 0.3, "exact", None, "train", 7)
    logits = entry.gradients(x, 0, softmax=False)[0]
    np.testing.assert_allclose(res["full"], logits, rtol=1e-4, atol=1e-4)
    assert res["n_total"] == 27
    # no limit: the whole split; a limit on the samples cuts them too
    assert cb.compute_importance(app_context, "mnist17", 0.3, "exact", None, "train")["n_total"] == 27
    assert len(cb.compute_importance(app_context, "mnist17", 0.3, "exact", None, "train")["needed"]) == 27
    *_, summary, msg = cb.run_importance(lambda v: None, app_context, 1, "mnist17", 30, "exact", 0, "samples", 10)
    assert msg is None and summary.startswith(f"10 bundled samples of {title} (the first 10 of 64)")
    for bad in (0, 2.5, "many", 10**6):
        out = cb.run_importance(lambda v: None, app_context, 1, "mnist17", 30, "exact", 0, "train", bad)
        assert out[0] is no_update and "Number of images must be" in text_of(out[4])
    # a model whose data set is not in the folder says so
    options, value = cb.image_set_options(app_context, "cifar5", "train")
    assert value == "samples" and all(o["disabled"] and "cifar10" in o["label"] for o in options[1:])


def test_importance_in_chunks_equals_one_pass(app_context, monkeypatch):
    """The analysis streams images in chunks (bounded memory): the same result as one pass over all of g."""
    from xai_core.importance import analyse

    monkeypatch.setattr(cb, "STREAM_IMAGES", 20)
    monkeypatch.setattr(cb, "_results", {})
    seen = []
    out = cb.compute_importance(app_context, "mnist17", 0.3, "exact", lambda d, t: seen.append((d, t)))
    entry, parts = cb.stack_parts(app_context, "mnist17")
    ref = analyse(parts.g(entry.x), parts.head, threshold=0.3)
    np.testing.assert_array_equal(out["needed"], ref.needed)
    np.testing.assert_array_equal(out["order"], ref.order)
    np.testing.assert_allclose(out["full"], ref.full, rtol=1e-6, atol=1e-6)
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1] == (128, 128) and {t for _, t in seen} == {128}


def test_cancelled_job_stops_and_caches_nothing(app_context):
    from dashboard.background import JobCancelled

    calls = []

    def cancel_after_first(value):
        calls.append(value)
        if len(calls) > 1:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        cb.run_importance(cancel_after_first, app_context, 1, "mnist17", 55, "exact", 0)
    assert len(calls) == 2
    assert cb.importance_key("mnist17", 0.55, "exact") not in cb._results
