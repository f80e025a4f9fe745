"""Kernel-importance analysis: which fused channels of ``g`` does each decision need?

For every image ``x`` with ``G = g(x)`` (``C`` channels, one per fused kernel)
and full logits ``z = h(G)``:

1. *Ablation*: set channel ``c`` of ``G`` to zero, feed ``h``, and measure the
   harm ``mean |h(G without c) − z|``, for every ``c``.  Channels are ordered
   from most to least harmful to remove.
2. *Add-back*: the approximate model keeps only the first ``k`` channels of
   that order (all others zero); ``k`` grows from 1 until
   ``mean |h(G restricted) − z| < threshold · mean |z|``.
3. The kept channels are the ones this image needed.

All ``C`` ablations (and all ``C`` add-back prefixes) of an image go through
``h`` as one batch.  When ``h`` starts with a dense layer on the flattened
``G`` (``Flatten → Dense``, as in ``mnist17``), the analysis is exact and much
faster through that layer's linearity: the dense pre-activation of any channel
subset is the bias plus a sum of per-channel contributions
``z_c = Σ_{i,j} G[i, j, c] · W[i, j, c, :]``, so every ablation and prefix
costs one small vector operation, and only the rest of ``h`` runs on the batch
(:class:`AffineHead`).

The *stochastic* variant ablates a random subset of ``n_sampled`` channels per
image; the channels not sampled follow the sampled ones, in order of their
energy ``Σ G[..., c]²``.  It trades exactness of the order for speed on large
models.

References:
    Zeiler, M. D. and Fergus, R. (2014). Visualizing and understanding
    convolutional networks (occlusion). ECCV.
    Morcos, A. S., Barrett, D. G. T., Rabinowitz, N. C. and Botvinick, M. (2018).
    On the importance of single directions for generalization. ICLR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ProgressFn = Callable[[int, int], None]


@dataclass
class ImportanceResult:
    """The analysis of a set of images.

    Attributes:
        order: ``(N, C)`` channels from most to least harmful to remove.
        harm: ``(N, C)`` ablation harm of every channel (NaN where not sampled).
        needed: ``(N,)`` how many channels each image needed.
        full: ``(N, K)`` full logits.
        threshold: The relative threshold used.
        mae: ``(N,)`` final mean absolute error of each approximate model.
    """

    order: np.ndarray
    harm: np.ndarray
    needed: np.ndarray
    full: np.ndarray
    threshold: float
    mae: np.ndarray
    seconds: float = 0.0
    method: str = "exact"
    extra: dict = field(default_factory=dict)

    @property
    def n_images(self) -> int:
        return int(self.order.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.order.shape[1])

    def needed_channels(self, i: int) -> np.ndarray:
        return self.order[i, : self.needed[i]]

    def channel_counts(self) -> np.ndarray:
        """``(C,)``: how many images needed each channel."""
        counts = np.zeros(self.n_channels, np.int64)
        for i in range(self.n_images):
            counts[self.needed_channels(i)] += 1
        return counts

    def to_dict(self) -> dict:
        """Plain lists (JSON-safe) for caches and background-job results."""
        return {"order": self.order.tolist(), "needed": self.needed.tolist(), "full": self.full.tolist(),
                "threshold": self.threshold, "mae": self.mae.tolist(), "seconds": self.seconds,
                "method": self.method, "harm": np.nan_to_num(self.harm, nan=-1.0).tolist()}

    @classmethod
    def concatenate(cls, parts: list[ImportanceResult]) -> ImportanceResult:
        """One result from the results of consecutive image chunks (same threshold and method)."""
        if not parts:
            raise ValueError("nothing to concatenate")
        first = parts[0]
        return cls(np.concatenate([p.order for p in parts]), np.concatenate([p.harm for p in parts]),
                   np.concatenate([p.needed for p in parts]), np.concatenate([p.full for p in parts]),
                   first.threshold, np.concatenate([p.mae for p in parts]), float(sum(p.seconds for p in parts)),
                   first.method)

    @classmethod
    def from_dict(cls, d: dict) -> ImportanceResult:
        harm = np.asarray(d["harm"], np.float64)
        harm[harm < 0] = np.nan
        return cls(np.asarray(d["order"], np.int64), harm, np.asarray(d["needed"], np.int64),
                   np.asarray(d["full"], np.float64), float(d["threshold"]), np.asarray(d["mae"], np.float64),
                   float(d.get("seconds", 0.0)), d.get("method", "exact"))


class AffineHead:
    """``h = rest(act(flatten(G) @ W + b))``: a head whose first layer is a dense layer on ``G``.

    Attributes:
        weight: ``(H, W, C, U)``.
        bias: ``(U,)``.
        rest: ``(M, U) pre-activation -> (M, K)`` logits (a compiled function).
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, rest: Callable[[np.ndarray], np.ndarray]):
        self.weight = np.asarray(weight, np.float32)
        self.bias = np.asarray(bias, np.float32)
        self.rest = rest

    def contributions(self, g: np.ndarray) -> np.ndarray:
        """``(N, C, U)``: each channel's share of the dense pre-activation."""
        n, h, w, c = g.shape
        gt = np.asarray(g, np.float32).reshape(n, h * w, c)
        wt = self.weight.reshape(h * w, c, -1)
        return np.einsum("npc,pcu->ncu", gt, wt, optimize=True)


