"""Real user models through the intake: nested MobileNetV2, ResNet-style with BN, grayscale sigmoid, two outputs."""

import numpy as np
import pytest

from models import ModelRegistry
from models.intake import Intake, preprocess
from models.uploads import UploadError, ingest
from tests.uploads import attach_store, images, sample_npz, sample_zip, upload


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    r = ModelRegistry(device="cpu")
    attach_store(r, tmp_path_factory.mktemp("store"), max_models=4)
    return r


def test_nested_mobilenet_is_flattened_and_matches_the_original(reg, user_models):
    import keras

    name = upload(reg, None, user_models["mobilenet"], samples=sample_zip(["a", "b", "c"], 2, 50))
    e = reg.get(name)
    assert e.input_shape == (64, 64, 3) and e.class_names == ("a", "b", "c")
    assert e.intake.output_kind == "softmax" and e.intake.scaling == "unit"
    types = {n.type_name for n in e.conv_layers}
    assert {"Conv2D", "DepthwiseConv2D"} <= types and len(e.conv_layers) > 50
    assert all("/" in n.key for n in e.conv_layers)  # reached inside the nested base
    assert e.cam_layer.endswith("out_relu")
    original = keras.saving.load_model(user_models["mobilenet"], safe_mode=True)
    np.testing.assert_allclose(e.predict(e.x[:3]), original.predict(e.x[:3], verbose=0), rtol=1e-5, atol=1e-6)
    # samples were resized from 50x50 and labelled from their folders
    np.testing.assert_array_equal(e.y, [0, 0, 1, 1, 2, 2])
    # a layer deep inside the nested base is reachable with the registry's usual API
    key = e.conv_layers[10].key
    act = e.layer_activation(key, e.x[:1])
    base = original.get_layer(key.split("/")[0])
    inner = keras.Model(base.inputs, base.get_layer(key.split("/")[-1]).output)
    np.testing.assert_allclose(act, inner(e.x[:1]).numpy(), rtol=1e-4, atol=1e-5)
    # gradients through the flattened graph equal Keras' own on the nested original
    import tensorflow as tf

    _, g = e.gradients(e.x[:2], 2, softmax=True)
    x = tf.convert_to_tensor(e.x[:2])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = original(x)[:, 2]
    np.testing.assert_allclose(g, tape.gradient(out, x).numpy(), rtol=1e-3, atol=1e-8)


def test_grayscale_sigmoid_becomes_two_classes(reg, user_models):
    import keras

    name = upload(reg, None, user_models["gray_sigmoid"], samples=sample_zip(["no", "yes"], 2, 28, channels=1))
    e = reg.get(name)
    assert e.intake.output_kind == "sigmoid" and e.intake.n_classes == 2
    assert e.input_shape == (28, 28, 1) and e.class_names == ("no", "yes")
    original = keras.saving.load_model(user_models["gray_sigmoid"], safe_mode=True)
    p = original.predict(e.x, verbose=0)[:, 0]
    probs = e.predict(e.x)
    np.testing.assert_allclose(probs[:, 1], p, rtol=1e-5)
    np.testing.assert_allclose(probs[:, 0], 1 - p, rtol=1e-5)
    # the logit model gives (-z/2, z/2) with z = logit(p)
    logits = e.logits_model(e.x).numpy()
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(logits[:, 1] - logits[:, 0], z, rtol=1e-4, atol=1e-5)
    # gradients of the class-1 probability equal those of the original sigmoid output
    import tensorflow as tf

    _, g = e.gradients(e.x[:2], 1, softmax=True)
    x = tf.convert_to_tensor(e.x[:2])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = original(x)[:, 0]
    np.testing.assert_allclose(g, tape.gradient(out, x).numpy(), rtol=1e-4, atol=1e-7)
    _, g0 = e.gradients(e.x[:2], 0, softmax=True)
    np.testing.assert_allclose(g0, -g, rtol=1e-4, atol=1e-7)  # d(1 - p) = -dp


