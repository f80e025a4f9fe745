"""Reading user sample data safely: ``.npz`` arrays, ``.zip`` archives of images, single images, class names.

Everything is read in memory; nothing from an archive or a client file name is
ever used as a path.  Limits are checked *before* work is done: an archive's
declared sizes and compression ratios are checked before any member is
decompressed (zip bombs), and each member is then read with a hard cap in case
its header lies.  ``.npz`` files are loaded with ``allow_pickle=False``.
Every refusal is a :class:`SampleError` whose message says what was wrong.
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

import numpy as np

from .images import ImageError, decode_image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
SAMPLE_EXTENSIONS = (".npz", ".zip", *IMAGE_EXTENSIONS)
CLASS_NAME_EXTENSIONS = (".txt", ".json")


class SampleError(ValueError):
    """Uploaded sample data cannot be used; the message says why."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what an upload may cost.

    Attributes:
        max_files: Images in one archive.
        max_uncompressed: Total decompressed bytes of an archive.
        max_ratio: Largest compression ratio of one member (zip bombs reach 1000+).
        max_pixels: Pixels of one image (larger ones are refused before decoding).
        max_samples: Images kept from one upload (``.npz`` rows or archive images).
    """

    max_files: int = 2000
    max_uncompressed: int = 1 << 30
    max_ratio: float = 200.0
    max_pixels: int = 40_000_000
    max_samples: int = 2000


@dataclass
class SampleSet:
    """Decoded samples.

    Either ``images`` (decoded images in [0, 1], any size, 1 or 3 channels) or
    ``x`` (an array from an ``.npz`` file, used as model input as it is).
    """

    images: list[np.ndarray] | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    class_names: list[str] | None = None  # from class folders
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images) if self.images is not None else (0 if self.x is None else len(self.x))


def safe_filename(filename: str | None, default: str = "upload") -> str:
    """The last component of a client's file name (for display only), without control characters."""
    raw = str(filename or "")
    base = PureWindowsPath(PurePosixPath(raw).name).name
    base = "".join(ch for ch in base if ch.isprintable() and ch not in "/\\")
    return base[-120:] or default


def extension(filename: str | None) -> str:
    return PurePosixPath(safe_filename(filename).lower()).suffix


def _check_member_name(name: str, archive: str) -> None:
    p = name.replace("\\", "/")
    if p.startswith("/") or (len(p) > 1 and p[1] == ":") or ".." in p.split("/"):
        raise SampleError(
            f"'{archive}' contains the unsafe path '{name[:100]}' (it points outside the archive); "
            "archives like this are refused. Make the zip from the folder itself (zip -r data.zip folder)"
        )


def _open_zip(data: bytes, what: str, limits: Limits, max_members: int) -> tuple[zipfile.ZipFile, list]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise SampleError(f"'{what}' is not a readable zip archive (truncated or corrupt)") from None
    files = [i for i in infos if not i.is_dir()]
    for info in files:
        _check_member_name(info.filename, what)
    if len(files) > max_members:
        raise SampleError(f"'{what}' holds {len(files)} files; the limit is {max_members}")
    total = sum(i.file_size for i in files)
    if total > limits.max_uncompressed:
        raise SampleError(f"'{what}' would decompress to {total / 2**20:.0f} MiB; the limit is "
                          f"{limits.max_uncompressed / 2**20:.0f} MiB (refused before extracting anything)")
    for info in files:
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > 1 << 20 and ratio > limits.max_ratio:
            raise SampleError(
                f"'{what}' looks like a zip bomb: '{safe_filename(info.filename)}' expands {ratio:.0f}-fold "
                f"(limit {limits.max_ratio:.0f}); refused before extracting anything"
            )
    return zf, files


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str, cap: int) -> bytes:
    try:
        with zf.open(info) as f:
            data = f.read(cap + 1)
    except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError) as exc:
        raise SampleError(f"could not read '{safe_filename(info.filename)}' in '{what}': {exc}") from None
    if len(data) > cap:
        raise SampleError(f"'{safe_filename(info.filename)}' in '{what}' is larger than its header says; refused")
    return data