def affine_head(h) -> AffineHead | None:
    """An :class:`AffineHead` for a Keras head ``Input → Flatten → Dense → ...``, else None."""
    import keras
    import tensorflow as tf

    from .graph import flatten

    try:
        graph = flatten(h)
    except Exception:  # noqa: BLE001 - any head we cannot walk just takes the generic path
        return None
    layers = [n for n in graph.nodes if type(n.layer).__name__ != "InputLayer"]
    if len(layers) < 2 or type(layers[0].layer).__name__ != "Flatten" or type(layers[1].layer).__name__ != "Dense":
        return None
    if layers[1].inputs[0] is not layers[0].outputs[0] or layers[0].inputs[0] is not graph.inputs[0]:
        return None
    dense = layers[1].layer
    shape = tuple(int(s) for s in graph.inputs[0].shape[1:])
    weight = np.asarray(dense.kernel).reshape(*shape, -1)
    bias = np.asarray(dense.bias) if dense.use_bias else np.zeros(weight.shape[-1], np.float32)
    activation = keras.activations.get(dense.activation)
    tail = graph.rebuild(layers[1].key, name="h_tail") if layers[1] is not layers[-1] else None

    @tf.function(input_signature=[tf.TensorSpec((None, weight.shape[-1]), tf.float32)], reduce_retracing=True)
    def rest(pre):
        out = activation(pre)
        return tail(out, training=False) if tail is not None else out

    return AffineHead(weight, bias, lambda a: rest(tf.convert_to_tensor(np.asarray(a, np.float32))).numpy())


def _mae(a: np.ndarray, full: np.ndarray) -> np.ndarray:
    return np.mean(np.abs(a - full[..., None, :]), axis=-1)


def _order(harm: np.ndarray, g: np.ndarray | None, rng: np.random.Generator | None) -> np.ndarray:
    """Channels by decreasing harm; NaN (not sampled) last, by decreasing energy."""
    key = np.where(np.isnan(harm), -np.inf, harm)
    if g is not None and np.isnan(harm).any():
        energy = np.sum(np.asarray(g, np.float64) ** 2, axis=(1, 2))
        # sampled channels first (by harm), then unsampled by energy
        return np.array([np.lexsort((-energy[i], -key[i])) for i in range(len(key))], np.int64)
    return np.argsort(-key, axis=1, kind="stable")


