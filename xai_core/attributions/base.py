"""The contract every attribution method follows, and the compiled pieces they share.

A method is a class configured once with a model (and its options) and called
many times::

    explainer = IntegratedGradients(model, steps=32)
    maps = explainer.explain(images, targets)   # (N, H, W, C) float32, raw

* ``model`` is a Keras model whose output ``(N, K)`` is the score being
  explained: class probabilities, or logits (pass ``entry.logits_model``).
* ``images``: ``(N, H, W, C)`` (or one ``(H, W, C)`` image) in the model's input
  range; ``targets``: class indices ``(N,)``, one int for all, or ``None`` for
  the predicted class.
* The result is raw and un-normalised; scaling belongs to the figures.
* Results do not depend on the batch size: ``batch_size`` only bounds how many
  model evaluations run at once, and random draws (noise, backgrounds) come
  from ``seed`` alone, the same for every image.

Compiled ``tf.function``s close over the model (never a traced argument) and are
cached per model object in a weak dictionary, so a second explainer on the same
model reuses them and a dropped model releases them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import numpy as np

ProgressFn = Callable[[float], None]

_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()


def cached_for(model, key, factory: Callable[[], object]):
    """``factory()`` built once per ``(model, key)`` (thread-safe, released with the model)."""
    with _LOCK:
        per_model = _FUNCTIONS.get(model)
        if per_model is None:
            per_model = _FUNCTIONS[model] = {}
        if key not in per_model:
            per_model[key] = factory()
        return per_model[key]


def input_shape_of(model) -> tuple[int, int, int]:
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(s is None for s in shape):
        raise ValueError(f"expected a model with one (H, W, C) image input, got input shape {shape}")
    return tuple(int(s) for s in shape)


def _signature(model, *extra):
    import tensorflow as tf

    return [tf.TensorSpec((None, *input_shape_of(model)), tf.float32), *extra]


def predict_fn(model):
    """Compiled ``x -> scores (N, K)`` for ``model``."""
    import tensorflow as tf

    def build():
        return tf.function(lambda x: model(x, training=False), input_signature=_signature(model),
                           reduce_retracing=True)

    return cached_for(model, "predict", build)


def gradient_fn(model):
    """Compiled ``(x, targets) -> (scores (N, K), d score[target] / dx (N, H, W, C))``."""
    import tensorflow as tf

    from ..heads import class_gradient

    def build():
        return tf.function(class_gradient(model),
                           input_signature=_signature(model, tf.TensorSpec((None,), tf.int32)),
                           reduce_retracing=True)

    return cached_for(model, "gradient", build)


def chunked(fn: Callable, arrays: tuple[np.ndarray, ...], size: int) -> list[np.ndarray]:
    """Call ``fn(*chunk)`` on chunks of at most ``size`` rows and concatenate each output."""
    import tensorflow as tf

    n = len(arrays[0])
    outs: list[list[np.ndarray]] = []
    for start in range(0, n, max(1, size)):
        res = fn(*(tf.convert_to_tensor(a[start:start + size]) for a in arrays))
        res = res if isinstance(res, (tuple, list)) else (res,)
        if not outs:
            outs = [[] for _ in res]
        for acc, r in zip(outs, res):
            acc.append(r.numpy())
    return [np.concatenate(acc) for acc in outs]


def broadcast_targets(targets, n: int, scores: Callable[[], np.ndarray]) -> np.ndarray:
    """Targets as ``(n,)`` int32; ``None`` means each image's predicted class."""
    if targets is None:
        return np.argmax(scores(), axis=1).astype(np.int32)
    t = np.asarray(targets)
    if t.ndim == 0:
        t = np.full(n, int(t))
    if t.shape != (n,):
        raise ValueError(f"expected {n} targets, got shape {t.shape}")
    return t.astype(np.int32)


def _bound(value, channels: int):
    """A float, or a float32 ``(channels,)`` array for a per-channel bound."""
    a = np.asarray(value, np.float32)
    if a.ndim == 0:
        return float(a)
    if a.shape != (channels,):
        raise ValueError(f"a per-channel value range needs {channels} values, got shape {a.shape}")
    return a


class Attribution:
    """Base class: validates the inputs, splits them into chunks, calls :meth:`_explain`.

    Args:
        model: Keras model ``(N, H, W, C) -> (N, K)`` scores.
        batch_size: The most model evaluations run at once (bounds memory; the
            result does not depend on it).
        seed: Seed of every random draw (noise, baselines, subsets).
        value_range: ``(low, high)`` of the model's inputs: numbers, or one value per
            channel (standardised inputs: black is ``−mean_c / std_c`` in channel ``c``).
    """

    #: Evaluations of the model one image costs (for chunking); methods override.
    evals_per_image = 1

    def __init__(self, model, *, batch_size: int = 128, seed: int = 0,
                 value_range: tuple[float, float] = (0.0, 1.0)):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.input_shape = input_shape_of(model)
        self.value_range = (_bound(value_range[0], self.input_shape[2]), _bound(value_range[1], self.input_shape[2]))

    # -- shared compiled pieces -------------------------------------------------------
    def scores(self, x: np.ndarray) -> np.ndarray:
        """Model scores ``(N, K)`` of a batch, in chunks of ``batch_size``."""
        return chunked(predict_fn(self.model), (np.asarray(x, np.float32),), self.batch_size)[0]

    def gradients(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """``d score[t] / dx`` of a batch, in chunks of ``batch_size``."""
        return chunked(gradient_fn(self.model), (np.asarray(x, np.float32), np.asarray(t, np.int32)),
                       self.batch_size)[1]

    # -- the public verb ----------------------------------------------------------------
    def explain(self, images, targets=None, *, progress: ProgressFn | None = None) -> np.ndarray:
        """Attributions ``(N, H, W, C)`` float32 of ``images`` for ``targets``.

        Args:
            images: ``(N, H, W, C)`` or ``(H, W, C)``.
            targets: Class indices ``(N,)``, one int, or ``None`` (predicted class).
            progress: Called with the fraction done after each chunk of images
                (a background job may raise from it to cancel).
        """
        x = np.asarray(images, np.float32)
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"expected images shaped (N, {', '.join(map(str, self.input_shape))}), "
                             f"got {tuple(np.shape(images))}")
        t = broadcast_targets(targets, len(x), lambda: self.scores(x))
        per_chunk = max(1, self.batch_size // max(1, self.evals_per_image))
        out = []
        for start in range(0, len(x), per_chunk):
            out.append(np.asarray(self._explain(x[start:start + per_chunk], t[start:start + per_chunk]),
                                  np.float32))
            if progress is not None:
                progress(min(1.0, (start + per_chunk) / len(x)))
        return np.concatenate(out).reshape(x.shape).astype(np.float32)

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def pixel_map(a: np.ndarray, channels: int) -> np.ndarray:
    """Repeat a per-pixel map ``(N, H, W)`` over ``channels``: ``(N, H, W, C)``."""
    return np.repeat(np.asarray(a, np.float32)[..., None], channels, axis=-1)
