"""Faithfulness correlation (MuFidelity).

For random subsets ``S`` of the image (a fraction of the cells of a coarse
grid), the correlation over subsets between the summed attribution of ``S``
and the score drop when ``S`` is removed: ``corr(Σ_{i∈S} a_i, f(x) − f(x_{S←fill}))``.
1 means the map predicts exactly how much each region matters.

References:
    Bhatt, U., Weller, A. and Moura, J. M. F. (2020). Evaluating and
    aggregating feature-based model explanations. IJCAI.
"""

from __future__ import annotations

import numpy as np

from ..attributions.occlusion import fill_image
from .common import ScoreFn, pixel_importance


def mu_fidelity(score_fn: ScoreFn, x: np.ndarray, attribution: np.ndarray, target: int, *, grid_size: int = 7,
                subset_fraction: float = 0.2, samples: int = 64, fill: str = "zero", seed: int = 0,
                low: float | np.ndarray = 0.0) -> float:
    """Pearson correlation of attribution sums and score drops over random subsets.

    Args:
        grid_size: The image is cut into ``grid_size × grid_size`` cells; subsets are sets of cells.
        subset_fraction: Fraction of the cells removed per subset.
        samples: Number of subsets (all scored in one batch).
        fill: What replaces removed pixels (``zero``, ``mean``, ``blur``).
        seed: Seed of the subsets.
        low: The low end of the model's value range: what ``zero`` (black) fills with.
    """
    x = np.asarray(x, np.float32)
    h, w, _ = x.shape
    rng = np.random.default_rng(seed)
    cells = grid_size * grid_size
    k = max(1, int(round(subset_fraction * cells)))
    rows = np.minimum((np.arange(h) * grid_size) // h, grid_size - 1)
    cols = np.minimum((np.arange(w) * grid_size) // w, grid_size - 1)
    cell_of = rows[:, None] * grid_size + cols[None, :]  # (H, W)
    chosen = np.zeros((samples, cells), bool)
    for i in range(samples):
        chosen[i, rng.choice(cells, size=k, replace=False)] = True
    masks = chosen[:, cell_of].astype(np.float32)  # (S, H, W)
    removed = fill_image(x[None], fill, 2.0, low)[0]
    batch = x[None] * (1 - masks[..., None]) + removed[None] * masks[..., None]
    scores = np.asarray(score_fn(np.concatenate([x[None], batch])))[:, int(target)].astype(np.float64)
    drops = scores[0] - scores[1:]
    sums = (masks * pixel_importance(attribution)[None]).reshape(samples, -1).sum(axis=1)
    if np.std(drops) == 0 or np.std(sums) == 0:
        return 0.0
    return float(np.corrcoef(sums, drops)[0, 1])