def _needed(prefix_mae: np.ndarray, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest k (1-based) whose prefix MAE is below the limit (all channels if none)."""
    ok = prefix_mae < limit[:, None]
    c = prefix_mae.shape[1]
    k = np.where(ok.any(axis=1), np.argmax(ok, axis=1) + 1, c)
    return k.astype(np.int64), prefix_mae[np.arange(len(k)), k - 1]


def analyse(g: np.ndarray, head, *, threshold: float = 0.3, n_sampled: int | None = None,
            seed: int = 0, batch_images: int = 64, progress: ProgressFn | None = None) -> ImportanceResult:
    """Kernel importance of a batch of ``g`` outputs.

    Args:
        g: ``(N, H, W, C)`` outputs of the linear stack.
        head: An :class:`AffineHead` (fast, exact path) or a callable
            ``(M, H, W, C) -> (M, K)`` logits (generic path, batched ablations).
        threshold: Relative MAE to reach (0.3: 30 % of ``mean |full logits|``).
        n_sampled: Stochastic variant: ablate only this many random channels per image.
        seed: Seed of the stochastic variant.
        batch_images: Images per step (the progress callback runs after each).
        progress: ``progress(done, total)``; may raise to cancel.
    """
    import time

    start = time.perf_counter()
    g = np.asarray(g, np.float32)
    n, _, _, c = g.shape
    rng = np.random.default_rng(seed)
    if n_sampled is not None and not 1 <= n_sampled <= c:
        raise ValueError(f"n_sampled must be in 1..{c}, got {n_sampled}")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    orders, harms, needs, fulls, maes = [], [], [], [], []
    for lo in range(0, n, batch_images):
        chunk = g[lo: lo + batch_images]
        sampled = None
        if n_sampled is not None and n_sampled < c:
            sampled = np.stack([np.sort(rng.choice(c, n_sampled, replace=False)) for _ in range(len(chunk))])
        if isinstance(head, AffineHead):
            o, hm, k, f, m = _affine_chunk(chunk, head, threshold, sampled)
        else:
            o, hm, k, f, m = _generic_chunk(chunk, head, threshold, sampled)
        orders.append(o)
        harms.append(hm)
        needs.append(k)
        fulls.append(f)
        maes.append(m)
        if progress is not None:
            progress(min(lo + batch_images, n), n)
    method = "exact" if n_sampled is None or n_sampled >= c else f"stochastic ({n_sampled} of {c} ablations)"
    return ImportanceResult(np.concatenate(orders), np.concatenate(harms), np.concatenate(needs),
                            np.concatenate(fulls), float(threshold), np.concatenate(maes),
                            time.perf_counter() - start, method)


def _affine_chunk(g, head: AffineHead, threshold, sampled):
    n, _, _, c = g.shape
    z = head.contributions(g).astype(np.float64)  # (n, C, U)
    total = z.sum(axis=1) + head.bias  # (n, U)
    units = z.shape[-1]
    full = head.rest(total)  # (n, K)
    ablated_pre = total[:, None, :] - z  # (n, C, U)
    ablated = head.rest(ablated_pre.reshape(-1, units)).reshape(n, c, -1)
    harm = _mae(ablated, full)
    if sampled is not None:
        mask = np.zeros((n, c), bool)
        np.put_along_axis(mask, sampled, True, axis=1)
        harm = np.where(mask, harm, np.nan)
    order = _order(harm, g if sampled is not None else None, None)
    zo = np.take_along_axis(z, order[:, :, None], axis=1)
    prefix_pre = np.cumsum(zo, axis=1) + head.bias  # (n, C, U): first k channels kept
    prefix = head.rest(prefix_pre.reshape(-1, units)).reshape(n, c, -1)
    limit = threshold * np.mean(np.abs(full), axis=1)
    k, mae = _needed(_mae(prefix, full), limit)
    return order, harm, k, full, mae


def _generic_chunk(g, head, threshold, sampled, prefix_step: int = 16):
    n, _, _, c = g.shape
    orders, harms, needs, fulls, maes = [], [], [], [], []
    full_all = np.asarray(head(g), np.float64)
    for i in range(n):
        gi, full = g[i], full_all[i]
        chans = np.arange(c) if sampled is None else sampled[i]
        batch = np.repeat(gi[None], len(chans), axis=0)
        batch[np.arange(len(chans)), :, :, chans] = 0.0
        harm = np.full(c, np.nan)
        harm[chans] = _mae(np.asarray(head(batch), np.float64)[None], full[None])[0]
        order = _order(harm[None], gi[None] if sampled is not None else None, None)[0]
        limit = threshold * np.mean(np.abs(full))
        k, mae = c, np.nan
        for lo in range(0, c, prefix_step):
            ks = np.arange(lo + 1, min(lo + prefix_step, c) + 1)
            keep = np.zeros((len(ks), c), np.float32)
            for j, kk in enumerate(ks):
                keep[j, order[:kk]] = 1.0
            out = np.asarray(head(gi[None] * keep[:, None, None, :]), np.float64)
            errs = _mae(out[None], full[None])[0]
            hit = np.nonzero(errs < limit)[0]
            if hit.size:
                k, mae = int(ks[hit[0]]), float(errs[hit[0]])
                break
            mae = float(errs[-1])
        orders.append(order)
        harms.append(harm)
        needs.append(k)
        fulls.append(full)
        maes.append(mae)
    return np.array(orders), np.array(harms), np.array(needs), np.array(fulls), np.array(maes)
