"""Expected gradients: integrated gradients averaged over baselines drawn from data.

``φ(x) = E_{x' ~ D, α ~ U(0,1)} [(x − x') · ∂f/∂x(x' + α(x − x'))]``, estimated
with ``samples`` draws of a background image and an ``α`` (from ``seed``; the
same draws for every image), all evaluated in one batch.

References:
    Erion, G., Janizek, J. D., Sturmfels, P., Lundberg, S. M. and Lee, S.-I.
    (2021). Improving performance of deep learning models with axiomatic
    attribution priors and expected gradients. Nature Machine Intelligence 3.
    Lundberg, S. M. and Lee, S.-I. (2017). A unified approach to interpreting
    model predictions. NeurIPS (SHAP's GradientExplainer).
"""

from __future__ import annotations

import numpy as np

from .base import Attribution


class ExpectedGradients(Attribution):
    """Expected gradients (Erion et al. 2021).

    Args:
        background: ``(M, H, W, C)`` images the baselines are drawn from (e.g.
            the model's bundled samples); default: black images.
        samples: Number of (baseline, α) draws per image.
    """

    def __init__(self, model, *, background: np.ndarray | None = None, samples: int = 32, **kwargs):
        super().__init__(model, **kwargs)
        if background is None:
            background = np.broadcast_to(np.asarray(self.value_range[0], np.float32), (1, *self.input_shape))
        self.background = np.asarray(background, np.float32).reshape(-1, *self.input_shape)
        self.samples = int(samples)
        if self.samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        rng = np.random.default_rng(self.seed)
        self.indices = rng.integers(len(self.background), size=self.samples)
        self.alphas = rng.uniform(size=self.samples).astype(np.float32)
        self.evals_per_image = self.samples

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        b = self.background[self.indices][None]  # (1, S, H, W, C)
        a = self.alphas[None, :, None, None, None]
        diff = x[:, None] - b  # (N, S, H, W, C)
        points = (b + a * diff).reshape(-1, *self.input_shape)
        grads = self.gradients(points, np.repeat(t, self.samples)).reshape(diff.shape)
        return (diff.astype(np.float64) * grads).mean(axis=1)