def read_npz(data: bytes, what: str, limits: Limits) -> SampleSet:
    """``x`` (N, H, W[, C]) numeric and optional ``y`` (N,) integer labels (or one-hot (N, K))."""
    zf, files = _open_zip(data, what, limits, max_members=64)
    zf.close()
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - numpy raises many types on bad files
        raise SampleError(f"'{what}' is not a readable .npz file ({exc})") from None
    with npz:
        if "x" not in npz.files:
            raise SampleError(f"'{what}' has no array named 'x' (it has {', '.join(npz.files) or 'none'}); "
                              "save it with np.savez(path, x=images, y=labels)")
        try:
            x = npz["x"]
            y = npz["y"] if "y" in npz.files else None
        except ValueError as exc:
            if "pickle" in str(exc).lower() or "object" in str(exc).lower():
                raise SampleError(
                    f"'{what}' holds an object array; KernelScope never unpickles uploaded data. Save "
                    "numeric arrays instead: np.savez(path, x=x.astype('float32'), y=y.astype('int64'))"
                ) from None
            raise SampleError(f"could not read '{what}': {exc}") from None
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise SampleError(f"'x' in '{what}' has dtype {x.dtype}; it must be numeric")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[0] == 0:
        raise SampleError(f"'x' in '{what}' has shape {x.shape}; expected (N, H, W) or (N, H, W, C) with N ≥ 1")
    if not np.all(np.isfinite(x)):
        raise SampleError(f"'x' in '{what}' contains NaN or infinite values")
    notes = []
    if len(x) > limits.max_samples:
        notes.append(f"kept the first {limits.max_samples} of {len(x)} samples")
        x = x[: limits.max_samples]
        y = None if y is None else y[: limits.max_samples]
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2:
            y = y.argmax(axis=1)
            notes.append("y is one-hot; used its argmax as labels")
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.number):
            raise SampleError(f"'y' in '{what}' must be {len(x)} class indices, got shape {y.shape}")
        if not np.all(np.equal(np.mod(y, 1), 0)) or y.min() < 0:
            raise SampleError(f"'y' in '{what}' must hold non-negative whole class indices")
        y = y.astype(np.int64)
    if np.issubdtype(x.dtype, np.integer) or x.dtype == bool:
        top = 65535.0 if x.max(initial=0) > 255 else 255.0
        images = [np.asarray(a, np.float32) / top for a in x]
        notes.append(f"x is integer-valued; read it as images with values 0–{top:.0f}")
        return SampleSet(images=images, y=y, notes=notes)
    return SampleSet(x=np.asarray(x, np.float32), y=y, notes=notes)


def read_zip(data: bytes, what: str, limits: Limits) -> SampleSet:
    """Images in a zip, optionally one folder per class (folder names become class names)."""
    zf, files = _open_zip(data, what, limits, max_members=limits.max_files)
    members = []
    skipped = 0
    for info in files:
        path = info.filename.replace("\\", "/")
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
            continue
        if posixpath.splitext(parts[-1].lower())[1] not in IMAGE_EXTENSIONS:
            skipped += 1
            continue
        members.append((parts, info))
    if not members:
        raise SampleError(f"'{what}' holds no PNG, JPEG, TIFF or BMP images")
    # strip one folder that every image shares (zip -r data.zip data/)
    while all(len(p) > 2 for p, _ in members) and len({p[0] for p, _ in members}) == 1:
        members = [(p[1:], i) for p, i in members]
    folders = [p[-2] if len(p) >= 2 else None for p, _ in members]
    use_folders = all(f is not None for f in folders) and len(set(folders)) >= 2
    class_names = sorted(set(folders)) if use_folders else None
    images, labels, notes = [], [], []
    errors = 0
    first_error = None
    for (parts, info), folder in zip(members[: limits.max_samples], folders):
        raw = _read_member(zf, info, what, cap=info.file_size)
        try:
            images.append(decode_image(raw, parts[-1], limits.max_pixels))
        except ImageError as exc:
            errors += 1
            first_error = first_error or str(exc)
            continue
        if use_folders:
            labels.append(class_names.index(folder))
    zf.close()
    if not images:
        raise SampleError(f"none of the images in '{what}' could be read (first problem: {first_error})")
    if len(members) > limits.max_samples:
        notes.append(f"kept the first {limits.max_samples} of {len(members)} images")
    if skipped:
        notes.append(f"skipped {skipped} file(s) that are not images")
    if errors:
        notes.append(f"skipped {errors} unreadable image(s) (first: {first_error})")
    if use_folders:
        notes.append(f"labels from {len(class_names)} class folders: {', '.join(class_names)}")
    y = np.asarray(labels, np.int64) if use_folders else None
    return SampleSet(images=images, y=y, class_names=class_names, notes=notes)


