"""Specifications of the built-in models.

A :class:`ModelSpec` says everything about a built-in model that can be known
without TensorFlow: its name, what it was trained on, its input shape, value
range and class names, and how to rebuild and retrain it.  ``models.names()``
and the home page read these specs only, so they never import TensorFlow.

The architectures themselves are built by :func:`build_architecture`, which
imports Keras lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent / "zoo"

MNIST17_CLASSES = ("1", "7")
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR5_CLASSES = CIFAR10_CLASSES[:5]


@dataclass(frozen=True)
class ModelSpec:
    """Static description of one model.

    Attributes:
        name: Registry key (also the folder under ``models/zoo``).
        title: Human-readable title for menus.
        description: One or two sentences for the home page.
        dataset: Which data the model was trained on, and how it was prepared.
        input_shape: ``(H, W, C)`` of one input image.
        value_range: ``(low, high)`` of the input values the model expects.
        class_names: Name of each output class, in output order.
        architecture: Key understood by :func:`build_architecture`.
        dense_units: Width of the hidden dense layer (chosen so the weight file
            stays under 8 MiB).
        epochs: Training epochs used by ``python -m models.train``.
        batch_size: Training batch size.
        learning_rate: Adam learning rate.
        seed: Seed for weights, noise, shuffling and the bundled sample.
        samples_per_class: How many test images per class are bundled.
        image_padding: Zero border every input carries (uploads are resized to
            the inner area, then padded).
        builtin: True for the models shipped with the repository.
        directory: Folder holding ``model.keras``, ``meta.json`` and ``samples.npz``.
    """

    name: str
    title: str
    description: str
    dataset: str
    input_shape: tuple[int, int, int]
    value_range: tuple[float, float]
    class_names: tuple[str, ...]
    architecture: str
    dense_units: int = 8
    epochs: int = 3
    batch_size: int = 64
    learning_rate: float = 1e-3
    seed: int = 1234
    samples_per_class: int = 10
    image_padding: int = 0
    builtin: bool = True
    directory: Path = field(default=ZOO_DIR)

    @property
    def folder(self) -> Path:
        return self.directory / self.name if self.builtin else self.directory

    @property
    def weights_path(self) -> Path:
        return self.folder / "model.keras"

    @property
    def meta_path(self) -> Path:
        return self.folder / "meta.json"

    @property
    def samples_path(self) -> Path:
        return self.folder / "samples.npz"

    @property
    def train_command(self) -> str:
        return f"python -m models.train {self.name} --data ../shared/data"

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


BUILTIN_SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="mnist17",
            title="MNIST 1 vs 7 (linear conv stack)",
            description=(
                "Tells handwritten 1s from 7s. Three 3x3 convolutions with no bias and no "
                "activation (one linear filter bank), then a small dense head."
            ),
            dataset=(
                "MNIST digits 1 and 7 (13007 train / 2163 test); uniform noise U(0, 0.3) added "
                "to the [0, 1] image, then divided by 1.3 so values lie in [0, 1]."
            ),
            input_shape=(28, 28, 1),
            value_range=(0.0, 1.0),
            class_names=MNIST17_CLASSES,
            architecture="linear_stack",
            dense_units=8,
            epochs=4,
            batch_size=64,
            learning_rate=5e-4,
            samples_per_class=32,
        ),
        ModelSpec(
            name="cifar10",
            title="CIFAR-10 grayscale (linear conv stack)",
            description=(
                "Ten-class CIFAR-10 in grayscale with the same linear three-convolution stack "
                "as mnist17 and a small dense head."
            ),
            dataset=(
                "CIFAR-10 (50000 train / 10000 test, the JPEG copy of the data set) converted "
                "to grayscale with skimage.color.rgb2gray, minus 0.5: values in [-0.5, 0.5] "
                "(centred, so the mean grey level does not dominate the linear stack's features)."
            ),
            input_shape=(32, 32, 1),
            value_range=(-0.5, 0.5),
            class_names=CIFAR10_CLASSES,
            architecture="linear_stack",
            dense_units=8,
            epochs=3,
            batch_size=64,
            learning_rate=1e-4,
            samples_per_class=10,
        ),
        ModelSpec(
            name="cifar10pad",
            title="CIFAR-10 grayscale, zero-padded (linear conv stack)",
            description=(
                "As cifar10, but every image is zero-padded by 5 pixels on each side, so the "
                "edge effects of the convolutions fall on the padding."
            ),
            dataset=(
                "CIFAR-10 grayscale as for cifar10, zero-padded 5 px on every side (42x42), "
                "values in [-0.5, 0.5]."
            ),
            input_shape=(42, 42, 1),
            value_range=(-0.5, 0.5),
            class_names=CIFAR10_CLASSES,
            architecture="linear_stack",
            dense_units=8,
            epochs=3,
            batch_size=64,
            learning_rate=1e-4,
            samples_per_class=10,
            image_padding=5,
        ),
        ModelSpec(
            name="cifar5",
            title="CIFAR-5 RGB (nonlinear CNN)",
            description=(
                "Five CIFAR-10 classes in colour with a nonlinear CNN: convolutions, batch "
                "normalisation, ReLU, zero padding, separable convolutions, max pooling, "
                "dropout and global max pooling."
            ),
            dataset=(
                "The first five CIFAR-10 classes (airplane, automobile, bird, cat, deer; "
                "25000 train / 5000 test, the JPEG copy), RGB, values in [0, 1]."
            ),
            input_shape=(32, 32, 3),
            value_range=(0.0, 1.0),
            class_names=CIFAR5_CLASSES,
            architecture="cifar5_cnn",
            dense_units=64,
            epochs=20,
            batch_size=64,
            learning_rate=2e-3,
            samples_per_class=20,
        ),
    )
}


def build_architecture(spec: ModelSpec):
    """Build the untrained Keras model described by ``spec``."""
    import keras
    from keras import layers

    inputs = keras.Input(spec.input_shape, name="image")
    if spec.architecture == "linear_stack":
        x = inputs
        for i, filters in enumerate((32, 64, 128), start=1):
            x = layers.Conv2D(
                filters, 3, padding="same", use_bias=False, activation=None, name=f"conv{i}"
            )(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(spec.dense_units, activation="relu", name="dense")(x)
        outputs = layers.Dense(spec.n_classes, activation="softmax", name="predictions")(x)
    elif spec.architecture == "cifar5_cnn":

        def block(x, conv, name):
            x = conv(name=f"{name}")(x)
            x = layers.BatchNormalization(name=f"{name}_bn")(x)
            return layers.ReLU(name=f"{name}_relu")(x)

        def conv(filters, padding="same"):
            return lambda name: layers.Conv2D(
                filters, 3, padding=padding, use_bias=False, name=name
            )

        def sep(filters, padding="same"):
            return lambda name: layers.SeparableConv2D(
                filters, 3, padding=padding, use_bias=False, name=name
            )

        x = block(inputs, conv(32), "conv1")
        x = block(x, conv(32), "conv2")
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = layers.ZeroPadding2D(1, name="pad1")(x)
        x = block(x, sep(64, "valid"), "sepconv1")
        x = block(x, sep(64), "sepconv2")
        x = layers.MaxPooling2D(2, name="pool2")(x)
        x = layers.Dropout(0.2, name="drop1")(x)
        x = block(x, sep(128), "sepconv3")
        x = block(x, sep(128), "sepconv4")
        x = layers.GlobalMaxPooling2D(name="global_max")(x)
        x = layers.Dropout(0.3, name="drop2")(x)
        x = layers.Dense(spec.dense_units, activation="relu", name="dense")(x)
        outputs = layers.Dense(spec.n_classes, activation="softmax", name="predictions")(x)
    else:  # pragma: no cover - guarded by the specs above
        raise ValueError(f"unknown architecture {spec.architecture!r}")
    return keras.Model(inputs, outputs, name=spec.name)
