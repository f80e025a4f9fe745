"""The chain rule through the split ``y = h(g(x))``, in 1-D and for an image model.

For a linear stack ``g`` (see :mod:`xai_core.linear_stack`) the gradient of a
score factors as::

    ∂y/∂x = (∂g/∂x)^T · ∂y/∂g

``∂y/∂g`` comes from the reduced model ``h`` alone (one backward pass through
the head); ``∂g/∂x`` is the same for every input, because ``g`` is linear.
Its column for input pixel ``p`` is ``g(δ_p)``; in the Fourier domain that is
``F{δ_p} · F{K123}`` (the *pixel-wise partial-derivative spectrum*), and the
whole transpose product is ``F^{-1}{ conj(F{K}) · F{∂y/∂g} }``.

References:
    Rumelhart, D. E., Hinton, G. E. and Williams, R. J. (1986). Learning
    representations by back-propagating errors. Nature 323, 533–536.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fouriernet import FourierNet


@dataclass
class ScalarChainRule:
    """The worked 1-D example ``g = x·b``, ``y = Σ g⁵`` and every derivative, from GradientTape."""

    x: float
    b: np.ndarray
    g: np.ndarray
    y: float
    dy_dg: np.ndarray
    dg_dx: np.ndarray
    dy_dx_direct: float
    dy_dx_chain: float

    @property
    def difference(self) -> float:
        return self.dy_dx_chain - self.dy_dx_direct


def scalar_example(x: float = 3.0, b=(3.0, 4.0), power: int = 5) -> ScalarChainRule:
    """``g = x·b``, ``y = Σ g^power`` differentiated with ``tf.GradientTape`` in float64.

    With the defaults: ``g = [9, 12]``, ``y = 307881``, ``∂y/∂g = [32805, 103680]``,
    ``∂g/∂x = [3, 4]`` and ``∂y/∂x = 513135`` both directly and by the chain rule.
    """
    import tensorflow as tf

    b = np.asarray(b, np.float64).ravel()
    if b.size == 0:
        raise ValueError("b needs at least one value")
    xv = tf.Variable(float(x), dtype=tf.float64)
    bt = tf.constant(b)
    with tf.GradientTape(persistent=True) as tape:
        g = xv * bt
        g_parts = tf.unstack(g)  # recorded, so each ∂g_i/∂x has its own gradient
        y = tf.reduce_sum(g ** power)
    dy_dg = tape.gradient(y, g).numpy()
    dg_dx = np.array([tape.gradient(gi, xv).numpy() for gi in g_parts])
    direct = float(tape.gradient(y, xv).numpy())
    del tape
    chain = float(np.dot(dy_dg, dg_dx))
    return ScalarChainRule(float(x), b, g.numpy(), float(y.numpy()), dy_dg, dg_dx, direct, chain)


@dataclass
class ImageChainRule:
    """``∂y/∂x`` of one image by the chain rule through ``y = h(g(x))``.

    Attributes:
        g: ``g(x)``, ``(H, W, C_out)``.
        scores: ``h(g(x))``, all classes.
        target: The differentiated class.
        dy_dg: ``∂y/∂g`` from ``h`` alone, ``(H, W, C_out)``.
        spatial: ``(∂g/∂x)^T ∂y/∂g`` by the spatial layers' vector-Jacobian product.
        fourier: The same, layer by layer in the Fourier domain (exact, pads like the model).
        fused: ``F^{-1}{conj(F{K123}) F{∂y/∂g}}``: the fused map's transpose (equal in the
            interior, differs on the border band like Fourier-Net 2/3).
        direct: ``∂y/∂x`` of the whole model by GradientTape.
    """

    g: np.ndarray
    scores: np.ndarray
    target: int
    dy_dg: np.ndarray
    spatial: np.ndarray
    fourier: np.ndarray
    fused: np.ndarray
    direct: np.ndarray

    def relative_error(self, which: str) -> float:
        """``max |which − direct| / max |direct|``."""
        scale = float(np.max(np.abs(self.direct))) or 1.0
        return float(np.max(np.abs(getattr(self, which) - self.direct))) / scale


SQUASHES = ("linear", "softmax", "sigmoid")


def tape_pieces(split, squash: str = "linear"):
    """``fn(x (1, H, W, C), target int32) -> (g, scores, dy_dg, (∂g/∂x)^T ∂y/∂g, ∂y/∂x)`` by GradientTape.

    ``split`` splits the *logits* model; ``squash`` is applied to ``h(g(x))``
    before the class is picked: ``"linear"`` differentiates the logit,
    ``"softmax"`` (or ``"sigmoid"``) the class probability.  Because ``g`` is
    linear the chain rule still reads ``(∂g/∂x)^T ∂y/∂g``; only ``∂y/∂g``
    changes (it then includes the softmax Jacobian).  ``target < 0``
    differentiates the highest score.  Wrap it in ``tf.function`` (with a
    fixed input signature) to trace it once per model and squash.
    """
    import tensorflow as tf

    if squash not in SQUASHES:
        raise ValueError(f"squash must be one of {', '.join(SQUASHES)}, got {squash!r}")

    def fn(x, target):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            g = split.g(x, training=False)
            scores = split.h(g, training=False)
            if squash == "softmax":
                scores = tf.nn.softmax(scores, axis=-1)
            elif squash == "sigmoid":
                scores = tf.sigmoid(scores)
            cls = tf.where(target < 0, tf.cast(tf.argmax(scores[0]), tf.int32), target)
            y = tf.gather(scores[0], cls)
        direct = tape.gradient(y, x)
        dy_dg = tape.gradient(y, g)
        vjp = tape.gradient(g, x, output_gradients=dy_dg)
        del tape
        return g, scores, dy_dg, vjp, direct, cls

    return fn


def image_chain_rule(split, fnet: FourierNet, x: np.ndarray, target: int | None = None,
                     direct: np.ndarray | None = None, pieces=None) -> ImageChainRule:
    """Chain-rule gradient of one image through a linear split.

    Args:
        split: A :class:`xai_core.linear_stack.LinearSplit` of the logits model
            (``pieces`` decides whether the logit or the probability is differentiated).
        fnet: The :class:`FourierNet` of ``split.kernels`` for this image size.
        x: ``(H, W, C_in)`` image.
        target: Class (default: the highest score).
        direct: ``∂y/∂x`` of the whole model if already computed (else GradientTape
            through ``split.g`` then ``split.h`` as one graph).
        pieces: A (compiled) :func:`tape_pieces` function of ``split``.
    """
    import tensorflow as tf

    fn = pieces or tape_pieces(split)
    xt = tf.convert_to_tensor(np.asarray(x, np.float32)[None])
    g, scores, dy_dg, vjp, tape_direct, cls = fn(xt, tf.constant(-1 if target is None else int(target), tf.int32))
    dy_dg = dy_dg.numpy()[0].astype(np.float64)
    return ImageChainRule(
        g=g.numpy()[0], scores=scores.numpy()[0], target=int(cls.numpy()), dy_dg=dy_dg,
        spatial=vjp.numpy()[0].astype(np.float64), fourier=fnet.fn1_transpose(dy_dg),
        fused=fnet.fn3_transpose(dy_dg),
        direct=np.asarray(tape_direct.numpy()[0] if direct is None else direct, np.float64),
    )


@dataclass
class PixelDerivative:
    """``∂g[:, :, c_out] / ∂x[p, c_in]`` of the fused map, in both domains.

    Attributes:
        spectrum: ``F{δ_p} · F{K123[:, :, c_in, c_out]}`` on the FFT grid, centred (fftshift).
        spatial: Its inverse FFT cropped to ``(H, W)``: the fused kernel placed at ``p``.
    """

    pixel: tuple[int, int]
    c_in: int
    c_out: int
    spectrum: np.ndarray
    spatial: np.ndarray


def pixel_derivative(fnet: FourierNet, pixel: tuple[int, int], c_in: int, c_out: int) -> PixelDerivative:
    """The pixel-wise partial-derivative spectrum ``F{∂x/∂x_p} · F{K123}`` and its inverse."""
    from .fouriernet import embed

    r, c = int(pixel[0]), int(pixel[1])
    h, w = fnet.image_shape
    if not (0 <= r < h and 0 <= c < w):
        raise ValueError(f"pixel {pixel} is outside the {h}x{w} image")
    grid = fnet.grid
    delta = np.zeros(grid)
    delta[r, c] = 1.0
    kernel = embed(fnet.fused.kernel[:, :, c_in, c_out], fnet.fused.anchor, grid)
    spec = np.fft.fft2(delta) * np.fft.fft2(kernel)
    spatial = np.real(np.fft.ifft2(spec))[:h, :w]
    return PixelDerivative((r, c), int(c_in), int(c_out), np.fft.fftshift(spec), spatial)
