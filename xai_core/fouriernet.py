"""Fourier-Net: a linear convolution stack computed in the Fourier domain, and its fused kernels.

A stack of ``"same"``, stride-1, bias-free, activation-free convolutions is one
linear filter bank.  Keras computes each layer as a *cross-correlation*
(see :mod:`xai_core.convolution`)::

    out_l[i, o] = sum_{u, c} in_l[i + u - p_l, c] * k_l[u, c, o],    p_l = (k - 1) // 2

and zero-pads its input before every layer.  Three ways of computing the same
stack in the Fourier domain:

* **Fourier-Net 1** (:meth:`FourierNet.fn1`): every layer by itself, as an FFT
  product on a grid padded by that layer's kernel, cropped back to ``H x W``
  after the layer (where padding, pooling or activations would happen).  It
  pads exactly like the spatial model, so it equals it to float precision
  everywhere.
* **Fourier-Net 2** (:meth:`FourierNet.fn2`): the input is padded once (by the
  fused kernel's size), the spectra of all layers are multiplied in cascade,
  and one inverse FFT ends the stack.
* **Fourier-Net 3** (:meth:`FourierNet.fn3`): by associativity
  ``(x ⋆ k1) ⋆ k2 = x ⋆ (k1 * k2)`` (``⋆`` cross-correlation, ``*`` full
  convolution, summed over the shared channel), the kernels of all layers are
  fused into one kernel set ``K123`` (:func:`fuse_kernels`; for ``mnist17``
  32 + 32·64 + 64·128 = 10,272 kernels of 3×3 become 128 fused kernels of
  7×7), one spectral product, one inverse FFT.

FN2 and FN3 are the same linear map (up to rounding).  They differ from the
spatial model near the borders: the spatial model zeroes each layer's output
outside the image before the next layer, the fused map does not (the
*accumulative edge error*).  At distance ≥ the fused kernel's radius from
every border they agree exactly.

References:
    Pratt, H., Williams, B., Coenen, F. and Zheng, Y. (2017). FCNN: Fourier
    convolutional neural networks. ECML PKDD.
    Mathieu, M., Henaff, M. and LeCun, Y. (2014). Fast training of
    convolutional networks through FFTs. ICLR.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .convolution import same_padding

VARIANTS = ("fn1", "fn2", "fn3")
VARIANT_TITLES = {"spatial": "spatial layers", "fn1": "Fourier-Net 1", "fn2": "Fourier-Net 2",
                  "fn3": "Fourier-Net 3"}


@dataclass
class FusedKernels:
    """The kernels of a linear stack fused into one (Kh, Kw, C_in, C_out) kernel set.

    Attributes:
        kernel: float64 ``(Kh, Kw, C_in, C_out)`` with ``Kh = 1 + sum(kh_l - 1)``.
        anchor: ``(P_row, P_col)``: the composite cross-correlation reads
            ``g[i] = sum_w x[i + w - P] K[w]`` (``P = sum_l p_l``).
        n_layer_kernels: How many 2-D kernel slices the stack had.
    """

    kernel: np.ndarray
    anchor: tuple[int, int]
    n_layer_kernels: int

    @property
    def size(self) -> tuple[int, int]:
        return int(self.kernel.shape[0]), int(self.kernel.shape[1])

    @property
    def n_fused(self) -> int:
        """Number of fused 2-D kernel slices (``C_in * C_out``)."""
        return int(self.kernel.shape[2] * self.kernel.shape[3])

    @property
    def radius(self) -> int:
        """Largest reach of the fused kernel from its anchor (the width of the edge-error band)."""
        kh, kw = self.size
        pr, pc = self.anchor
        return int(max(pr, kh - 1 - pr, pc, kw - 1 - pc))


def _anchor(kernel_shape) -> tuple[int, int]:
    return same_padding(int(kernel_shape[0]))[0], same_padding(int(kernel_shape[1]))[0]


def fuse_kernels(kernels: list[np.ndarray]) -> FusedKernels:
    """Fuse the kernels of a linear conv stack into one kernel set (associativity).

    ``K_{1..l}[u + v, c, o] = sum_m K_{1..l-1}[u, c, m] · k_l[v, m, o]``: a full 2-D
    convolution in space and a matrix product over the shared channel.

    Args:
        kernels: Effective ``(kh, kw, C_in, C_out)`` kernels of the layers, in order.
    """
    if not kernels:
        raise ValueError("no kernels to fuse")
    fused = np.asarray(kernels[0], np.float64)
    pr, pc = _anchor(fused.shape)
    count = fused.shape[2] * fused.shape[3]
    for k in kernels[1:]:
        k = np.asarray(k, np.float64)
        if k.shape[2] != fused.shape[3]:
            raise ValueError(f"layer expects {k.shape[2]} input channels, previous layer gives {fused.shape[3]}")
        fh, fw = fused.shape[:2]
        kh, kw = k.shape[:2]
        out = np.zeros((fh + kh - 1, fw + kw - 1, fused.shape[2], k.shape[3]))
        for a in range(kh):
            for b in range(kw):
                out[a:a + fh, b:b + fw] += np.einsum("hwim,mo->hwio", fused, k[a, b])
        fused = out
        dr, dc = _anchor(k.shape)
        pr, pc = pr + dr, pc + dc
        count += k.shape[2] * k.shape[3]
    return FusedKernels(fused, (pr, pc), int(count))


def contributions(kernels: list[np.ndarray], c_in: int, c_out: int, top: int = 8) -> list[dict]:
    """What one fused kernel ``K[:, :, c_in, c_out]`` is made of.

    By associativity ``K_{1..L}[c_in, c_out] = sum_m K_{1..L-1}[c_in, m] * k_L[m, c_out]``
    (``*`` the full 2-D convolution): one term per input channel ``m`` of the
    last layer.  Returns the ``top`` terms with the largest L2 norm, each a dict
    with ``channel`` (m), ``norm``, ``prefix`` (the fused kernel of the earlier
    layers, ``c_in -> m``), ``last`` (the last layer's slice ``m -> c_out``) and
    ``part`` (their full convolution).  Summing ``part`` over all ``m`` gives the
    fused kernel (``top=None`` returns every term).
    """
    kernels = [np.asarray(k, np.float64) for k in kernels]
    last = kernels[-1][:, :, :, c_out]  # (kh, kw, M)
    if len(kernels) == 1:
        k = kernels[0][:, :, c_in, c_out]
        return [{"channel": c_in, "norm": float(np.linalg.norm(k)), "prefix": np.ones((1, 1)), "last": k,
                 "part": k}]
    prefix = fuse_kernels(kernels[:-1]).kernel[:, :, c_in, :]  # (h, w, M)
    terms = []
    for m in range(last.shape[2]):
        part = _full_conv2d(prefix[:, :, m], last[:, :, m])
        terms.append({"channel": m, "norm": float(np.linalg.norm(part)), "prefix": prefix[:, :, m],
                      "last": last[:, :, m], "part": part})
    terms.sort(key=lambda t: -t["norm"])
    return terms if top is None else terms[:top]


def _full_conv2d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0] + b.shape[0] - 1, a.shape[1] + b.shape[1] - 1))
    for i in range(b.shape[0]):
        for j in range(b.shape[1]):
            out[i:i + a.shape[0], j:j + a.shape[1]] += a * b[i, j]
    return out


def _channel_product(xf: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``out[n, a, b, o] = sum_i xf[n, a, b, i] k[a, b, i, o]``: one small matrix product per frequency."""
    # one (N x C_in) @ (C_in x C_out) product per frequency, batched over the frequencies
    return np.moveaxis(np.matmul(np.moveaxis(xf, 0, 2), k), 2, 0)


def embed(kernel: np.ndarray, anchor: tuple[int, int], grid: tuple[int, int]) -> np.ndarray:
    """``(kh, kw, ...)`` cross-correlation kernel as a convolution kernel on an FFT grid.

    ``h[(P - u) mod G] = k[u]`` so that the circular convolution of a padded
    image with ``h`` is the cross-correlation with ``k`` anchored at ``P``.
    """
    kh, kw = kernel.shape[:2]
    rows = (anchor[0] - np.arange(kh)) % grid[0]
    cols = (anchor[1] - np.arange(kw)) % grid[1]
    h = np.zeros(tuple(grid) + kernel.shape[2:])
    h[rows[:, None], cols[None, :]] = kernel
    return h


def spectrum(kernel: np.ndarray, anchor: tuple[int, int], grid: tuple[int, int]) -> np.ndarray:
    """``rfft2`` of :func:`embed` over the two spatial axes: ``(G0, G1 // 2 + 1, ...)``."""
    return np.fft.rfft2(embed(kernel, anchor, grid), axes=(0, 1))


def spatial_stack(x: np.ndarray, kernels: list[np.ndarray]) -> np.ndarray:
    """Reference: the stack with ``tf.nn.conv2d`` (``SAME``, stride 1), float64."""
    import tensorflow as tf

    out = tf.convert_to_tensor(np.asarray(x, np.float64))
    for k in kernels:
        out = tf.nn.conv2d(out, tf.convert_to_tensor(np.asarray(k, np.float64)), strides=1, padding="SAME")
    return out.numpy()


class FourierNet:
    """The three Fourier-Net variants of one linear stack, for images of one size.

    Kernel spectra are computed once (on first use) and reused.

    Args:
        kernels: Effective ``(kh, kw, C_in, C_out)`` kernels of the stack.
        image_shape: ``(H, W)`` of the inputs.
    """

    def __init__(self, kernels: list[np.ndarray], image_shape: tuple[int, int]):
        self.kernels = [np.asarray(k, np.float64) for k in kernels]
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.fused = fuse_kernels(self.kernels)
        kh, kw = self.fused.size
        # padded once by the fused kernel: the circular product is the linear correlation
        self.grid = (self.image_shape[0] + kh - 1, self.image_shape[1] + kw - 1)
        self._layer_grids = [(self.image_shape[0] + k.shape[0] - 1, self.image_shape[1] + k.shape[1] - 1)
                             for k in self.kernels]
        self._cache: dict = {}

    def _get(self, key, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    # -- spectra ------------------------------------------------------------------
    def layer_spectra(self) -> list[np.ndarray]:
        """Each layer's kernel spectrum on its own padded grid (for FN1)."""
        return self._get("fn1", lambda: [spectrum(k, _anchor(k.shape), g)
                                         for k, g in zip(self.kernels, self._layer_grids)])

    def cascade_spectra(self) -> list[np.ndarray]:
        """Each layer's kernel spectrum on the common grid (for FN2)."""
        return self._get("fn2", lambda: [spectrum(k, _anchor(k.shape), self.grid) for k in self.kernels])

    def fused_spectrum(self) -> np.ndarray:
        """``F{K123}`` on the common grid: ``(G0, G1 // 2 + 1, C_in, C_out)`` (for FN3)."""
        return self._get("fn3", lambda: spectrum(self.fused.kernel, self.fused.anchor, self.grid))

    # -- the variants ----------------------------------------------------------------
    def _batch(self, x: np.ndarray) -> tuple[np.ndarray, bool]:
        x = np.asarray(x, np.float64)
        single = x.ndim == 3
        if single:
            x = x[None]
        if x.shape[1:3] != self.image_shape:
            raise ValueError(f"images are {x.shape[1:3]}, this Fourier-Net was built for {self.image_shape}")
        return x, single

    def fn1(self, x: np.ndarray) -> np.ndarray:
        """Fourier-Net 1: one FFT product per layer, back to ``H x W`` after each."""
        x, single = self._batch(x)
        h, w = self.image_shape
        out = x
        for spec, grid in zip(self.layer_spectra(), self._layer_grids):
            xf = np.fft.rfft2(out, s=grid, axes=(1, 2))
            out = np.fft.irfft2(_channel_product(xf, spec), s=grid, axes=(1, 2))[:, :h, :w]
        return out[0] if single else out

    def fn2(self, x: np.ndarray) -> np.ndarray:
        """Fourier-Net 2: pad once, multiply the layers' spectra in cascade, one inverse FFT."""
        x, single = self._batch(x)
        h, w = self.image_shape
        spec = np.fft.rfft2(x, s=self.grid, axes=(1, 2))
        for k in self.cascade_spectra():
            spec = _channel_product(spec, k)
        out = np.fft.irfft2(spec, s=self.grid, axes=(1, 2))[:, :h, :w]
        return out[0] if single else out

    def fn3(self, x: np.ndarray) -> np.ndarray:
        """Fourier-Net 3: one product with the fused spectrum ``F{K123}``, one inverse FFT."""
        x, single = self._batch(x)
        h, w = self.image_shape
        spec = _channel_product(np.fft.rfft2(x, s=self.grid, axes=(1, 2)), self.fused_spectrum())
        out = np.fft.irfft2(spec, s=self.grid, axes=(1, 2))[:, :h, :w]
        return out[0] if single else out

    def run(self, variant: str, x: np.ndarray) -> np.ndarray:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        return getattr(self, variant)(x)

    # -- transposes (for the chain rule) -------------------------------------------
    def fn1_transpose(self, grad_g: np.ndarray) -> np.ndarray:
        """``J_g^T · v`` of the spatial (= FN1) stack, layer by layer in the Fourier domain.

        The transpose of a zero-padded ``"same"`` correlation is the correlation
        with the conjugate spectrum, on the same padded grid, cropped the same way.
        """
        v, single = self._batch(grad_g)
        h, w = self.image_shape
        for spec, grid in zip(reversed(self.layer_spectra()), reversed(self._layer_grids)):
            vf = np.fft.rfft2(v, s=grid, axes=(1, 2))
            v = np.fft.irfft2(_channel_product(vf, np.conj(np.swapaxes(spec, 2, 3))), s=grid, axes=(1, 2))[:, :h, :w]
        return v[0] if single else v

    def fn3_transpose(self, grad_g: np.ndarray) -> np.ndarray:
        """``J^T · v`` of the fused map (FN2 = FN3): ``F^{-1}{ conj(F{K123}) · F{v} }``."""
        v, single = self._batch(grad_g)
        h, w = self.image_shape
        vf = np.fft.rfft2(v, s=self.grid, axes=(1, 2))
        out = np.fft.irfft2(_channel_product(vf, np.conj(np.swapaxes(self.fused_spectrum(), 2, 3))), s=self.grid,
                            axes=(1, 2))[:, :h, :w]
        return out[0] if single else out


    # -- TensorFlow versions (float32 / complex64; run on the GPU when there is one) ----
    def tf_function(self, variant: str):
        """A compiled ``tf.function`` ``(N, H, W, C_in) float32 -> (N, H, W, C_out)`` for ``variant``.

        Same algorithm as the numpy method of that name, in ``tf.signal``
        (channels moved in front of the two FFT axes).  Built once per variant.
        """
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
        return self._get(("tf", variant), lambda: self._build_tf(variant))

    def _build_tf(self, variant: str):
        import tensorflow as tf

        h, w = self.image_shape
        cin = int(self.kernels[0].shape[2])

        def layout(spec):  # (G0, G1', Ci, Co) -> (G0 * G1', Ci, Co) complex64
            return tf.constant(spec.reshape(-1, *spec.shape[2:]).astype(np.complex64))

        def product(xf, k):  # (N, Ci, G0, G1') x (G0 * G1', Ci, Co) -> (N, Co, G0, G1')
            shape = tf.shape(xf)
            xt = tf.transpose(tf.reshape(xf, (shape[0], shape[1], -1)), (2, 0, 1))  # (F, N, Ci)
            out = tf.transpose(tf.linalg.matmul(xt, k), (1, 2, 0))  # (N, Co, F)
            return tf.reshape(out, (shape[0], k.shape[2], shape[2], shape[3]))

        if variant == "fn1":
            stages = [(layout(s), g) for s, g in zip(self.layer_spectra(), self._layer_grids)]
        elif variant == "fn2":
            specs = [layout(s) for s in self.cascade_spectra()]
        else:
            fused = layout(self.fused_spectrum())
        grid = list(self.grid)

        @tf.function(input_signature=[tf.TensorSpec((None, h, w, cin), tf.float32)], reduce_retracing=True)
        def run(x):
            out = tf.transpose(x, (0, 3, 1, 2))
            if variant == "fn1":
                for k, g in stages:
                    out = tf.signal.irfft2d(product(tf.signal.rfft2d(out, fft_length=list(g)), k),
                                            fft_length=list(g))[:, :, :h, :w]
            else:
                spec = tf.signal.rfft2d(out, fft_length=grid)
                for k in (specs if variant == "fn2" else [fused]):
                    spec = product(spec, k)
                out = tf.signal.irfft2d(spec, fft_length=grid)[:, :, :h, :w]
            return tf.transpose(out, (0, 2, 3, 1))

        return run

    def run_tf(self, variant: str, x: np.ndarray) -> np.ndarray:
        """``variant`` by its TensorFlow version, as a float32 numpy array."""
        import tensorflow as tf

        x = np.asarray(x, np.float32)
        single = x.ndim == 3
        out = self.tf_function(variant)(tf.convert_to_tensor(x[None] if single else x)).numpy()
        return out[0] if single else out



def edge_errors(result: np.ndarray, reference: np.ndarray, radius: int) -> dict:
    """Largest ``|result - reference|`` in the interior and on the border band.

    Arrays are ``(H, W)``, ``(H, W, C)`` or ``(N, H, W, C)``.  The border band is
    every pixel closer than ``radius`` to an edge.  Errors are reported absolute
    and relative to ``max |reference|``.
    """
    err = np.abs(np.asarray(result, np.float64) - np.asarray(reference, np.float64))
    if err.ndim == 2:
        err = err[:, :, None]
    h, w = err.shape[-3], err.shape[-2]
    mask = interior_mask((h, w), radius)
    inner = err[..., mask, :]
    outer = err[..., ~mask, :]
    scale = float(np.max(np.abs(reference))) or 1.0
    interior = float(inner.max()) if inner.size else 0.0
    border = float(outer.max()) if outer.size else 0.0
    return {"interior": interior, "border": border, "interior_rel": interior / scale,
            "border_rel": border / scale, "scale": scale, "radius": int(radius)}


def interior_mask(shape: tuple[int, int], radius: int) -> np.ndarray:
    """True at pixels at least ``radius`` away from every edge."""
    mask = np.zeros(shape, bool)
    r = int(radius)
    mask[r:shape[0] - r, r:shape[1] - r] = True
    return mask


TIMED = ("spatial", "fn1", "fn2", "fn3", "fn1_tf", "fn2_tf", "fn3_tf")


def time_variants(spatial_fn, fnet: FourierNet, x: np.ndarray, repeats: int = 5,
                  variants=TIMED) -> dict[str, dict]:
    """Wall-clock time of g on the batch ``x`` by the spatial layers and each Fourier-Net.

    ``fnK`` is the numpy (float64) version, ``fnK_tf`` the TensorFlow one
    (float32, on the GPU when there is one).  Every variant runs once untimed
    (warm-up, kernel spectra, tracing), then ``repeats`` timed runs.  Returns
    ``{variant: {"median", "p95", "times"}}`` in seconds.
    """
    import time

    fns = {"spatial": spatial_fn, "fn1": fnet.fn1, "fn2": fnet.fn2, "fn3": fnet.fn3}
    for v in VARIANTS:
        fns[f"{v}_tf"] = lambda a, v=v: fnet.run_tf(v, a)
    out = {}
    for name in variants:
        fn = fns[name]
        fn(x)
        times = []
        for _ in range(max(1, int(repeats))):
            t = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - t)
        times = np.asarray(times)
        out[name] = {"median": float(np.median(times)), "p95": float(np.percentile(times, 95)),
                     "times": times.tolist()}
    return out