def test_two_output_model_explains_the_chosen_output(reg, user_models):
    import keras

    name = upload(reg, None, user_models["two_output"], samples=sample_npz(images(4, 32, 3)),
                  samples_name="s.npz")
    uploads = reg.uploads
    intake = Intake.from_dict(uploads.stored(name).meta["intake"])
    assert intake.n_outputs == 2 and intake.output_index == 0 and intake.output_kind == "softmax"
    assert any("2 outputs" in u for u in intake.unsupported)
    original = keras.saving.load_model(user_models["two_output"], safe_mode=True)
    e = reg.get(name)
    np.testing.assert_allclose(e.predict(e.x), original.predict(e.x, verbose=0)[0], rtol=1e-5, atol=1e-6)
    # switch to output 1 (two raw logits): a softmax is added
    intake.output_index, intake.output_kind, intake.n_classes = 1, "logits", 2
    uploads.update_intake(name, intake)
    assert not reg.is_loaded(name)
    e = reg.get(name)
    aux = original.predict(e.x, verbose=0)[1]
    expected = np.exp(aux) / np.exp(aux).sum(1, keepdims=True)
    np.testing.assert_allclose(e.predict(e.x), expected, rtol=1e-5, atol=1e-6)
    assert len(e.class_names) == 2


def test_resnet_with_bn_and_scaling_settings(reg, user_models):
    name = upload(reg, None, user_models["resnet"], samples=sample_zip(["w", "x", "y", "z"], 1, 32),
                  classes=b"w\nx\ny\nz\n")
    uploads = reg.uploads
    intake = Intake.from_dict(uploads.stored(name).meta["intake"])
    intake.scaling, intake.mean, intake.std, intake.channel_order = "meanstd", [0.5, 0.4, 0.3], [0.2, 0.25, 0.5], "BGR"
    uploads.update_intake(name, intake)
    e = reg.get(name)
    stored_images = e.images
    expected = (stored_images[..., ::-1] - np.array([0.3, 0.4, 0.5])) / np.array([0.5, 0.25, 0.2])
    np.testing.assert_allclose(e.x, expected, rtol=1e-5, atol=1e-6)
    fitted = e.fit_image(np.full((10, 20, 3), 0.5, np.float32))
    np.testing.assert_allclose(fitted.x[0, 0], [(0.5 - 0.3) / 0.5, (0.5 - 0.4) / 0.25, (0.5 - 0.5) / 0.2], atol=1e-6)
    assert any("BGR" in n for n in fitted.notes) and any("resized" in n for n in fitted.notes)
    assert {n.key for n in e.conv_layers} == {"stem", "res1_conv1", "res1_conv2", "res2_conv1", "res2_conv2"}
    np.testing.assert_allclose(preprocess(np.ones((1, 2, 2, 3)), Intake([2, 2, 3], scaling="byte")), 255.0)


def test_refused_uploads_leave_nothing_behind(reg, user_models, tmp_path):
    store = reg.uploads.store
    before = set(store.names())
    for path, needle in ((user_models["lambda"], "Lambda layer"), (user_models["custom"], "custom class")):
        with pytest.raises(UploadError, match=needle):
            ingest(store, path.read_bytes(), "../../" + path.name)
    with pytest.raises(UploadError, match="has 3 class names but the model has 4 classes"):
        ingest(store, user_models["resnet"].read_bytes(), "resnet.keras", classes_bytes=b"a\nb\nc",
               classes_filename="c.txt")
    with pytest.raises(UploadError, match="3 class folders"):
        ingest(store, user_models["resnet"].read_bytes(), "resnet.keras",
               samples_bytes=sample_zip(["a", "b", "c"], 1, 8), samples_filename="s.zip")
    with pytest.raises(UploadError, match=r"'x' has images of shape \(8, 8, 3\)"):
        ingest(store, user_models["resnet"].read_bytes(), "resnet.keras",
               samples_bytes=sample_npz(np.zeros((2, 8, 8, 3), np.float32)), samples_filename="s.npz")
    assert set(store.names()) == before
    assert list((store.root / "tmp").iterdir()) == []
    # the next upload works
    assert upload(reg, None, user_models["gray_sigmoid"]) in reg.names()


def test_to_display_inverts_the_scaling(reg, user_models):
    from models.intake import unpreprocess

    rng = np.random.default_rng(0)
    img = rng.random((2, 5, 5, 3)).astype(np.float32)
    for scaling in ("unit", "byte", "symmetric", "meanstd"):
        for order in ("RGB", "BGR"):
            it = Intake([5, 5, 3], scaling=scaling, mean=[0.4, 0.5, 0.6], std=[0.2, 0.3, 0.4], channel_order=order)
            np.testing.assert_allclose(unpreprocess(preprocess(img, it), it), img, atol=1e-6)
    e = reg.get("mnist17")  # built-in: value range [0, 1], display is the input itself
    np.testing.assert_allclose(e.to_display(e.x[:2]), e.x[:2])


