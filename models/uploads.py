"""Uploaded models in the registry: ingest an upload into the store, load it on demand, keep at most N in memory.

:func:`ingest` validates an upload end to end (safe model load, intake,
samples, class names, one forward pass) in a private staging folder and only
then moves it into the :class:`~models.store.ModelStore`.  :class:`UploadedModels`
lists the store's uploads as registry names (``u-<hash>``), builds their
:class:`UploadedEntry` on first use and keeps the ``max_models`` most recently
used in memory (least recently used evicted).  The :class:`~models.registry.ModelRegistry`
delegates every ``u-...`` name to it once :meth:`ModelRegistry.attach_uploads` was called.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .intake import Intake, IntakeError, inspect, prepare_model, preprocess, refine, unpreprocess, validate
from .registry import ModelEntry
from .safe_load import ModelLoadError, load_model_file, model_kind
from .specs import ModelSpec
from .store import ModelStore, StoredModel, StoreError, digest_of, load_samples, name_of, save_samples

log = logging.getLogger(__name__)

DEFAULT_MAX_MODELS = 3
N_PLACEHOLDER = 4


class UploadError(ValueError):
    """An upload was refused; the message is for the user."""


def _fit_all(images: list[np.ndarray], shape) -> np.ndarray:
    from xai_core.images import fit_to_model

    return np.stack([fit_to_model(im, tuple(shape)).x for im in images])


def placeholder_images(shape) -> np.ndarray:
    """Four deterministic test patterns in [0, 1] (used when no samples were uploaded)."""
    h, w, c = (int(v) for v in shape)
    yy, xx = np.mgrid[0:h, 0:w] / max(h - 1, w - 1, 1)
    rng = np.random.default_rng(0)
    pats = [xx, ((np.floor(yy * 8) + np.floor(xx * 8)) % 2),
            (np.hypot(yy - 0.5, xx - 0.5) < 0.3).astype(float), rng.random((h, w))]
    out = np.stack([np.repeat(p[..., None], c, -1) for p in pats]).astype(np.float32)
    if c == 3:
        out[0, ..., 1] = yy
    return out


@dataclass
class Prepared:
    """What :func:`ingest` read, for the page to show."""

    stored: StoredModel
    intake: Intake
    notes: list[str] = field(default_factory=list)


def _class_names(intake: Intake, given: list[str] | None, folders: list[str] | None) -> tuple[list[str], str]:
    k = intake.n_classes
    if given is not None:
        return given, "from the uploaded class-names file"
    if folders is not None:
        if len(folders) != k:
            raise UploadError(f"the archive has {len(folders)} class folders ({', '.join(folders)}) but the model "
                              f"has {k} classes; upload a class-names file or one folder per class")
        return folders, "from the archive's class folders"
    if intake.output_kind in ("sigmoid", "logit1"):
        return ["negative (1 − p)", "positive (p)"], "a single-unit output: class 1 is p, class 0 is 1 − p"
    return [f"class {i}" for i in range(k)], "no names given"


def ingest(store: ModelStore, model_bytes: bytes, model_filename: str, *, samples_bytes: bytes | None = None,
           samples_filename: str | None = None, classes_bytes: bytes | None = None,
           classes_filename: str | None = None, title: str | None = None, input_size: tuple | None = None,
           limits=None, progress=None) -> Prepared:
    """Validate an upload and add it to ``store``.

    ``progress(fraction, text)``, when given, is called as each stage starts
    (checking files, reading samples, loading the model safely, inspecting,
    test forward pass, writing to the store); the fractions of the ingest's
    time (measured on a nested MobileNetV2) increase and stay below 1.

    Raises:
        UploadError: with the reason, for anything that is refused.  Nothing is
            left in the store in that case.
    """
    from xai_core.archives import Limits, SampleError, read_class_names, read_samples, safe_filename

    limits = limits or Limits()
    step = progress or (lambda _fraction, _text: None)
    step(0.02, "checking files")
    display_name = safe_filename(model_filename, "model")
    try:
        kind = model_kind(model_bytes[:1024], display_name)
    except ModelLoadError as exc:
        raise UploadError(str(exc)) from None
    staging = store.tmp_dir()
    try:
        model_file = "model.keras" if kind == "keras" else "model.h5"
        (staging / model_file).write_bytes(model_bytes)
        if samples_bytes:
            step(0.06, "reading samples")
        try:
            samples = read_samples(samples_bytes, samples_filename, limits) if samples_bytes else None
        except SampleError as exc:
            raise UploadError(str(exc)) from None
        step(0.1, "loading the model safely")
        model = load_model_file(staging / model_file, display_name)
        step(0.5, "inspecting the model")
        intake = inspect(model, samples.x if samples is not None else None)
        if input_size:
            h, w = (int(v) for v in input_size[:2])
            c = intake.input_shape[2] if intake.input_shape else None
            if c is None:
                c = _sample_channels(samples) or 3
                intake.reasons["input_shape"] = f"entered at upload; {c} channel(s) from the samples"
            else:
                intake.reasons["input_shape"] = "entered at upload"
            intake.input_shape = [h, w, int(c)]
            refine(model, intake, samples.x if samples is not None else None)
        if not intake.input_shape:
            raise UploadError("the model accepts images of any size; enter the input size it was trained on "
                              "(height × width) and upload again")
        validate(intake)
        prepared = prepare_model(model, intake)
        notes = list(samples.notes) if samples is not None else []
        h, w, c = intake.input_shape
        if samples is None:
            images = placeholder_images(intake.input_shape)
            x_raw, y = None, None
            notes.append(f"no samples uploaded: {N_PLACEHOLDER} test patterns (gradient, checkerboard, disk, "
                         "noise) stand in for images")
        elif samples.images is not None:
            images = _fit_all(samples.images, intake.input_shape)
            x_raw, y = None, samples.y
            sizes = {im.shape[:2] for im in samples.images}
            if sizes != {(h, w)}:
                notes.append(f"images resized to {h}×{w}")
        else:
            x_raw, y, images = samples.x, samples.y, None
            if tuple(x_raw.shape[1:]) != (h, w, c):
                raise UploadError(f"'x' has images of shape {tuple(x_raw.shape[1:])} but the model takes "
                                  f"{(h, w, c)}; save x at the model's input size (or upload images instead)")
        given = read_class_names(classes_bytes, classes_filename, intake.n_classes) if classes_bytes else None
        class_names, names_why = _class_names(intake, given, samples.class_names if samples else None)
        if y is not None and len(y) and int(y.max()) >= intake.n_classes:
            raise UploadError(f"the labels go up to {int(y.max())} but the model has {intake.n_classes} classes")
        step(0.85, "test forward pass")
        x = preprocess(images, intake) if images is not None else x_raw
        probs = prepared(x[:1], training=False)
        if not np.all(np.isfinite(np.asarray(probs))):
            raise UploadError("the model's output on the first sample is not finite (NaN or inf); check the "
                              "scaling settings or the model")
        step(0.92, "writing to the store")
        save_samples(staging / "samples.npz",
                     images=None if images is None else np.round(np.clip(images, 0, 1) * 65535).astype(np.uint16),
                     x=x_raw, y=y)
        digest = store.content_hash(model_bytes, samples_bytes, classes_bytes)
        meta = {
            "title": (title or "").strip()[:80] or f"{Path(display_name).stem} (uploaded)",
            "original_filename": display_name,
            "samples_filename": safe_filename(samples_filename) if samples_bytes else None,
            "model_file": model_file,
            "intake": intake.to_dict(),
            "class_names": class_names,
            "class_names_source": names_why,
            "n_samples": int(len(x)),
            "has_labels": y is not None,
            "notes": notes,
            "n_params": int(model.count_params()),
            "cam_candidates": _cam_keys(prepared),
        }
        stored = store.add(digest, staging, meta)
        return Prepared(stored, intake, notes)
    except (ModelLoadError, IntakeError, StoreError) as exc:
        raise UploadError(str(exc)) from None
    except ValueError as exc:
        from xai_core.archives import SampleError

        if isinstance(exc, (UploadError, SampleError)):
            raise UploadError(str(exc)) from None
        raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _cam_keys(prepared) -> list[str]:
    from xai_core.graph import flatten

    from .intake import cam_candidates

    return cam_candidates(flatten(prepared))


def _sample_channels(samples) -> int | None:
    if samples is None:
        return None
    if samples.x is not None:
        return int(samples.x.shape[-1])
    return int(samples.images[0].shape[-1]) if samples.images else None


class UploadedEntry(ModelEntry):
    """A :class:`ModelEntry` for an uploaded model, with its intake settings."""

    def __init__(self, spec, model, meta, x, y, device, *, intake: Intake, images: np.ndarray | None,
                 stored: StoredModel, original_model=None):
        super().__init__(spec, model, meta, x, y, device)
        self.intake = intake
        self.images = images
        self.stored = stored
        self.original_model = original_model

    is_uploaded = True

    @property
    def cam_layer(self) -> str | None:
        return self.intake.cam_layer

    @property
    def unsupported(self) -> tuple[str, ...]:
        return tuple(self.intake.unsupported)

    def fit_image(self, image: np.ndarray):
        """A decoded image in [0, 1] -> model input (size, channels, channel order, scaling), with notes."""
        from xai_core.images import FittedImage, fit_to_model

        fitted = fit_to_model(image, self.input_shape)
        x = preprocess(fitted.x[None], self.intake)[0]
        notes = list(fitted.notes)
        if self.intake.channel_order == "BGR" and self.input_shape[2] == 3:
            notes.append("channels reordered to BGR")
        if self.intake.scaling != "unit":
            notes.append(f"scaled as {self.intake.describe_scaling()}")
        return FittedImage(x, notes, fitted.original_size)

    def to_display(self, x: np.ndarray) -> np.ndarray:
        """Model input(s) -> image(s) in [0, 1] (undoes the scaling and the channel order)."""
        return unpreprocess(x, self.intake)


class UploadedModels:
    """The store's uploads as registry entries, at most ``max_models`` in memory (LRU)."""

    def __init__(self, store: ModelStore, max_models: int = DEFAULT_MAX_MODELS):
        if max_models < 1:
            raise ValueError("max_models must be at least 1")
        self.store = store
        self.max_models = int(max_models)
        self._entries: OrderedDict[str, UploadedEntry] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.RLock()

    @staticmethod
    def owns(name) -> bool:
        return digest_of(name) is not None

    def names(self) -> list[str]:
        return self.store.names()

    def loaded_names(self) -> list[str]:
        """Names in memory, least recently used first."""
        with self._guard:
            return list(self._entries)

    def stored(self, name: str) -> StoredModel:
        return self.store.get(name)

    def spec(self, name: str) -> ModelSpec:
        stored = self.store.get(name)
        return spec_of(stored)

    def meta(self, name: str) -> dict:
        return dict(self.store.get(name).meta)

    def get(self, name: str, device) -> UploadedEntry:
        """The entry of upload ``name``; reloaded when another process changed its settings."""
        version = self.store.get(name).meta.get("updated")  # KeyError if it was deleted
        with self._guard:
            entry = self._entries.get(name)
            if entry is not None and entry.meta.get("updated") != version:
                self._entries.pop(name)
                entry = None
            if entry is not None:
                self._entries.move_to_end(name)
                return entry
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            with self._guard:
                entry = self._entries.get(name)
                if entry is not None:
                    self._entries.move_to_end(name)
                    return entry
            stored = self.store.get(name)  # KeyError if it was deleted
            entry = load_entry(stored, device)
            entry.warm_up()
            with self._guard:
                self._entries[name] = entry
                self._entries.move_to_end(name)
                while len(self._entries) > self.max_models:
                    old, _ = self._entries.popitem(last=False)
                    log.info("evicted uploaded model %s from memory (limit %d)", old, self.max_models)
        return entry

    def forget(self, name: str) -> None:
        """Drop ``name`` from memory (after its settings changed or it was deleted)."""
        with self._guard:
            self._entries.pop(name, None)

    def delete(self, name: str) -> None:
        self.store.delete(name)
        self.forget(name)

    def update_intake(self, name: str, intake: Intake, class_names: list[str] | None = None) -> StoredModel:
        """Save corrected settings (checked by building the model first) and reload on next use."""
        stored = self.store.get(name)
        validate(intake)
        model = load_model_file(stored.model_path, stored.meta.get("original_filename"))
        changes = {"intake": intake.to_dict(), "cam_candidates": _cam_keys(prepare_model(model, intake))}
        if intake.cam_layer and intake.cam_layer not in changes["cam_candidates"]:
            raise IntakeError(f"'{intake.cam_layer}' has no spatial output; choose one of the listed CAM layers")
        names = class_names or stored.meta.get("class_names") or []
        if len(names) != intake.n_classes:
            names = ([f"class {i}" for i in range(intake.n_classes)] if intake.output_kind not in ("sigmoid", "logit1")
                     else ["negative (1 − p)", "positive (p)"])
            changes["class_names_source"] = "reset: the number of classes changed"
        changes["class_names"] = names
        out = self.store.update_meta(name, changes)
        self.forget(name)
        return out


