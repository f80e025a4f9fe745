"""The upload store: user models, samples and metadata on disk, shared by server processes.

Layout (``root`` comes from ``--store-dir`` / ``KERNELSCOPE_STORE_DIR``, default
``<user data dir>/kernelscope/models``)::

    root/
      .lock                 # fcntl lock: one writer at a time across processes
      tmp/                  # uploads being written (renamed into place when complete)
      <hash>/               # sha256 of the uploaded content (model, samples, class names), 16 hex digits
        model.keras | model.h5
        samples.npz         # optional: images (uint8, fitted) or x (as uploaded), y
        meta.json           # title, intake settings, class names, notes, upload time

A folder appears only by an atomic ``rename`` of a complete temporary folder,
and ``meta.json`` is replaced atomically (write a temporary file, then
``os.replace``), so a reader in another process never sees half an upload.
File names from the client are never used as paths: every stored file has one
of the fixed names above.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: renames stay atomic, writers are not serialised
    fcntl = None

HASH_CHARS = 16
NAME_PREFIX = "u-"


def default_store_dir() -> Path:
    """``$KERNELSCOPE_STORE_DIR``, else ``$XDG_DATA_HOME/kernelscope/models`` (``~/.local/share/...``)."""
    env = os.environ.get("KERNELSCOPE_STORE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "kernelscope" / "models"


class StoreError(ValueError):
    """A store operation failed; the message is meant for the user."""


@dataclass(frozen=True)
class StoredModel:
    """One upload in the store."""

    name: str  # registry name, "u-<hash>"
    folder: Path
    meta: dict

    @property
    def model_path(self) -> Path:
        return self.folder / self.meta["model_file"]

    @property
    def samples_path(self) -> Path | None:
        p = self.folder / "samples.npz"
        return p if p.exists() else None

    @property
    def title(self) -> str:
        return self.meta.get("title") or self.name


def name_of(digest: str) -> str:
    return NAME_PREFIX + digest


def digest_of(name: str) -> str | None:
    """The folder name of registry name ``name``, or None for a name that is not an upload."""
    if not isinstance(name, str) or not name.startswith(NAME_PREFIX):
        return None
    digest = name[len(NAME_PREFIX):]
    if len(digest) != HASH_CHARS or any(c not in "0123456789abcdef" for c in digest):
        return None
    return digest


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


class ModelStore:
    """Uploaded models on disk (see the module docstring)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_store_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(exist_ok=True)

    @contextlib.contextmanager
    def lock(self):
        """An exclusive lock across threads and processes sharing ``root``."""
        with open(self.root / ".lock", "a+") as f:
            if fcntl is None:
                yield
                return
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def tmp_dir(self) -> Path:
        """A fresh private folder under ``root/tmp`` (the caller removes it, or :meth:`add` moves it)."""
        return Path(tempfile.mkdtemp(prefix="upload-", dir=self.root / "tmp"))

    # -- reading -----------------------------------------------------------------
    def names(self) -> list[str]:
        """Registry names of the complete uploads, oldest first."""
        return [m.name for m in self.list()]

    def list(self) -> list[StoredModel]:
        out = []
        for folder in self.root.iterdir():
            if folder.name in ("tmp",) or not folder.is_dir() or digest_of(name_of(folder.name)) is None:
                continue
            try:
                out.append(self._read(folder))
            except (OSError, ValueError):
                continue  # being deleted right now, or not ours
        return sorted(out, key=lambda m: (m.meta.get("created", 0), m.name))

    def _read(self, folder: Path) -> StoredModel:
        meta = json.loads((folder / "meta.json").read_text())
        return StoredModel(name_of(folder.name), folder, meta)

    def __contains__(self, name: str) -> bool:
        digest = digest_of(name)
        return digest is not None and (self.root / digest / "meta.json").exists()

    def get(self, name: str) -> StoredModel:
        digest = digest_of(name)
        if digest is None or not (self.root / digest / "meta.json").exists():
            raise KeyError(f"no uploaded model {name!r} in the store (it may have been deleted)")
        return self._read(self.root / digest)

    # -- writing -----------------------------------------------------------------
    @staticmethod
    def content_hash(*parts: bytes | None) -> str:
        h = hashlib.sha256()
        for part in parts:
            data = part or b""
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
        return h.hexdigest()[:HASH_CHARS]

    def add(self, digest: str, staging: Path, meta: dict) -> StoredModel:
        """Move a complete staging folder (from :meth:`tmp_dir`) into place as ``digest``.

        The staging folder must hold the model file named in ``meta['model_file']``
        and optionally ``samples.npz``.  If the same content is already stored,
        the staging folder is discarded and the existing upload returned.
        """
        if digest_of(name_of(digest)) is None:
            raise StoreError(f"bad content hash {digest!r}")
        staging = Path(staging)
        if staging.parent != self.root / "tmp":
            raise StoreError("staging folder must come from ModelStore.tmp_dir()")
        meta = {**meta, "created": meta.get("created", time.time()), "sha256": digest}
        _write_json(staging / "meta.json", meta)
        target = self.root / digest
        with self.lock():
            if (target / "meta.json").exists():
                shutil.rmtree(staging, ignore_errors=True)
                return self._read(target)
            if target.exists():  # a half-deleted folder left by a crash
                shutil.rmtree(target, ignore_errors=True)
            os.rename(staging, target)
        return self._read(target)

    def update_meta(self, name: str, changes: dict) -> StoredModel:
        """Merge ``changes`` into an upload's metadata (atomic replace under the lock)."""
        with self.lock():
            stored = self.get(name)
            meta = {**stored.meta, **changes, "updated": time.time()}
            _write_json(stored.folder / "meta.json", meta)
        return self.get(name)

    def delete(self, name: str) -> None:
        """Remove an upload (first renamed away, so no reader sees a partial folder)."""
        with self.lock():
            stored = self.get(name)
            trash = self.root / "tmp" / f"deleted-{stored.folder.name}-{uuid.uuid4().hex[:8]}"
            os.rename(stored.folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def cleanup(self, older_than_s: float = 3600) -> None:
        """Remove staging folders abandoned by crashed uploads."""
        now = time.time()
        for p in (self.root / "tmp").iterdir():
            with contextlib.suppress(OSError):
                if now - p.stat().st_mtime > older_than_s:
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()


def save_samples(path: Path, *, images: np.ndarray | None = None, x: np.ndarray | None = None,
                 y: np.ndarray | None = None) -> None:
    """Write samples as a plain ``.npz`` (no object arrays)."""
    arrays = {}
    if images is not None:
        arrays["images"] = np.asarray(images)
    if x is not None:
        arrays["x"] = np.asarray(x, np.float32)
    if y is not None:
        arrays["y"] = np.asarray(y, np.int64)
    np.savez(path, **arrays)


def load_samples(path: Path | None) -> dict:
    if path is None:
        return {}
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
