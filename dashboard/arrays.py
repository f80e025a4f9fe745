"""Server-side store for arrays the browser must not carry (uploaded images).

``dcc.Store`` holds only the key, a SHA-256 of the array's bytes; the array
lives in a size-bounded diskcache under the cache directory, so every server
process (and thread) on the machine sees it.  Arrays are stored as ``.npy``
bytes and read back with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np


class ArrayStore:
    """Content-addressed, size-bounded store of numpy arrays."""

    def __init__(self, directory: Path, size_limit: int = 512 * 1024 * 1024):
        import diskcache

        Path(directory).mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(str(directory), size_limit=size_limit, eviction_policy="least-recently-used")

    @staticmethod
    def key_of(array: np.ndarray) -> str:
        a = np.ascontiguousarray(array)
        h = hashlib.sha256()
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
        return h.hexdigest()

    def put(self, array: np.ndarray) -> str:
        key = self.key_of(array)
        if key not in self._cache:
            buf = io.BytesIO()
            np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
            self._cache.set(key, buf.getvalue())
        return key

    def get(self, key: str) -> np.ndarray:
        """The array stored under ``key``; ``KeyError`` if it was never stored or was evicted."""
        data = self._cache.get(key) if isinstance(key, str) else None
        if data is None:
            raise KeyError(f"no stored array {key!r} (it may have been evicted; upload the image again)")
        return np.load(io.BytesIO(data), allow_pickle=False)

    def __contains__(self, key: str) -> bool:
        return key in self._cache