def read_samples(data: bytes, filename: str | None, limits: Limits | None = None) -> SampleSet:
    """Samples from an ``.npz``, a ``.zip`` of images or a single image.

    Raises:
        SampleError: with the reason, for anything that cannot be used.
    """
    limits = limits or Limits()
    what = safe_filename(filename, "the samples file")
    ext = extension(filename)
    if not data:
        raise SampleError(f"'{what}' is empty")
    if ext == ".npz":
        return read_npz(data, what, limits)
    if ext == ".zip":
        return read_zip(data, what, limits)
    if ext in IMAGE_EXTENSIONS:
        try:
            return SampleSet(images=[decode_image(data, what, limits.max_pixels)])
        except ImageError as exc:
            raise SampleError(str(exc)) from None
    raise SampleError(f"'{what}' is not a sample file; upload a .npz (x, y), a .zip of images or one "
                      "PNG, JPEG, TIFF or BMP image")


def read_class_names(data: bytes, filename: str | None, n_classes: int | None = None) -> list[str]:
    """Class names from a ``.txt`` (one per line) or ``.json`` (a list, or ``{"index": name}``).

    Raises:
        SampleError: unreadable file, or a count different from ``n_classes``.
    """
    what = safe_filename(filename, "the class-names file")
    ext = extension(filename)
    if ext not in CLASS_NAME_EXTENSIONS:
        raise SampleError(f"'{what}' is not a class-names file; upload a .txt (one name per line) or a .json list")
    if len(data) > 4 * 2**20:
        raise SampleError(f"'{what}' is larger than 4 MiB; that is not a list of class names")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SampleError(f"'{what}' is not UTF-8 text") from None
    if ext == ".txt":
        names = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise SampleError(f"'{what}' is not valid JSON ({exc})") from None
        if isinstance(obj, dict):
            try:
                items = sorted(((int(k), v) for k, v in obj.items()), key=lambda kv: kv[0])
            except (TypeError, ValueError):
                raise SampleError(f"'{what}' must map class indices to names, e.g. {{\"0\": \"cat\"}}") from None
            if [k for k, _ in items] != list(range(len(items))):
                raise SampleError(f"the indices in '{what}' must be 0..{len(items) - 1} without gaps")
            obj = [v for _, v in items]
        if not isinstance(obj, list) or not all(isinstance(v, (str, int, float)) for v in obj):
            raise SampleError(f"'{what}' must hold a list of names, e.g. [\"cat\", \"dog\"]")
        names = [str(v).strip() for v in obj]
    if not names:
        raise SampleError(f"'{what}' holds no class names")
    names = [n[:80] for n in names]
    if n_classes is not None and len(names) != n_classes:
        raise SampleError(f"'{what}' has {len(names)} class names but the model has {n_classes} classes; "
                          "give exactly one name per class, in output order")
    return names
