"""The Compare page on uploaded models, through its handlers.

Every test upload (nested MobileNetV2, ResNet with BN, grayscale sigmoid ``.h5``, two outputs, a 40-class
linear stack fed 0–255 values without labels) renders or says precisely why not; Grad-CAM on the nested
MobileNetV2 equals Grad-CAM computed by hand on the original nested Keras model; baselines and fills of a
0–255 model sit at its low value; a corrected upload never shows stale maps.
"""

import numpy as np
import pytest

from callbacks import compare as cb
from dashboard import ids
from tests.uploads import UPLOAD_KINDS as KINDS
from tests.uploads import uploaded_context


@pytest.fixture(scope="module")
def env(tmp_path_factory, user_models):
    return uploaded_context(tmp_path_factory.mktemp("compare-on-uploads"), user_models)


def run(ctx, name, methods, *, image=0, k=2, fill="zero", params=None, layer=None):
    params = params or {}
    layer_ids = [ids.compare_layer_param("gradcam", "layer")] if layer else []
    return cb.compute(ctx, lambda _: None, 1, name, image, methods, k, "probability", fill, [],
                      list(params.values()), [ids.compare_param(m, p) for m, p in params],
                      [layer] if layer else [], layer_ids)


@pytest.mark.parametrize("kind", list(KINDS) + ["linear"])
def test_compare_renders_on_every_upload(env, kind):
    ctx, names = env
    name = names[kind]
    entry = ctx.registry.get(name)
    k = min(3, len(entry.class_names))
    record, msg = run(ctx, name, ["saliency", "integrated_gradients", "gradcam", "occlusion"], k=k,
                      params={("integrated_gradients", "steps"): 8, ("occlusion", "patch"): 8,
                              ("occlusion", "stride"): 8})
    assert msg is None, msg
    assert len(record["classes"]) == k and len(record["cells"]) == 4 * k
    gradcam = next(m for m in record["methods"] if m["key"] == "gradcam")
    assert gradcam["params"]["layer"] == entry.cam_layer  # the upload's CAM layer, not a guess
    for cell in record["cells"].values():
        a = ctx.arrays.get(cell["map"])
        assert a.shape == entry.input_shape and np.isfinite(a).all()
    grid, curves, table, caption, options, value, msg = cb.render(ctx, record, 99.0, 1.0)
    assert msg is None and caption.startswith(f"My {kind} · sample 0")
    assert all(entry.class_names[c] in str(table) for c in record["classes"])
    assert len(options) == 4 * k and value == options[0]["value"]
    assert len(grid["data"]) >= 1 + 4 * k


def test_layer_menus_are_bounded_and_default_to_the_cam_layer(env):
    ctx, names = env
    entry = ctx.registry.get(names["mobilenet"])
    from xai_core.attributions.gradcam import spatial_layers

    assert len(spatial_layers(entry.model)) > 100
    options, values = cb.layer_options(ctx, names["mobilenet"], [{"a": 1}, {"b": 2}])
    assert len(options) == 2 and len(options[0]) <= cb.MAX_LAYER_OPTIONS + 1
    assert values == [entry.cam_layer, entry.cam_layer]
    assert entry.cam_layer in [o["value"] for o in options[0]]
    assert all("/" not in o["label"] for o in options[0])  # short names in labels, full keys in values


def test_no_cam_layer_gives_the_precise_message(env, monkeypatch):
    ctx, names = env
    entry = ctx.registry.get(names["resnet"])
    monkeypatch.setattr(entry.intake, "cam_layer", None)
    record, msg = run(ctx, names["resnet"], ["saliency", "gradcampp"])
    assert record is None or record is cb.no_update or not record
    assert "My resnet has no layer with a spatial output, so CAM methods do not apply" in str(msg)


def test_gradcam_on_nested_mobilenet_equals_the_original_nested_model(env, user_models):
    """The issue's check: Grad-CAM on the upload (flattened) equals a GradientTape on the original nested model."""
    import keras
    import tensorflow as tf

    ctx, names = env
    name = names["mobilenet"]
    entry = ctx.registry.get(name)
    original = keras.saving.load_model(user_models["mobilenet"], safe_mode=True)
    base = next(layer for layer in original.layers if isinstance(layer, keras.Model))
    inner = entry.cam_layer.split("/", 1)[1]
    assert entry.cam_layer.startswith(f"{base.name}/")
    feats_model = keras.Model(base.input, base.get_layer(inner).output)
    # the rest of the outer model after the base, applied to the base's output
    rest_in = keras.Input(base.output.shape[1:])
    h = rest_in
    for layer in original.layers[original.layers.index(base) + 1:]:
        h = layer(h)
    rest = keras.Model(rest_in, h)
    base_tail = keras.Model(base.get_layer(inner).output, base.output) if inner != base.layers[-1].name else None
    x = entry.x[1]
    record, msg = run(ctx, name, ["gradcam"], image=1, k=2)
    assert msg is None
    for c in record["classes"]:
        with tf.GradientTape() as tape:
            a = feats_model(x[None], training=False)
            tape.watch(a)
            out = rest(base_tail(a, training=False) if base_tail else a, training=False)
            y = out[0, c]
        g = tape.gradient(y, a).numpy()[0]
        assert np.allclose(out.numpy(), original(x[None], training=False).numpy(), atol=1e-6)
        cam = np.maximum(np.einsum("hwk,k->hw", a.numpy()[0], g.mean(axis=(0, 1))), 0.0)
        cam = tf.image.resize(cam[None, ..., None], x.shape[:2], method="bilinear").numpy()[0, ..., 0]
        got = ctx.arrays.get(record["cells"][f"gradcam|{c}"]["map"])
        for ch in range(3):
            np.testing.assert_allclose(got[..., ch], cam, rtol=1e-4, atol=1e-5 * max(np.abs(cam).max(), 1e-12))


