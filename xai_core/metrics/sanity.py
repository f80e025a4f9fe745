"""Sanity checks: does the map change when the model (or its training labels) is randomised?

* Cascading model-parameter randomisation: starting from the output layer,
  the trainable weights of one more layer at a time are replaced by Gaussian
  noise with the same standard deviation (moving statistics are kept), and the
  map is recomputed on the randomised copy.
* Label randomisation: a fresh copy of the architecture is trained on the
  given images with shuffled labels, and the map is recomputed on it.

Similarity between the original and the randomised map is the Spearman rank
correlation and the SSIM of their absolute values (summed over channels,
scaled to [0, 1]).  A map that hardly changes (an edge detector on the input
does not change at all) *fails*: it does not depend on what the model learned.

References:
    Adebayo, J., Gilmer, J., Muelly, M., Goodfellow, I., Hardt, M. and Kim, B.
    (2018). Sanity checks for saliency maps. NeurIPS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ExplainFn = Callable[[object], np.ndarray]  # model -> (H, W, C) map


@dataclass
class RandomisationStep:
    """Similarity of the map after randomising up to (and including) ``layer``."""

    layer: str
    spearman: float
    ssim: float


def _normalised(a: np.ndarray) -> np.ndarray:
    a = np.abs(np.asarray(a, np.float64))
    a = a.sum(axis=-1) if a.ndim == 3 else a
    top = a.max()
    return a / top if top > 0 else a


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``(Spearman, SSIM)`` of ``|a|`` and ``|b|`` (summed over channels, scaled to [0, 1])."""
    from scipy.stats import spearmanr
    from skimage.metrics import structural_similarity

    na, nb = _normalised(a), _normalised(b)
    if np.ptp(na) == 0 or np.ptp(nb) == 0:
        rho = 1.0 if np.array_equal(na, nb) else 0.0
    else:
        rho = float(spearmanr(na.ravel(), nb.ravel()).statistic)
    win = min(7, *na.shape) | 1
    ssim = float(structural_similarity(na, nb, data_range=1.0, win_size=win if win <= min(na.shape) else 3))
    return rho, ssim


def passed(steps: list[RandomisationStep], threshold: float = 0.5) -> bool:
    """The check passes when the fully randomised map's Spearman correlation is below ``threshold``."""
    return bool(steps) and steps[-1].spearman < threshold


def _copy(model):
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def cascading_randomisation(model, explain: ExplainFn, *, seed: int = 0, progress=None) -> list[RandomisationStep]:
    """Randomise layers from the top down, one more each step, and compare the maps.

    Args:
        model: The trained Keras model (left untouched; a copy is randomised).
        explain: ``model -> (H, W, C)`` map, e.g.
            ``lambda m: make("gradient", m).explain(x, t)[0]``.
        seed: Seed of the random weights.
        progress: Called with the fraction done after each layer.
    """
    rng = np.random.default_rng(seed)
    original = explain(model)
    copy = _copy(model)
    layers = [layer for layer in copy.layers if layer.trainable_weights][::-1]
    steps = []
    for i, layer in enumerate(layers):
        for var in layer.trainable_weights:
            value = var.numpy()
            scale = float(value.std()) or 0.05
            var.assign(rng.normal(0.0, scale, size=value.shape).astype(value.dtype))
        steps.append(RandomisationStep(layer.name, *similarity(original, explain(copy))))
        if progress is not None:
            progress((i + 1) / len(layers))
    return steps


def label_randomisation(model, x: np.ndarray, y: np.ndarray, explain: ExplainFn, *, epochs: int = 20,
                        seed: int = 0) -> RandomisationStep:
    """Train a fresh copy on ``(x, shuffled y)`` and compare its map with the original model's."""
    import keras

    keras.utils.set_random_seed(seed)
    fresh = keras.models.clone_model(model)
    fresh.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    labels = np.random.default_rng(seed).permutation(np.asarray(y))
    fresh.fit(np.asarray(x, np.float32), labels, epochs=epochs, batch_size=32, verbose=0)
    return RandomisationStep("labels", *similarity(explain(model), explain(fresh)))
