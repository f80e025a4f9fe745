"""Deletion and insertion curves and their areas.

Pixels are ranked by the map (summed over channels, largest first).
*Deletion* removes them in that order (replacing them by the fill) and tracks
the class score: a faithful map makes it fall fast (small area).
*Insertion* starts from the fully removed image and puts pixels back in that
order: a faithful map makes it rise fast (large area).  Every step of a curve
is scored in one batch.

References:
    Petsiuk, V., Das, A. and Saenko, K. (2018). RISE: randomized input sampling
    for explanation of black-box models. BMVC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attributions.occlusion import FILLS, fill_image
from .common import ScoreFn, ranking


@dataclass
class Curve:
    """Fraction of pixels removed (or inserted) and the class score at each step."""

    kind: str
    fractions: np.ndarray
    scores: np.ndarray

    @property
    def auc(self) -> float:
        """Area under the curve (trapezoid rule over fractions in [0, 1])."""
        f, s = self.fractions, self.scores
        return float(np.sum((f[1:] - f[:-1]) * (s[1:] + s[:-1]) / 2.0))


def _curve(kind: str, score_fn: ScoreFn, x: np.ndarray, attribution: np.ndarray, target: int, steps: int,
           fill: str, blur_sigma: float, low) -> Curve:
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    x = np.asarray(x, np.float32)
    h, w, _ = x.shape
    order = ranking(attribution)
    removed = fill_image(x[None], fill, blur_sigma, low)[0]
    counts = np.round(np.linspace(0, h * w, int(steps) + 1)).astype(int)
    masks = np.zeros((len(counts), h * w), np.float32)
    for i, c in enumerate(counts):
        masks[i, order[:c]] = 1.0
    masks = masks.reshape(-1, h, w, 1)
    if kind == "deletion":
        batch = x[None] * (1 - masks) + removed[None] * masks
    else:
        batch = removed[None] * (1 - masks) + x[None] * masks
    scores = np.asarray(score_fn(batch))[:, int(target)]
    return Curve(kind, counts / float(h * w), scores.astype(np.float64))


def deletion_curve(score_fn: ScoreFn, x: np.ndarray, attribution: np.ndarray, target: int, *, steps: int = 20,
                   fill: str = "zero", blur_sigma: float = 2.0, low: float | np.ndarray = 0.0) -> Curve:
    """Score of ``target`` as the most important pixels of ``x`` (H, W, C) are removed.

    Args:
        score_fn: ``images -> scores (N, K)`` (e.g. :func:`.common.scorer`).
        attribution: ``(H, W, C)`` map.
        steps: Number of removal steps (``steps + 1`` points, from none to all).
        fill: ``zero``, ``mean`` (the image's channel means) or ``blur``
            (a Gaussian blur with ``blur_sigma``).
        low: The low end of the model's value range: what ``zero`` (black) fills with.
    """
    return _curve("deletion", score_fn, x, attribution, target, steps, fill, blur_sigma, low)


def insertion_curve(score_fn: ScoreFn, x: np.ndarray, attribution: np.ndarray, target: int, *, steps: int = 20,
                    fill: str = "blur", blur_sigma: float = 2.0, low: float | np.ndarray = 0.0) -> Curve:
    """Score of ``target`` as the most important pixels are put back into the removed image."""
    return _curve("insertion", score_fn, x, attribution, target, steps, fill, blur_sigma, low)
