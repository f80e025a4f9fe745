"""Reusable upload helpers for tests: build real (small) user models, save them, upload them.

>>> paths = build_models(tmp_path)                    # {"mobilenet": Path(...keras), ...}
>>> name = upload(registry, tmp_path / "store", paths["mobilenet"], samples=sample_zip(tmp_path, 3))
>>> entry = registry.get(name)                        # an UploadedEntry, like a built-in entry

Models (all tiny, untrained, seeded):

* ``mobilenet``: Keras Applications MobileNetV2 (``weights=None``, 64×64×3,
  ``alpha=0.35``) nested in a functional model with a new 3-class softmax head.
* ``resnet``: a ResNet-style model with skip connections and BatchNormalization, 4 classes.
* ``gray_sigmoid``: a grayscale 28×28×1 model ending in one sigmoid unit, saved as legacy ``.h5``.
* ``two_output``: 32×32×3, outputs ``kind`` (3-class softmax) and ``aux`` (2 logits).
* ``lambda``: a model with a ``Lambda`` layer (must be refused).
* ``custom``: a model with a custom layer class (must be refused).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np


def _keras():
    import keras

    keras.utils.set_random_seed(0)
    return keras


def mobilenet_nested():
    keras = _keras()
    base = keras.applications.MobileNetV2(input_shape=(64, 64, 3), alpha=0.35, include_top=False, weights=None)
    inp = keras.Input((64, 64, 3), name="image")
    x = base(inp)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    out = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inp, out, name="mobilenet_nested")


def resnet_bn():
    keras = _keras()
    layers = keras.layers
    inp = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="stem")(inp)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for i in (1, 2):
        y = layers.Conv2D(8, 3, padding="same", use_bias=False, name=f"res{i}_conv1")(x)
        y = layers.BatchNormalization(name=f"res{i}_bn1")(y)
        y = layers.ReLU(name=f"res{i}_relu1")(y)
        y = layers.Conv2D(8, 3, padding="same", use_bias=False, name=f"res{i}_conv2")(y)
        y = layers.BatchNormalization(name=f"res{i}_bn2")(y)
        x = layers.ReLU(name=f"res{i}_out")(layers.Add(name=f"res{i}_add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out = layers.Dense(4, activation="softmax", name="predictions")(x)
    return keras.Model(inp, out, name="resnet_bn")


def gray_sigmoid():
    keras = _keras()
    layers = keras.layers
    inp = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(inp)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    out = layers.Dense(1, activation="sigmoid", name="p")(x)
    return keras.Model(inp, out, name="gray_sigmoid")


def two_output():
    keras = _keras()
    layers = keras.layers
    inp = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inp)
    x = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    kind = layers.Dense(3, activation="softmax", name="kind")(x)
    aux = layers.Dense(2, name="aux")(x)
    return keras.Model(inp, [kind, aux], name="two_output")


def lambda_model():
    keras = _keras()
    inp = keras.Input((16, 16, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0, name="double")(inp)
    x = keras.layers.Flatten()(x)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x))


def custom_model():
    keras = _keras()

    @keras.saving.register_keras_serializable(package="userpkg")
    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inp = keras.Input((16, 16, 1))
    x = keras.layers.Flatten()(Scale(name="scale")(inp))
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x))


BUILDERS = {
    "mobilenet": (mobilenet_nested, "mobilenet_nested.keras"),
    "resnet": (resnet_bn, "resnet_bn.keras"),
    "gray_sigmoid": (gray_sigmoid, "gray_sigmoid.h5"),
    "two_output": (two_output, "two_output.keras"),
    "lambda": (lambda_model, "lambda.keras"),
    "custom": (custom_model, "custom.keras"),
}


def build_model(folder: Path, kind: str) -> Path:
    """Build model ``kind`` (see the module docstring) and save it under ``folder``; return the path."""
    build, filename = BUILDERS[kind]
    path = Path(folder) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build().save(path)
    return path


def build_models(folder: Path, kinds=("mobilenet", "resnet", "gray_sigmoid", "two_output")) -> dict[str, Path]:
    return {k: build_model(folder, k) for k in kinds}


def images(n: int, size: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """``n`` smooth random uint8 images ``(n, size, size, channels)``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        f = rng.uniform(1, 4, size=(channels, 2))
        ph = rng.uniform(0, 6.3, size=channels)
        chans = [0.5 + 0.5 * np.sin(2 * np.pi * (f[c, 0] * xx + f[c, 1] * yy) + ph[c]) for c in range(channels)]
        out.append(np.stack(chans, -1))
    return (np.stack(out) * 255).round().astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    from PIL import Image

    a = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def sample_zip(classes: list[str], per_class: int = 2, size: int = 40, channels: int = 3) -> bytes:
    """A zip of PNGs, one folder per class, inside one top folder (as ``zip -r data.zip data/`` makes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for ci, name in enumerate(classes):
            for j, im in enumerate(images(per_class, size, channels, seed=ci)):
                zf.writestr(f"data/{name}/img{j}.png", png_bytes(im))
    return buf.getvalue()


def sample_npz(x: np.ndarray, y: np.ndarray | None = None) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **({"x": x} if y is None else {"x": x, "y": y}))
    return buf.getvalue()


def attach_store(registry, store_dir: Path, max_models: int = 3):
    """Attach a store at ``store_dir`` to ``registry`` (replacing any attached one); return the UploadedModels."""
    from models.store import ModelStore
    from models.uploads import UploadedModels

    uploads = UploadedModels(ModelStore(store_dir), max_models)
    registry.attach_uploads(uploads)
    return uploads


def upload(registry, store_dir: Path | None, model_path: Path, *, samples: bytes | None = None,
           samples_name: str = "samples.zip", classes: bytes | None = None, classes_name: str = "classes.txt",
           title: str | None = None, input_size=None) -> str:
    """Upload ``model_path`` (+ samples, class names) into ``registry``'s store; return the registry name.

    With ``store_dir`` a new store is attached there first; with None the attached one is used.
    """
    from models.uploads import ingest

    uploads = attach_store(registry, store_dir) if store_dir is not None else registry.uploads
    prepared = ingest(uploads.store, Path(model_path).read_bytes(), Path(model_path).name,
                      samples_bytes=samples, samples_filename=samples_name if samples else None,
                      classes_bytes=classes, classes_filename=classes_name if classes else None,
                      title=title, input_size=input_size)
    return prepared.stored.name


UPLOAD_KINDS = {  # test upload -> (class folders of its samples, sample size, channels)
    "mobilenet": (["a", "b", "c"], 40, 3),
    "resnet": (list("wxyz"), 32, 3),
    "gray_sigmoid": (["no", "yes"], 28, 1),
    "two_output": (["r", "s", "t"], 32, 3),
}


def linear_stack(path: Path) -> Path:
    """A 16×16×1 linear conv stack (no bias, no activation) with a 40-class softmax head."""
    keras = _keras()
    keras.utils.set_random_seed(3)
    inp = keras.Input((16, 16, 1), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="c1")(inp)
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="c2")(x)
    out = keras.layers.Dense(40, activation="softmax", name="head")(keras.layers.Flatten()(x))
    keras.Model(inp, out, name="linear40").save(path)
    return path


def uploaded_context(root: Path, user_models: dict[str, Path]):
    """A fresh registry with every test upload (plus the 0-255, unlabelled 40-class linear stack) and the
    page context around it: ``(AppContext, {kind: registry name})``."""
    from callbacks.common import AppContext
    from dashboard.arrays import ArrayStore
    from dashboard.settings import Settings
    from models import ModelRegistry

    reg = ModelRegistry(device="cpu")
    attach_store(reg, root / "store", max_models=6)
    settings = Settings(cache_dir=root / "cache", device="cpu", store_dir=root / "store", max_upload_mb=5)
    ctx = AppContext(registry=reg, settings=settings, arrays=ArrayStore(root / "cache" / "arrays"))
    names = {kind: upload(reg, None, user_models[kind], samples=sample_zip(classes, 1, size, channels),
                          title=f"My {kind}")
             for kind, (classes, size, channels) in UPLOAD_KINDS.items()}
    x = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 1)).astype(np.float32)  # 0-255 inputs, no labels
    names["linear"] = upload(reg, None, linear_stack(root / "linear40.keras"), samples=sample_npz(x),
                             samples_name="x.npz", title="My linear")
    return ctx, names