def test_never_called_sequential_and_size_agnostic_models_ask_for_the_size(reg, tmp_path):
    import keras

    keras.utils.set_random_seed(1)
    seq = keras.Sequential([keras.layers.Conv2D(3, 3, name="c1"), keras.layers.GlobalAveragePooling2D(),
                            keras.layers.Dense(2, activation="softmax")])
    seq.save(tmp_path / "seq.keras")  # never called: no input size, no weights yet
    data = (tmp_path / "seq.keras").read_bytes()
    store = reg.uploads.store
    with pytest.raises(UploadError, match="enter the input size"):
        ingest(store, data, "seq.keras")
    gray = sample_zip(["a", "b"], 1, 20, channels=1)
    name = ingest(store, data, "seq.keras", samples_bytes=gray, samples_filename="g.zip",
                  input_size=(16, 16)).stored.name
    e = reg.get(name)
    assert e.input_shape == (16, 16, 1) and [n.key for n in e.conv_layers] == ["c1"]
    assert any("before it was ever called" in u for u in e.unsupported)
    # a model that accepts any size
    inp = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inp)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalMaxPooling2D()(x))
    keras.Model(inp, out).save(tmp_path / "any.keras")
    data = (tmp_path / "any.keras").read_bytes()
    with pytest.raises(UploadError, match="accepts images of any size"):
        ingest(store, data, "any.keras")
    e = reg.get(ingest(store, data, "any.keras", input_size=(24, 20)).stored.name)
    assert e.input_shape == (24, 20, 3) and e.predict(e.x).shape == (4, 3)
    assert e.cam_layer.endswith("conv")


def test_multi_input_and_non_classifier_models_are_refused_with_reasons(reg, tmp_path):
    import keras

    a, b = keras.Input((8, 8, 3)), keras.Input((4,))
    out = keras.layers.Dense(2)(keras.layers.Concatenate()([keras.layers.Flatten()(a), b]))
    keras.Model([a, b], out).save(tmp_path / "two_in.keras")
    with pytest.raises(UploadError, match="2 inputs; KernelScope explains models with one image input"):
        ingest(reg.uploads.store, (tmp_path / "two_in.keras").read_bytes(), "two_in.keras")
    inp = keras.Input((8, 8, 3))
    keras.Model(inp, keras.layers.Conv2D(2, 1)(inp)).save(tmp_path / "seg.keras")
    with pytest.raises(UploadError, match="segmentation and detection models are not supported"):
        ingest(reg.uploads.store, (tmp_path / "seg.keras").read_bytes(), "seg.keras")


def test_scaling_is_inferred_from_a_rescaling_layer_and_from_sample_arrays(reg, tmp_path):
    import keras

    inp = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(1 / 255.0, name="scale")(inp)
    x = keras.layers.Conv2D(2, 3, name="conv")(x)
    keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten()(x))).save(tmp_path / "r.keras")
    p = ingest(reg.uploads.store, (tmp_path / "r.keras").read_bytes(), "r.keras")
    assert p.intake.scaling == "byte" and "Rescaling" in p.intake.reasons["scaling"]
    assert p.intake.output_kind == "logits"  # two raw outputs: a softmax is added
    e = reg.get(p.stored.name)
    assert e.x.max() > 1.5  # the test patterns were scaled to [0, 255]
    np.testing.assert_allclose(e.predict(e.x).sum(1), 1.0, rtol=1e-5)
    inp = keras.Input((12, 12, 3))
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inp)))
    keras.Model(inp, out).save(tmp_path / "s.keras")
    x = np.random.default_rng(0).uniform(-1, 1, (3, 12, 12, 3)).astype(np.float32)
    p = ingest(reg.uploads.store, (tmp_path / "s.keras").read_bytes(), "s.keras", samples_bytes=sample_npz(x),
               samples_filename="x.npz")
    assert p.intake.scaling == "symmetric" and "[-1" in p.intake.reasons["scaling"]
    np.testing.assert_array_equal(reg.get(p.stored.name).x, x)  # float arrays are used as model input as they are
