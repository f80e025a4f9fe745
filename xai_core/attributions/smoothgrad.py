"""SmoothGrad, VarGrad and SquareGrad: a noise wrapper around any attribution method.

For ``n`` noisy copies ``x + ε_i`` (``ε_i ~ N(0, (σ · range)²)``) the wrapped
method's maps ``a_i`` are reduced to their mean (SmoothGrad), their variance
(VarGrad) or the mean of their squares (SquareGrad).  All copies of a chunk go
through the wrapped method in one batch; the noise comes from ``seed`` and is
the same for every image.

References:
    Smilkov, D., Thorat, N., Kim, B., Viégas, F. and Wattenberg, M. (2017).
    SmoothGrad: removing noise by adding noise. arXiv:1706.03825.
    Adebayo, J., Gilmer, J., Goodfellow, I. and Kim, B. (2018). Local
    explanation methods for deep neural networks lack sensitivity to parameter
    values. ICLR workshop (VarGrad).
    Hooker, S., Erhan, D., Kindermans, P.-J. and Kim, B. (2019). A benchmark for
    interpretability methods in deep neural networks. NeurIPS (SquareGrad).
"""

from __future__ import annotations

import numpy as np

from .base import Attribution

REDUCTIONS = ("mean", "var", "square")


class NoiseTunnel(Attribution):
    """Average a method's maps over noisy copies of the input.

    Args:
        method: Registry key of the wrapped method (e.g. ``saliency``,
            ``gradient``, ``gradient_input``) or an :class:`Attribution` class.
        reduction: ``mean`` (SmoothGrad), ``var`` (VarGrad) or ``square`` (SquareGrad).
        samples: Number of noisy copies.
        noise: Noise standard deviation as a fraction of the value range.
        method_params: Options for the wrapped method.
    """

    def __init__(self, model, *, method="gradient", reduction: str = "mean", samples: int = 16,
                 noise: float = 0.1, method_params: dict | None = None, **kwargs):
        super().__init__(model, **kwargs)
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
        if int(samples) < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        if isinstance(method, str):
            from .registry import method_class

            method = method_class(method)
        self.inner = method(model, batch_size=self.batch_size, seed=self.seed, value_range=self.value_range,
                            **(method_params or {}))
        self.reduction, self.samples, self.noise = reduction, int(samples), float(noise)
        self.evals_per_image = self.samples * self.inner.evals_per_image

    def noise_draws(self) -> np.ndarray:
        lo, hi = self.value_range
        rng = np.random.default_rng(self.seed)
        return (rng.standard_normal((self.samples, *self.input_shape)) * self.noise * (hi - lo)).astype(np.float32)

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        eps = self.noise_draws()
        noisy = (x[:, None] + eps[None]).reshape(-1, *self.input_shape)
        maps = self.inner.explain(noisy, np.repeat(t, self.samples)).reshape(len(x), self.samples,
                                                                            *self.input_shape)
        maps = maps.astype(np.float64)
        if self.reduction == "mean":
            return maps.mean(axis=1)
        if self.reduction == "var":
            return maps.var(axis=1)
        return (maps ** 2).mean(axis=1)


class SmoothGrad(NoiseTunnel):
    """SmoothGrad: the mean of the wrapped method's maps over noisy copies (Smilkov et al. 2017)."""

    def __init__(self, model, **kwargs):
        super().__init__(model, reduction="mean", **kwargs)


class VarGrad(NoiseTunnel):
    """VarGrad: the variance of the wrapped method's maps over noisy copies (Adebayo et al. 2018)."""

    def __init__(self, model, **kwargs):
        super().__init__(model, reduction="var", **kwargs)


class SquareGrad(NoiseTunnel):
    """SquareGrad: the mean square of the wrapped method's maps over noisy copies (Hooker et al. 2019)."""

    def __init__(self, model, **kwargs):
        super().__init__(model, reduction="square", **kwargs)
