"""Compare page handlers, called directly (the background job's ``set_progress`` is a recorder)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from dash import no_update

from callbacks import compare as cb
from dashboard import ids
from dashboard.figures.images import decode
from xai_core.attributions import make
from xai_core.metrics import deletion_curve
from xai_core.metrics.common import scorer


def text_of(component):
    return str(component.children) if component is not None else ""


class Recorder:
    def __init__(self):
        self.values = []

    def __call__(self, value):
        self.values.append(value)


def param_states(overrides: dict[tuple[str, str], object]):
    values = [v for v in overrides.values()]
    id_list = [ids.compare_param(m, p) for m, p in overrides]
    return values, id_list


def run(app_context, methods, model="mnist17", image=0, k=2, score="probability", fill="zero", sanity=False,
        params=None, layers=(), layer_ids=()):
    values, value_ids = param_states(params or {})
    progress = Recorder()
    out = cb.compute(app_context, progress, 1, model, image, methods, k, score, fill, [True] if sanity else [],
                     values, value_ids, list(layers), list(layer_ids))
    return out, progress


def test_compute_and_render_three_methods(app_context):
    (record, msg), progress = run(app_context, ["saliency", "integrated_gradients", "gradcam"],
                                  params={("integrated_gradients", "steps"): 16})
    assert msg is None
    assert progress.values[-1][0] == "1" and "done" in progress.values[-1][1]
    fractions = [float(v[0]) for v in progress.values]
    assert fractions == sorted(fractions)  # monotone progress
    entry = app_context.registry.get("mnist17")
    x, _ = entry.sample(0)
    assert record["classes"] == list(np.argsort(-entry.predict(x))[:2])
    assert len(record["cells"]) == 6
    # the stored map is the method's map, and the deletion AUC is recomputed independently
    c = record["classes"][0]
    cell = record["cells"][f"integrated_gradients|{c}"]
    ig = make("integrated_gradients", entry.model, {"steps": 16}).explain(x, c)[0]
    np.testing.assert_allclose(app_context.arrays.get(cell["map"]), ig, rtol=1e-5, atol=1e-9)
    assert cell["scores"]["del"] == pytest.approx(deletion_curve(scorer(entry.model), x, ig, c, steps=20).auc)
    assert abs(cell["scores"]["res"]) < 0.05  # IG on a linear stack + small head sums to the score difference
    assert "res" not in record["cells"][f"saliency|{c}"]["scores"]
    grid, curves, table, caption, options, value, msg2 = cb.render(app_context, record, 99, 1.0)
    assert msg2 is None
    heat = [t for t in grid["data"] if t["type"] == "heatmap"]
    assert len(heat) == 1 + 6  # the input and 3 x 2 maps
    titles = [a["text"] for a in grid["layout"]["annotations"]]
    assert any("Integrated Gradients" in t and "del" in t and "μF" in t for t in titles)
    assert all(t["zmin"] == -1 and t["zmax"] == 1 for t in heat[1:])
    assert len(curves["data"]) == 2 * 6
    assert "Deletion AUC" in str(table) and "sample 0" in caption
    assert value == options[0]["value"] and len(options) == 6


def test_results_are_cached(app_context, monkeypatch):
    args = (["saliency"],)
    (first, _), _ = run(app_context, *args)
    calls = []
    real = cb.make
    monkeypatch.setattr(cb, "make", lambda *a, **kw: calls.append(a) or real(*a, **kw))
    (second, _), _ = run(app_context, *args)
    assert calls == [] and second["cells"] == first["cells"]
    (third, _), _ = run(app_context, *args, fill="blur")  # a new setting is computed
    assert len(calls) == 1 and third["cells"] != first["cells"]


def test_honest_scale_is_shared_per_row(app_context):
    (record, _), _ = run(app_context, ["gradient"], k=2)
    grid, *_ = cb.render(app_context, record, 100, 1.0)
    maps = [app_context.arrays.get(record["cells"][f"gradient|{c}"]["map"])[..., 0] for c in record["classes"]]
    limit = max(np.abs(m).max() for m in maps)
    shown = [decode(t["z"]) for t in grid["data"] if t["type"] == "heatmap"][1:]
    for m, z in zip(maps, shown):
        np.testing.assert_allclose(z, m / limit, rtol=1e-5, atol=1e-7)
    grid_g, *_ = cb.render(app_context, record, 100, 0.5)
    z = decode([t for t in grid_g["data"] if t["type"] == "heatmap"][1]["z"])
    np.testing.assert_allclose(z, np.sign(maps[0]) * np.abs(maps[0] / limit) ** 0.5, rtol=1e-5, atol=1e-6)


def test_sanity_and_layer_parameters_on_cifar5(app_context):
    (record, msg), _ = run(app_context, ["gradcam"], model="cifar5", k=1, sanity=True, score="logit",
                           params={("gradcam", "relu"): []},
                           layers=["sepconv3"], layer_ids=[ids.compare_layer_param("gradcam", "layer")])
    assert msg is None
    m = record["methods"][0]
    assert m["params"] == {"layer": "sepconv3", "relu": False}
    scores = next(iter(record["cells"].values()))["scores"]
    assert -1 <= scores["ρ"] <= 1 and -1 <= scores["ssim"] <= 1


@pytest.mark.parametrize("kwargs,needle", [
    ({"methods": []}, "choose at least one method"),
    ({"methods": ["saliency"], "image": 999}, "Image must be"),
    ({"methods": ["saliency"], "k": 9}, "Classes must be"),
    ({"methods": ["saliency"], "model": "nope"}, "unknown model"),
    ({"methods": ["integrated_gradients"], "params": {("integrated_gradients", "steps"): 9999}},
     "Integrated Gradients: Steps must be"),
    ({"methods": ["occlusion"], "params": {("occlusion", "fill"): "grey"}}, "Fill must be one of"),
])
def test_bad_inputs_give_messages(app_context, kwargs, needle):
    (store, msg), _ = run(app_context, **kwargs)
    assert store is no_update
    assert needle.lower() in text_of(msg).lower()


def test_exports(app_context):
    (record, _), _ = run(app_context, ["saliency", "taylor"], k=1)
    key = f"taylor|{record['classes'][0]}"
    npy = cb.export(app_context, ids.COMPARE_EXPORT_NPY_BUTTON, record, key)
    a = np.load(io.BytesIO(__import__("base64").b64decode(npy["content"])), allow_pickle=False)
    np.testing.assert_array_equal(a, app_context.arrays.get(record["cells"][key]["map"]))
    png = cb.export(app_context, ids.COMPARE_EXPORT_PNG_BUTTON, record, key)
    assert png["filename"].endswith(".png") and __import__("base64").b64decode(png["content"])[:4] == b"\x89PNG"
    csv_text = cb.export(app_context, ids.COMPARE_EXPORT_CSV_BUTTON, record, key)["content"]
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("method,class,deletion_auc") and len(lines) == 3
    session = json.loads(cb.export(app_context, ids.COMPARE_EXPORT_JSON_BUTTON, record, key)["content"])
    assert session["model"] == "mnist17" and session["image_hash"] == record["image_hash"]
    # the snippet reproduces the map
    code = session["snippets"][key]
    entry = app_context.registry.get("mnist17")
    namespace = {}
    exec(code.replace("default_registry()", "registry"), {"registry": app_context.registry}, namespace)
    np.testing.assert_allclose(namespace["attribution"], a, rtol=1e-6)
    assert entry.name in code
    assert cb.export(app_context, None, record, key) is no_update


def test_layer_options_follow_the_model(app_context):
    layer_ids = [ids.compare_layer_param("gradcam", "layer"), ids.compare_layer_param("layer_sensitivity", "layer")]
    options, values = cb.layer_options(app_context, "cifar5", layer_ids)
    keys = [o["value"] for o in options[0]]
    cam = app_context.registry.get("cifar5").cam_layer  # the default: the model's CAM layer
    assert "sepconv4_relu" == keys[-1] == cam and "conv1" in keys and values == [cam, cam]
    options, _ = cb.layer_options(app_context, "mnist17", layer_ids)
    assert [o["value"] for o in options[1]] == ["conv1", "conv2", "conv3"]


def test_render_without_record(app_context):
    grid, curves, table, caption, options, value, msg = cb.render(app_context, None, 99, 1)
    assert grid["data"] == [] and options == [] and value is None


def test_a_layer_of_the_previous_model_falls_back_to_the_cam_layer(app_context):
    """Changing the model runs the page before its layer menus are refilled: a stale layer is replaced."""
    entry = app_context.registry.get("cifar5")
    params = cb.resolve_layers(entry, {"gradcam": {"layer": "conv3", "relu": True}})
    assert params["gradcam"]["layer"] == entry.cam_layer != "conv3"
    kept = cb.resolve_layers(entry, {"gradcam": {"layer": "conv2", "relu": True}})
    assert kept["gradcam"]["layer"] == "conv2"