def spec_of(stored: StoredModel) -> ModelSpec:
    meta = stored.meta
    intake = Intake.from_dict(meta["intake"])
    shape = tuple(int(v) for v in intake.input_shape)
    return ModelSpec(
        name=stored.name,
        title=meta.get("title") or stored.name,
        description=f"Uploaded from {meta.get('original_filename', '?')}.",
        dataset=(f"{meta.get('n_samples', 0)} uploaded sample(s)"
                 + (f" from {meta['samples_filename']}" if meta.get("samples_filename") else "")
                 + ("" if meta.get("has_labels") else ", no labels")),
        input_shape=shape,
        value_range=intake.value_range(),
        class_names=tuple(meta.get("class_names") or ()),
        architecture="uploaded",
        builtin=False,
        directory=stored.folder,
    )


def load_entry(stored: StoredModel, device) -> UploadedEntry:
    """Build the entry of an upload from the store (safe load, intake, samples)."""
    model = load_model_file(stored.model_path, stored.meta.get("original_filename"))
    intake = Intake.from_dict(stored.meta["intake"])
    prepared = prepare_model(model, intake)
    spec = spec_of(stored)
    data = load_samples(stored.samples_path)
    images = None
    if "images" in data:
        images = data["images"].astype(np.float32) / 65535.0
        if images.shape[1:] != spec.input_shape:
            images = _fit_all(list(images), spec.input_shape)
        x = preprocess(images, intake)
    else:
        x = np.asarray(data["x"], np.float32)
    y = data.get("y")
    return UploadedEntry(spec, prepared, dict(stored.meta), x, y, device, intake=intake, images=images,
                         stored=stored, original_model=model)


__all__ = ["UploadError", "UploadedEntry", "UploadedModels", "ingest", "load_entry", "name_of", "spec_of"]
