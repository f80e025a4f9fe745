"""The shared model registry: one per server process.

``names()`` and ``spec(name)`` read static specs only and never import
TensorFlow.  ``get(name)`` loads the model once (a lock per name, checked twice
so concurrent callbacks on different threads get the same object), warms it
up, and returns a :class:`ModelEntry` holding the Keras model, its metadata,
the bundled sample images, and lazily built, cached derived pieces: the
flattened layer graph, sub-models up to any layer, the logits model and
compiled ``tf.function``s.

Computation is placed on the device chosen at start-up: ``"auto"`` (the first
GPU TensorFlow sees, else the CPU), ``"cpu"`` or ``"gpu:N"``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .specs import BUILTIN_SPECS, ModelSpec

log = logging.getLogger(__name__)


class UnknownModel(KeyError):
    """Raised by :meth:`ModelRegistry.get` for a name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


@dataclass(frozen=True)
class DeviceInfo:
    """Where the registry runs computation."""

    name: str  # TensorFlow device string, e.g. "/GPU:0" or "/CPU:0"
    kind: str  # "GPU" or "CPU"
    label: str  # human-readable, e.g. "GPU 0: NVIDIA H100" or "CPU (2 cores)"


def resolve_device(request: str = "auto") -> DeviceInfo:
    """Pick the device for ``request`` (``auto``, ``cpu`` or ``gpu:N``)."""
    import tensorflow as tf

    request = (request or "auto").strip().lower()
    gpus = tf.config.list_physical_devices("GPU")
    cpu = DeviceInfo("/CPU:0", "CPU", f"CPU ({os.cpu_count()} cores)")
    if request == "cpu":
        return cpu
    if request == "auto":
        index = 0
    elif request.startswith("gpu"):
        try:
            index = int(request.split(":", 1)[1]) if ":" in request else 0
        except ValueError:
            raise ValueError(f"device must be auto, cpu or gpu:N, got {request!r}") from None
        if index >= len(gpus):
            raise ValueError(f"device {request!r} requested but TensorFlow sees {len(gpus)} GPU(s)")
    else:
        raise ValueError(f"device must be auto, cpu or gpu:N, got {request!r}")
    if not gpus:
        return cpu
    details = tf.config.experimental.get_device_details(gpus[index]) or {}
    label = f"GPU {index}: {details.get('device_name', gpus[index].name)}"
    return DeviceInfo(f"/GPU:{index}", "GPU", label)


