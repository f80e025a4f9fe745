"""A model's layers as tables, and one convolution kernel seen on one image.

:func:`layer_table` lists the leaf layers of a (possibly nested) model, the
way ``model.summary()`` does but as rows of data: nested models are flattened
with :mod:`xai_core.graph`, so a Keras Applications base inside a functional
model contributes its own convolutions.  Parameter counts are Keras' own
(``layer.count_params()``); a layer shared by several calls is counted once
in the totals.

:func:`kernel_view` shows what one output channel of a convolution layer does
to one image, in the simplified picture of the research app:

* ``x̄``: the layer's input averaged over its ``C`` channels;
* ``k̄``: the kernel of the chosen output channel averaged over its input
  channels (the effective kernel, so depthwise and separable layers work, and
  any kernel size);
* ``|F(k̄)|``: its centred Fourier magnitude;
* ``x̄ ⋆ k̄``: their cross-correlation with the layer's strides, padding and
  dilation (what Keras calls convolution);
* the true output channel: the layer's actual activation.

The true pre-activation is ``Σ_c x_c ⋆ k_c``, which equals ``C · (x̄ ⋆ k̄)``
only when every channel sees the same kernel or carries the same image; the
layer's bias and activation come on top.  Showing both makes the gap visible.

A ``DepthwiseConv2D`` output channel ``c · m + j`` sees one input channel
``c`` through one real kernel ``depthwise[:, :, c, j]`` (the other entries of
its effective kernel are zero).  Its view shows that channel and that kernel
instead of the averages, so ``x_c ⋆ k`` *is* the pre-activation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import FlatGraph, conv_config, effective_kernel

KINDS = ("all", "conv", "dense", "other")


@dataclass(frozen=True)
class LayerRow:
    """One leaf layer of a model."""

    key: str
    type_name: str
    kind: str
    output_shape: tuple
    params: int
    trainable: int

    @property
    def non_trainable(self) -> int:
        return self.params - self.trainable


@dataclass(frozen=True)
class LayerTable:
    """Rows of one summary view with their totals (each layer counted once)."""

    kind: str
    rows: list[LayerRow]
    total: int
    trainable: int

    @property
    def non_trainable(self) -> int:
        return self.total - self.trainable


def _shape(tensors) -> tuple:
    shapes = [tuple(t.shape) for t in tensors]
    return shapes[0] if len(shapes) == 1 else tuple(shapes)


def layer_rows(graph: FlatGraph) -> list[LayerRow]:
    """Every leaf layer of ``graph``, in call order, with Keras' parameter counts."""
    rows = []
    for node in graph.nodes:
        layer = node.layer
        trainable = int(sum(int(np.prod(w.shape)) for w in layer.trainable_weights))
        rows.append(LayerRow(node.key, node.type_name, node.kind, _shape(node.outputs),
                             int(layer.count_params()), trainable))
    return rows


def layer_table(graph: FlatGraph, kind: str = "all") -> LayerTable:
    """The rows of one view: ``all``, ``conv``, ``dense`` or ``other`` layers.

    ``conv`` holds every convolution (Conv1D/2D/3D, depthwise, separable,
    transposed); ``dense`` Dense and EinsumDense; ``other`` the rest
    (BatchNormalization, activations, padding, pooling, dropout, ...).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    nodes = [n for n in graph.nodes if kind == "all" or n.kind == kind]
    keys = {n.key for n in nodes}
    rows = [r for r in layer_rows(graph) if r.key in keys]
    seen, total, trainable = set(), 0, 0
    for node, row in zip(nodes, rows):
        if id(node.layer) in seen:
            continue
        seen.add(id(node.layer))
        total += row.params
        trainable += row.trainable
    return LayerTable(kind, rows, total, trainable)


def averaged_kernel(layer, out_channel: int) -> np.ndarray:
    """``k̄``: the effective kernel of ``out_channel`` averaged over the input channels, ``(kh, kw)``."""
    k = effective_kernel(layer)
    if not 0 <= out_channel < k.shape[3]:
        raise IndexError(f"kernel index must be in 0..{k.shape[3] - 1}, got {out_channel}")
    return k[:, :, :, out_channel].astype(np.float64).mean(axis=2)


def correlate_like_layer(x: np.ndarray, k: np.ndarray, layer) -> np.ndarray:
    """Cross-correlate one channel ``x (H, W)`` with ``k (kh, kw)`` using the layer's
    strides, padding and dilation (``tf.nn.conv2d``, float64), without bias or activation."""
    import tensorflow as tf

    cfg = conv_config(layer)
    out = tf.nn.conv2d(tf.constant(np.asarray(x, np.float64)[None, :, :, None]),
                       tf.constant(np.asarray(k, np.float64)[:, :, None, None]),
                       strides=[1, *cfg["strides"], 1], padding=str(cfg["padding"]).upper(),
                       dilations=[1, *cfg["dilation_rate"], 1])
    return out.numpy()[0, :, :, 0]


@dataclass
class KernelView:
    """What one output channel of one convolution layer does to one image."""

    layer: str
    out_channel: int
    in_channels: int
    input_mean: np.ndarray  # x̄ (H, W)
    kernel_mean: np.ndarray  # k̄ (kh, kw)
    kernel_magnitude: np.ndarray  # centred |F(k̄)| on a (size, size) grid
    approx: np.ndarray  # x̄ ⋆ k̄
    actual: np.ndarray  # the layer's output channel
    source_channel: int | None = None  # depthwise layers: the one input channel this output sees


def kernel_view(layer, key: str, layer_input: np.ndarray, layer_output: np.ndarray, out_channel: int,
                fft_size: int = 32) -> KernelView:
    """Build a :class:`KernelView` from the layer's input and output for one image.

    Args:
        layer: A 2-D convolution layer (Conv2D, DepthwiseConv2D, SeparableConv2D).
        key: Its key in the flat graph (for display).
        layer_input: ``(H, W, C)`` input of the layer for the image.
        layer_output: ``(H', W', C_out)`` output of the layer for the image.
        out_channel: Which output channel (kernel).
        fft_size: Zero-padded size of the kernel's DFT (at least the kernel size).
    """
    from .fourier import magnitude, spectrum

    source = None
    if type(layer).__name__ == "DepthwiseConv2D":
        dw = np.asarray(layer.kernel, np.float64)
        m = dw.shape[3]
        if not 0 <= out_channel < dw.shape[2] * m:
            raise IndexError(f"kernel index must be in 0..{dw.shape[2] * m - 1}, got {out_channel}")
        source = int(out_channel) // m
        k = dw[:, :, source, int(out_channel) % m]
        x_mean = np.asarray(layer_input, np.float64)[:, :, source]
    else:
        k = averaged_kernel(layer, out_channel)
        x_mean = np.asarray(layer_input, np.float64).mean(axis=-1)
    size = max(int(fft_size), *k.shape)
    return KernelView(
        layer=key, out_channel=int(out_channel), in_channels=int(np.shape(layer_input)[-1]),
        input_mean=x_mean, kernel_mean=k, kernel_magnitude=magnitude(spectrum(k, size)),
        approx=correlate_like_layer(x_mean, k, layer),
        actual=np.asarray(layer_output, np.float64)[:, :, out_channel], source_channel=source,
    )