def test_0_255_upload_gets_black_at_its_low_value(env):
    """IG's black baseline, the occlusion and deletion fill of a 0-255 model are 0 = its low value;
    lighting lights with 255; SmoothGrad's noise scales with 255."""
    from xai_core.attributions import make
    from xai_core.attributions.occlusion import fill_image

    ctx, names = env
    entry = ctx.registry.get(names["linear"])
    assert entry.spec.value_range == (0.0, 255.0) and entry.y is None
    steps = 16
    record, msg = run(ctx, names["linear"], ["integrated_gradients"], k=2,
                      params={("integrated_gradients", "steps"): steps})
    assert msg is None
    x = entry.x[0]
    alphas = np.linspace(0.0, 1.0, steps + 1)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2
    for c in record["classes"]:
        a = ctx.arrays.get(record["cells"][f"integrated_gradients|{c}"]["map"])
        # IG by hand from the black (all-zero = low value) image: x · Σ_k w_k ∂f_c/∂x(α_k x)
        _, grads = entry.gradients((alphas[:, None, None, None] * x[None]).astype(np.float32), c, softmax=True)
        by_hand = x * np.tensordot(weights, grads, axes=1)
        np.testing.assert_allclose(a, by_hand, rtol=1e-3, atol=1e-4 * np.abs(by_hand).max())
    explainer = make("integrated_gradients", entry.model, {}, value_range=entry.spec.value_range)
    assert (explainer.baseline(x[None]) == 0.0).all()
    sym = make("integrated_gradients", entry.model, {}, value_range=(-1.0, 1.0))
    assert (sym.baseline(x[None]) == -1.0).all()
    assert (fill_image(x[None], "zero", 1.0, low=-1.0) == -1.0).all()
    smooth = make("smoothgrad", entry.model, {"noise": 0.1}, value_range=entry.spec.value_range)
    assert np.std(smooth.noise_draws()) == pytest.approx(0.1 * 255.0, rel=0.05)


def test_standardised_upload_gets_black_per_channel(env):
    """Mean/std inputs: black is −mean_c/std_c in each channel, for IG's baseline and the occlusion fill
    (changes the two_output upload's scaling, then restores it)."""
    from dataclasses import replace

    ctx, names = env
    name = names["two_output"]
    before = ctx.registry.get(name)
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    ctx.registry.uploads.update_intake(name, replace(before.intake, scaling="meanstd", mean=mean, std=std))
    try:
        entry = ctx.registry.get(name)
        black = -np.asarray(mean, np.float32) / np.asarray(std, np.float32)
        lo, hi = cb.input_range(entry)
        np.testing.assert_allclose(lo, black, rtol=1e-6)
        np.testing.assert_allclose(hi, (1 - np.asarray(mean)) / np.asarray(std), rtol=1e-6)
        steps = 8
        record, msg = run(ctx, name, ["integrated_gradients", "occlusion"], k=1,
                          params={("integrated_gradients", "steps"): steps, ("occlusion", "patch"): 16,
                                  ("occlusion", "stride"): 16})
        assert msg is None
        c = record["classes"][0]
        x = entry.x[0]
        b = np.broadcast_to(black, x.shape)
        alphas = np.linspace(0.0, 1.0, steps + 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] /= 2
        _, grads = entry.gradients((b[None] + alphas[:, None, None, None] * (x - b)[None]).astype(np.float32), c,
                                   softmax=True)
        by_hand = (x - b) * np.tensordot(weights, grads, axes=1)
        got = ctx.arrays.get(record["cells"][f"integrated_gradients|{c}"]["map"])
        np.testing.assert_allclose(got, by_hand, rtol=1e-3, atol=1e-4 * np.abs(by_hand).max())
        # occlusion with one 16×16 patch in the top-left corner: the drop when that patch turns black
        occluded = x.copy()
        occluded[:16, :16] = black
        p = entry.model(np.stack([x, occluded]), training=False).numpy()[:, c]
        occ = ctx.arrays.get(record["cells"][f"occlusion|{c}"]["map"])
        assert occ[0, 0, 0] == pytest.approx(p[0] - p[1], rel=1e-4, abs=1e-6)
    finally:
        ctx.registry.uploads.update_intake(name, before.intake)


def test_corrected_upload_never_shows_stale_maps(env):
    """After the scaling of an upload is corrected, the page recomputes (runs last: it changes gray_sigmoid)."""
    from dataclasses import replace

    ctx, names = env
    name = names["gray_sigmoid"]
    before = ctx.registry.get(name)
    first, _ = run(ctx, name, ["saliency"], k=1)
    ctx.registry.uploads.update_intake(name, replace(before.intake, scaling="byte"))
    entry = ctx.registry.get(name)
    second, msg = run(ctx, name, ["saliency"], k=1)
    assert msg is None
    c = second["classes"][0]
    got = ctx.arrays.get(second["cells"][f"saliency|{c}"]["map"])
    _, grad = entry.gradients(entry.x[:1], c, softmax=True)
    np.testing.assert_allclose(got[..., 0], np.abs(grad[0, ..., 0]), rtol=1e-4,
                               atol=1e-6 * np.abs(grad).max())
    old = ctx.arrays.get(first["cells"][f"saliency|{first['classes'][0]}"]["map"])
    assert not np.allclose(got, old)