class ModelEntry:
    """A loaded model with its metadata, samples and cached derived pieces.

    Treat it as read-only.  Derived pieces are built on first use under the
    entry's lock and cached for the life of the process.
    """

    def __init__(self, spec: ModelSpec, model, meta: dict, x: np.ndarray, y: np.ndarray,
                 device: DeviceInfo):
        self.spec = spec
        self.model = model
        self.meta = meta
        self.x = x
        self.y = y
        self.device = device
        self._lock = threading.RLock()
        self._cache: dict[Any, Any] = {}

    # -- identity and metadata -------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.class_names

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.spec.input_shape

    @property
    def n_samples(self) -> int:
        return int(len(self.x))

    def sample(self, index: int) -> tuple[np.ndarray, int | None]:
        """Bundled sample ``index`` as ``(image (H, W, C) float32, label)``.

        Raises:
            IndexError: with the valid range, for an index out of range.
        """
        n = self.n_samples
        if not isinstance(index, (int, np.integer)) or not 0 <= index < n:
            raise IndexError(f"image index must be an integer in 0..{n - 1}, got {index!r}")
        label = None if self.y is None else int(self.y[index])
        return self.x[index], label

    # -- cached derived pieces ---------------------------------------------------
    def cached(self, key, factory: Callable[[], Any]):
        """Return ``factory()`` built once per key for this entry (thread-safe)."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._cache:
                self._cache[key] = factory()
            return self._cache[key]

    @property
    def graph(self):
        """The model flattened to its leaf layers (:class:`xai_core.graph.FlatGraph`)."""
        from xai_core.graph import flatten

        return self.cached("graph", lambda: flatten(self.model))

    @property
    def conv_layers(self) -> list:
        """2-D convolution layers (Conv2D, DepthwiseConv2D, SeparableConv2D), in order."""
        return self.cached("conv_layers", lambda: self.graph.conv_nodes())

    def layer_output_model(self, key: str):
        """Keras model from the input to the output of layer ``key``."""
        return self.cached(("out", key), lambda: self.graph.submodel(key))

    def layer_input_model(self, key: str):
        """Keras model from the input to the input of layer ``key``."""
        return self.cached(("in", key), lambda: self.graph.submodel(key, layer_inputs=True))

    @property
    def head(self):
        """How the output is produced (:class:`xai_core.heads.Head`)."""
        from xai_core.heads import detect_head

        return self.cached("head", lambda: detect_head(self.graph))

    @property
    def logits_model(self):
        """The model without its final softmax/sigmoid (the model itself if it has none)."""
        from xai_core.heads import logits_model

        return self.cached("logits_model", lambda: logits_model(self.graph, self.head))

    def score_model(self, softmax: bool = True):
        """The model whose output is differentiated: probabilities (``softmax=True``) or logits."""
        return self.model if softmax else self.logits_model

    def gradients(self, x: np.ndarray, targets, softmax: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Scores of all classes and ``d score[target] / d x`` for a batch.

        One compiled function per (model, softmax on/off), traced once with a
        ``None`` batch dimension.

        Args:
            x: ``(N, H, W, C)`` float32.
            targets: ``(N,)`` class indices (or one int for every image).
            softmax: Differentiate the probability (True) or the logit (False).

        Returns:
            ``(scores (N, K), grads (N, H, W, C))``; scores are probabilities or
            logits to match ``softmax``.
        """
        import tensorflow as tf

        x = np.asarray(x, np.float32)
        targets = np.broadcast_to(np.asarray(targets, np.int32), (len(x),))
        model = self.score_model(softmax)

        from xai_core.heads import class_gradient

        sig = [tf.TensorSpec((None, *self.input_shape), tf.float32), tf.TensorSpec((None,), tf.int32)]
        fn = self.compiled(("gradients", bool(softmax)), lambda: class_gradient(model), signature=sig)
        scores, grads = fn(tf.convert_to_tensor(x), tf.convert_to_tensor(targets))
        return scores.numpy(), grads.numpy()

    def compiled(self, key, build: Callable[[], Callable], signature: list | None = None):
        """A compiled ``tf.function`` cached under ``key``.

        ``build`` returns a Python function that closes over whatever sub-model
        it needs; its first argument is a float32 batch ``(N, H, W, C)``.  The
        registry wraps it in ``tf.function(reduce_retracing=True)`` with
        ``signature`` (default: that batch, with a ``None`` batch dimension) and
        places it on the registry's device.  The model is never a traced
        argument, so nothing retraces when another model is used.
        """
        import tensorflow as tf

        def factory():
            fn = build()
            sig = signature or [tf.TensorSpec((None, *self.input_shape), tf.float32)]
            device = self.device.name

            def placed(*args):
                with tf.device(device):
                    return fn(*args)

            return tf.function(placed, input_signature=sig, reduce_retracing=True)

        return self.cached(("fn", key), factory)

    def run(self, key, build: Callable[[], Callable], x: np.ndarray):
        """Call the compiled function ``key`` on ``x`` and return numpy arrays."""
        import tensorflow as tf

        fn = self.compiled(key, build)
        out = fn(tf.convert_to_tensor(np.asarray(x, np.float32)))
        return tf.nest.map_structure(lambda t: t.numpy(), out)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Model outputs for a batch ``(N, H, W, C)`` (or one image ``(H, W, C)``)."""
        x = np.asarray(x, np.float32)
        single = x.ndim == 3
        out = self.run("predict", lambda: lambda t: self.model(t, training=False),
                       x[None] if single else x)
        return out[0] if single else out

    def layer_activation(self, key: str, x: np.ndarray, *, layer_input: bool = False) -> np.ndarray:
        """The input (or output) tensor of layer ``key`` for a batch ``x``."""
        model = self.layer_input_model(key) if layer_input else self.layer_output_model(key)
        return self.run(("in" if layer_input else "out", key),
                        lambda: lambda t: model(t, training=False), x)

    def warm_up(self) -> None:
        """Trace the forward pass and the gradients once so the first user request is fast."""
        self.predict(self.x[:1])
        self.gradients(self.x[:1], 0, softmax=True)


    # -- what every page needs, for built-in and uploaded models alike ----------------
    is_uploaded = False
    intake = None

    @property
    def unsupported(self) -> tuple[str, ...]:
        """Sentences about parts of the model KernelScope does not explain (empty for built-ins)."""
        return ()

    @property
    def cam_layer(self) -> str | None:
        """Key of the layer CAM methods use: the last layer with a spatial feature map."""
        from .intake import cam_candidates

        return self.cached("cam_layer", lambda: (cam_candidates(self.graph) or [None])[-1])

    def fit_image(self, image: np.ndarray):
        """A decoded image in [0, 1] (any size, 1 or 3 channels) -> this model's input.

        Returns :class:`xai_core.images.FittedImage` (``x`` in the model's input
        space, ``notes`` saying what was changed).  Uploaded models also apply
        their channel order and scaling.
        """
        from xai_core.images import fit_to_model

        return fit_to_model(image, self.input_shape, self.spec.value_range, self.spec.image_padding)

    def to_display(self, x: np.ndarray) -> np.ndarray:
        """Model input(s) ``(..., H, W, C)`` -> image(s) in [0, 1] for display (inverse of the scaling)."""
        lo, hi = self.spec.value_range
        return np.clip((np.asarray(x, np.float32) - lo) / ((hi - lo) or 1.0), 0.0, 1.0)


class ModelRegistry:
    """Loads models on demand, once per process, and hands out :class:`ModelEntry` objects."""

    def __init__(self, specs: dict[str, ModelSpec] | None = None, device: str = "auto"):
        self._specs = dict(BUILTIN_SPECS if specs is None else specs)
        self._device_request = device
        self._device: DeviceInfo | None = None
        self._entries: dict[str, ModelEntry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._uploads = None

    def names(self) -> list[str]:
        """Registered model names (no TensorFlow import): built-ins, then uploads if a store is attached."""
        return list(self._specs) + (self._uploads.names() if self._uploads is not None else [])

    def spec(self, name: str) -> ModelSpec:
        if self._uploads is not None and self._uploads.owns(name) and name in self._uploads.store:
            return self._uploads.spec(name)
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownModel(
                f"unknown model {name!r}; valid names are: {', '.join(self.names())}"
            ) from None

    def meta(self, name: str) -> dict:
        """The model's ``meta.json`` (test accuracy, ...) without loading the model."""
        if self._uploads is not None and self._uploads.owns(name) and name in self._uploads.store:
            return self._uploads.meta(name)
        path = self.spec(name).meta_path
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def device(self) -> DeviceInfo:
        if self._device is None:
            with self._guard:
                if self._device is None:
                    self._device = resolve_device(self._device_request)
        return self._device

    def is_loaded(self, name: str) -> bool:
        if self._uploads is not None and self._uploads.owns(name):
            return name in self._uploads.loaded_names()
        return name in self._entries

    def get(self, name: str) -> ModelEntry:
        """The loaded entry for ``name`` (loads and warms it on first use)."""
        if self._uploads is not None and self._uploads.owns(name):
            self.spec(name)  # UnknownModel for a deleted upload
            return self._uploads.get(name, self.device)
        entry = self._entries.get(name)
        if entry is not None:
            return entry
        spec = self.spec(name)
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            entry = self._entries.get(name)
            if entry is None:
                entry = self._load(spec)
                entry.warm_up()
                self._entries[name] = entry
        return entry

    def _load(self, spec: ModelSpec) -> ModelEntry:
        import keras

        if not spec.weights_path.exists():
            raise FileNotFoundError(
                f"weights for {spec.name!r} are missing ({spec.weights_path}); "
                f"train them with: {spec.train_command}"
            )
        log.info("loading model %s from %s", spec.name, spec.weights_path)
        model = keras.saving.load_model(spec.weights_path, compile=False, safe_mode=True)
        with np.load(spec.samples_path, allow_pickle=False) as data:
            x = np.asarray(data["x"], np.float32)
            y = np.asarray(data["y"], np.int64) if "y" in data else None
        return ModelEntry(spec, model, self.meta(spec.name), x, y, self.device)

    def preload(self, names: list[str] | None = None) -> None:
        """Load and warm up every (or the given) model now."""
        for name in names or self.names():
            self.get(name)

    # -- uploaded models (see models.uploads) -------------------------------------------
    def attach_uploads(self, uploads) -> None:
        """Serve the uploads of a :class:`models.uploads.UploadedModels` next to the built-ins."""
        with self._guard:
            self._uploads = uploads

    @property
    def uploads(self):
        """The attached :class:`models.uploads.UploadedModels` (None when no store is attached)."""
        return self._uploads

    def is_uploaded(self, name: str) -> bool:
        return self._uploads is not None and self._uploads.owns(name) and name in self._uploads.store


_default: ModelRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> ModelRegistry:
    """The process-wide registry (created on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ModelRegistry(device=os.environ.get("KERNELSCOPE_DEVICE", "auto"))
    return _default


def configure(device: str = "auto") -> ModelRegistry:
    """Replace the process-wide registry (used by ``run.py`` and the tests)."""
    global _default
    with _default_lock:
        _default = ModelRegistry(device=device)
    return _default
