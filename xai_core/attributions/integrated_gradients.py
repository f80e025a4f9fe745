"""Integrated Gradients: ``(x − x') · ∫₀¹ ∂f/∂x(x' + α(x − x')) dα``.

The integral is a quadrature over ``steps`` points, computed in one compiled
call per chunk: the interpolated images are built on the device, one tape
takes all their gradients and the weighted sum happens there too.

When the model starts with a linear convolution stack ``g`` (``y = h(g(x))``,
see :mod:`xai_core.linear_stack`) the path is straight in ``g``'s output too,
``g(x' + α(x − x')) = g(x') + α(g(x) − g(x'))``, and ``∂y/∂x = gᵀ ∂h/∂z``.  So
``g`` runs forward twice, ``h`` is differentiated at every step, the weighted
sum of ``∂h/∂z`` goes back through ``gᵀ`` once: the same number, exactly, at a
fraction of the cost.

References:
    Sundararajan, M., Taly, A. and Yan, Q. (2017). Axiomatic attribution for
    deep networks. ICML.
"""

from __future__ import annotations

import numpy as np

from ..filters import root_point
from .base import Attribution, cached_for, input_shape_of

BASELINES = ("black", "root", "noise")
RULES = ("trapezoid", "gauss-legendre")


def quadrature(steps: int, rule: str = "trapezoid") -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``α`` in [0, 1] and weights (summing to 1) of the rule.

    ``trapezoid`` uses ``steps + 1`` equally spaced nodes (``steps`` intervals);
    ``gauss-legendre`` uses ``steps`` Gauss–Legendre nodes.
    """
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if rule == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps + 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] *= 0.5
    elif rule == "gauss-legendre":
        u, w = np.polynomial.legendre.leggauss(steps)
        alphas, weights = (u + 1.0) / 2.0, w / 2.0
    else:
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
    return alphas.astype(np.float32), weights.astype(np.float32)


def linear_split(model):
    """``(g, h)`` if ``model`` starts with a linear convolution stack, else ``None`` (cached)."""
    def build():
        from ..graph import flatten
        from ..linear_stack import NotALinearStack, split_linear_stack

        try:
            split = split_linear_stack(flatten(model))
        except (NotALinearStack, ValueError):
            return None
        return split.g, split.h

    return cached_for(model, "linear_split", build)


def _path_gradient_fn(model, linear: bool):
    """Compiled ``(x, x', t, α, w) -> Σ_k w_k ∂f_t/∂x(x' + α_k (x − x'))`` (N, H, W, C)."""
    import tensorflow as tf

    shape = input_shape_of(model)
    img = tf.TensorSpec((None, *shape), tf.float32)
    vec = tf.TensorSpec((None,), tf.float32)
    sig = [img, img, tf.TensorSpec((None,), tf.int32), vec, vec]

    def build():
        split = linear_split(model) if linear else None

        def generic(x, b, t, alphas, weights):
            n, s = tf.shape(x)[0], tf.shape(alphas)[0]
            a = tf.reshape(alphas, (-1, 1, 1, 1, 1))
            path = tf.reshape(b[None] + a * (x - b)[None], (-1, *shape))  # (S*N, H, W, C), step-major
            tt = tf.tile(t, [s])
            with tf.GradientTape() as tape:
                tape.watch(path)
                scores = model(path, training=False)
                picked = tf.gather(scores, tt, axis=1, batch_dims=1)
            grads = tf.reshape(tape.gradient(picked, path), (s, n, *shape))
            return tf.tensordot(weights, grads, axes=1)

        def fused(x, b, t, alphas, weights):
            g, h = split
            n, s = tf.shape(x)[0], tf.shape(alphas)[0]
            with tf.GradientTape() as gtape:
                gtape.watch(x)
                zx = g(x, training=False)
            zb = g(b, training=False)
            zshape = tf.shape(zx)[1:]
            a = tf.reshape(alphas, (-1, 1, 1, 1, 1))
            z = tf.reshape(zb[None] + a * (zx - zb)[None], tf.concat([[-1], zshape], 0))
            tt = tf.tile(t, [s])
            with tf.GradientTape() as tape:
                tape.watch(z)
                scores = h(z, training=False)
                picked = tf.gather(scores, tt, axis=1, batch_dims=1)
            dz = tf.reshape(tape.gradient(picked, z), tf.concat([[s, n], zshape], 0))
            v = tf.tensordot(weights, dz, axes=1)
            return gtape.gradient(zx, x, output_gradients=v)

        return tf.function(fused if split is not None else generic, input_signature=sig, reduce_retracing=True)

    return cached_for(model, ("path_gradient", linear), build)


class IntegratedGradients(Attribution):
    """Integrated Gradients (Sundararajan et al. 2017).

    Args:
        steps: Quadrature steps (intervals for ``trapezoid``, nodes for
            ``gauss-legendre``).
        baseline: ``black`` (all zeros, i.e. the low end of the value range),
            ``root`` (the Gaussian-blurred root point of the Taylor method, with
            ``sigma``) or ``noise`` (uniform noise over the value range, drawn
            from ``seed``).
        rule: ``trapezoid`` or ``gauss-legendre``.
        sigma: Blur of the ``root`` baseline.
        fuse_linear: Use the linear-stack shortcut when the model allows it.
    """

    def __init__(self, model, *, steps: int = 32, baseline: str = "black", rule: str = "trapezoid",
                 sigma: float = 2.0, fuse_linear: bool = True, **kwargs):
        super().__init__(model, **kwargs)
        if baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
        self.alphas, self.weights = quadrature(steps, rule)
        self.steps, self.rule, self.baseline_kind, self.sigma = int(steps), rule, baseline, float(sigma)
        self.fuse_linear = bool(fuse_linear) and linear_split(model) is not None
        self.evals_per_image = len(self.alphas)

    def baseline(self, x: np.ndarray) -> np.ndarray:
        """The baseline ``x'`` of each image."""
        lo, hi = self.value_range
        if self.baseline_kind == "black":
            return np.broadcast_to(np.asarray(lo, np.float32), x.shape).copy()
        if self.baseline_kind == "root":
            return root_point(x, "gaussian", self.sigma)
        noise = np.random.default_rng(self.seed).uniform(lo, hi, size=x.shape[1:]).astype(np.float32)
        return np.broadcast_to(noise, x.shape).copy()

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        b = self.baseline(x)
        fn = _path_gradient_fn(self.model, self.fuse_linear)
        # steps per call so that images x steps stays within batch_size
        per_call = max(1, self.batch_size // len(x))
        total = np.zeros_like(x)
        xs, bs, ts = tf.convert_to_tensor(x), tf.convert_to_tensor(b), tf.convert_to_tensor(t)
        for start in range(0, len(self.alphas), per_call):
            total += fn(xs, bs, ts, tf.convert_to_tensor(self.alphas[start:start + per_call]),
                        tf.convert_to_tensor(self.weights[start:start + per_call])).numpy()
        return (x - b) * total
