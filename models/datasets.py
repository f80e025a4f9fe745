"""Readers for the training data of the built-in models.

The data come either from ``../shared/data`` (the original MNIST idx files and
CIFAR-10 as a zip of JPEGs, one folder per class) or from a directory holding
the original distributions (MNIST idx files; CIFAR-10 python batches, which
are read with a restricted unpickler that accepts only plain containers).

Every reader returns ``(x, y)`` with ``x`` a float32 array ``(N, H, W, C)`` in
the value range of the model and ``y`` integer class indices.
"""

from __future__ import annotations

import gzip
import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .specs import CIFAR10_CLASSES, ModelSpec

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST17_NOISE = 0.3


class DataNotFound(FileNotFoundError):
    """Raised when a data directory lacks the files a model needs."""


@dataclass
class Split:
    x: np.ndarray
    y: np.ndarray


def _find(root: Path, stem: str) -> Path:
    for candidate in (root / stem, root / f"{stem}.gz", root / "mnist" / stem, root / "mnist" / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    raise DataNotFound(f"no {stem}[.gz] under {root} or {root / 'mnist'}")


def read_idx(path: Path) -> np.ndarray:
    """Read an idx file (optionally gzip-compressed) into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise ValueError(f"{path} is not an unsigned-byte idx file")
    ndim = data[3]
    shape = tuple(int(v) for v in np.frombuffer(data, ">u4", ndim, 4))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(root: Path, split: str) -> Split:
    images, labels = MNIST_FILES[split]
    x = read_idx(_find(root, images))
    y = read_idx(_find(root, labels))
    return Split(x, y)


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR-10 python batches.

    The batches hold a dict of bytes, lists and one numpy array; only the three
    numpy globals needed to rebuild a plain array are resolved, anything else
    (functions, arbitrary classes) is refused.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            from numpy._core.multiarray import _reconstruct

            return {"_reconstruct": _reconstruct, "ndarray": np.ndarray, "dtype": np.dtype}[name]
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data batch")


def _load_cifar_batches(folder: Path, split: str) -> Split:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    xs, ys = [], []
    for n in names:
        with open(folder / n, "rb") as f:
            d = _SafeUnpickler(f, encoding="bytes").load()
        xs.append(np.frombuffer(d[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(np.asarray(d[b"labels"], np.uint8))
    return Split(np.concatenate(xs), np.concatenate(ys))


def load_cifar10(root: Path, split: str, classes: tuple[str, ...] = CIFAR10_CLASSES) -> Split:
    """Load CIFAR-10 RGB uint8 images of the given classes, sorted by file name."""
    for folder in (root, root / "cifar10", root / "cifar-10-batches-py", root / "cifar10" / "cifar-10-batches-py"):
        if (folder / "test_batch").exists():
            data = _load_cifar_batches(folder, split)
            keep = np.isin(data.y, [CIFAR10_CLASSES.index(c) for c in classes])
            return Split(data.x[keep], data.y[keep])
    for path in (root / "cifar10-jpeg.zip", root / "cifar10" / "cifar10-jpeg.zip"):
        if path.exists():
            break
    else:
        raise DataNotFound(f"no cifar10/cifar10-jpeg.zip or CIFAR-10 python batches under {root}")
    from PIL import Image

    xs, ys = [], []
    with zipfile.ZipFile(path) as z:
        files = sorted(
            n
            for n in z.namelist()
            if n.startswith(split + "/") and n.endswith(".jpg") and n.split("/")[1] in classes
        )
        for n in files:
            xs.append(np.asarray(Image.open(io.BytesIO(z.read(n))).convert("RGB")))
            ys.append(CIFAR10_CLASSES.index(n.split("/")[1]))
    return Split(np.stack(xs), np.asarray(ys, np.uint8))


def rgb_to_gray(x: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(N, H, W, 3)`` to float32 grayscale ``(N, H, W, 1)`` in [0, 1] (skimage weights)."""
    from skimage.color import rgb2gray

    return rgb2gray(x.astype(np.float32) / 255.0).astype(np.float32)[..., None]


CIFAR_GRAY_OFFSET = 0.5
"""Subtracted from grayscale CIFAR-10 images (values in [-0.5, 0.5])."""


def prepare(spec: ModelSpec, root: Path, split: str, seed: int | None = None) -> Split:
    """Model-ready ``(x, y)`` for one split of a built-in model's data set.

    Labels are re-indexed to the model's outputs (for ``mnist17``: 0 = digit 1,
    1 = digit 7).  ``seed`` fixes the noise added to ``mnist17``.
    """
    root = Path(root)
    seed = spec.seed if seed is None else seed
    if spec.name == "mnist17":
        raw = load_mnist(root, split)
        keep = np.isin(raw.y, (1, 7))
        x = raw.x[keep].astype(np.float32) / 255.0
        y = (raw.y[keep] == 7).astype(np.int64)
        rng = np.random.default_rng([seed, 0 if split == "train" else 1])
        x = (x + rng.uniform(0.0, MNIST17_NOISE, size=x.shape).astype(np.float32)) / (1.0 + MNIST17_NOISE)
        return Split(x[..., None].astype(np.float32), y)
    if spec.name in ("cifar10", "cifar10pad"):
        raw = load_cifar10(root, split)
        # Centred on zero: with the [0, 1] range the mean grey level dominates
        # every feature of the 131072-wide dense layer and training stalls
        # near chance; centred, the same stack learns.
        x = rgb_to_gray(raw.x) - CIFAR_GRAY_OFFSET
        if spec.name == "cifar10pad":
            x = np.pad(x, ((0, 0), (5, 5), (5, 5), (0, 0)))
        return Split(x, raw.y.astype(np.int64))
    if spec.name == "cifar5":
        raw = load_cifar10(root, split, classes=spec.class_names)
        return Split(raw.x.astype(np.float32) / 255.0, raw.y.astype(np.int64))
    raise ValueError(f"no data recipe for {spec.name!r}")


def stratified_sample(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` random items of every class, interleaved by class."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), size=per_class, replace=False) for c in np.unique(y)]
    return np.stack(picks, axis=1).reshape(-1)


def find_split(spec: ModelSpec, root: Path, split: str) -> Path:
    """The file holding ``split`` (``"train"`` or ``"test"``) of a built-in model's data under ``root``.

    Only looks for the files (nothing is read), so a page can say which splits
    are available; raises :class:`DataNotFound` naming what is missing.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root)
    if not root.is_dir():
        raise DataNotFound(f"{root} is not a folder")
    if spec.name == "mnist17":
        images, labels = MNIST_FILES[split]
        found = _find(root, images)
        _find(root, labels)
        return found
    if spec.name in ("cifar10", "cifar10pad", "cifar5"):
        first = "data_batch_1" if split == "train" else "test_batch"
        for folder in (root, root / "cifar10", root / "cifar-10-batches-py", root / "cifar10" / "cifar-10-batches-py"):
            if (folder / "test_batch").exists() and (folder / first).exists():
                return folder / first
        for path in (root / "cifar10-jpeg.zip", root / "cifar10" / "cifar10-jpeg.zip"):
            if path.exists():
                return path
        raise DataNotFound(f"no cifar10/cifar10-jpeg.zip or CIFAR-10 python batches under {root}")
    raise DataNotFound(f"no data recipe for {spec.name!r}")
