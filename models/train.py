"""Train a built-in model and write its weights, metadata and bundled samples.

Usage::

    python -m models.train mnist17 --data ../shared/data
    python -m models.train cifar5 --data ../shared/data --epochs 2 --limit 2000 --out /tmp/x

``--data`` is ../shared/data (MNIST idx files, CIFAR-10 as a zip of JPEGs) or a
directory with the original distributions.  Training is seeded (weights,
noise, shuffling, augmentation and the sample all derive from the spec's seed)
and TensorFlow's op determinism is switched on, so a rerun on the same machine
and versions gives the same weights.

Outputs, in ``--out`` (default: the model's folder under ``models/zoo``):
``model.keras`` (Keras 3 format), ``meta.json`` (test accuracy and how it was
obtained) and ``samples.npz`` (a stratified sample of test images with labels).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .datasets import prepare, stratified_sample
from .specs import BUILTIN_SPECS, ModelSpec, build_architecture


def _subset(x: np.ndarray, y: np.ndarray, limit: int | None, seed: int):
    if not limit or limit >= len(y):
        return x, y
    idx = np.random.default_rng(seed).permutation(len(y))[:limit]
    return x[idx], y[idx]


def _augment_dataset(x, y, spec: ModelSpec):
    import tensorflow as tf

    seed = spec.seed
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)

    def aug(image, label):
        # Seeded random flip and a shift of up to 3 pixels (reflect padding).
        image = tf.image.random_flip_left_right(image, seed=seed)
        padded = tf.pad(image, [[3, 3], [3, 3], [0, 0]], mode="REFLECT")
        image = tf.image.random_crop(padded, tf.shape(image), seed=seed + 1)
        return image, label

    return ds.map(aug).batch(spec.batch_size).prefetch(2)


def train(spec: ModelSpec, data: Path, out: Path, epochs: int | None = None,
          limit: int | None = None, verbose: int = 2) -> dict:
    """Train ``spec`` on ``data`` and write the model files into ``out``.

    Returns the metadata dictionary written to ``meta.json``.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(spec.seed)
    tf.config.experimental.enable_op_determinism()
    epochs = spec.epochs if epochs is None else epochs

    t0 = time.time()
    train_split = prepare(spec, data, "train")
    test_split = prepare(spec, data, "test")
    x_train, y_train = _subset(train_split.x, train_split.y, limit, spec.seed)
    x_test, y_test = _subset(test_split.x, test_split.y, limit, spec.seed + 1)
    load_s = time.time() - t0

    model = build_architecture(spec)
    model.compile(
        optimizer=keras.optimizers.Adam(spec.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    t0 = time.time()
    if spec.architecture == "cifar5_cnn":
        steps = max(1, int(np.ceil(len(y_train) / spec.batch_size))) * epochs
        schedule = keras.optimizers.schedules.CosineDecay(spec.learning_rate, steps)
        model.optimizer = keras.optimizers.Adam(schedule)
        model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(_augment_dataset(x_train, y_train, spec), epochs=epochs, verbose=verbose)
    else:
        model.fit(x_train, y_train, batch_size=spec.batch_size, epochs=epochs,
                  shuffle=True, verbose=verbose)
    train_s = time.time() - t0

    probs = model.predict(x_test, batch_size=256, verbose=0)
    test_accuracy = float(np.mean(np.argmax(probs, axis=1) == y_test))

    per_class = min(spec.samples_per_class, int(np.bincount(y_test).min()))
    idx = stratified_sample(y_test, per_class, spec.seed)
    x_s, y_s = x_test[idx].astype(np.float32), y_test[idx].astype(np.int64)
    sample_probs = model.predict(x_s, batch_size=256, verbose=0)
    sample_accuracy = float(np.mean(np.argmax(sample_probs, axis=1) == y_s))

    out.mkdir(parents=True, exist_ok=True)
    # Save a fresh, uncompiled copy: no optimizer state, a third of the bytes.
    export = build_architecture(spec)
    export.set_weights(model.get_weights())
    tmp = out / "model.tmp.keras"
    export.save(tmp)
    os.replace(tmp, out / "model.keras")
    np.savez_compressed(out / "samples.npz", x=x_s, y=y_s, test_index=idx.astype(np.int64))
    meta = {
        "name": spec.name,
        "test_accuracy": round(test_accuracy, 4),
        "n_test": int(len(y_test)),
        "n_train": int(len(y_train)),
        "sample_accuracy": round(sample_accuracy, 4),
        "n_samples": int(len(y_s)),
        "epochs": int(epochs),
        "seed": spec.seed,
        "limit": limit,
        "train_seconds": round(train_s, 1),
        "load_seconds": round(load_s, 1),
        "command": " ".join(["python -m models.train", spec.name, "--data", str(data)]
                            + ([f"--epochs {epochs}"] if epochs != spec.epochs else [])
                            + ([f"--limit {limit}"] if limit else [])),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
        "data_note": (
            "CIFAR-10 read from the JPEG copy of the data set: pixel values differ from the "
            "original batches by a few grey levels."
            if spec.name.startswith("cifar") else "Original MNIST idx files."
        ),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(BUILTIN_SPECS), help="built-in model to train")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"),
                        help="data directory (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: models/zoo/NAME)")
    parser.add_argument("--epochs", type=int, default=None, help="override the spec's epochs")
    parser.add_argument("--limit", type=int, default=None,
                        help="train and test on at most this many images (for quick checks)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch output")
    args = parser.parse_args(argv)
    spec = BUILTIN_SPECS[args.name]
    out = args.out or spec.folder
    try:
        meta = train(spec, args.data, out, epochs=args.epochs, limit=args.limit,
                     verbose=0 if args.quiet else 2)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(meta, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
