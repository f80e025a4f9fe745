"""Split a CNN into its leading linear convolution stack g and the rest h.

A network whose first layers are convolutions without bias, activation,
pooling or stride is, up to those layers, one linear filter bank:
``y = h(g(x))`` with ``g`` linear.  :func:`split_linear_stack` finds the longest
such prefix on the flattened graph and returns ``g`` and ``h`` as Keras models
sharing the original weights, plus the effective kernels of ``g``'s layers.

A layer belongs to ``g`` when it is a ``Conv2D``, ``DepthwiseConv2D`` or
``SeparableConv2D`` with ``padding="same"``, strides 1, dilation 1, no bias and
a linear activation, and its input is the previous layer of ``g`` (or the
model input).  ``InputLayer`` nodes are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .graph import SPATIAL_CONV_TYPES, FlatGraph, effective_kernel


class NotALinearStack(ValueError):
    """The model does not start with a linear convolution stack; the message says why."""


@dataclass
class LinearSplit:
    """``y = h(g(x))`` with ``g`` the leading linear convolution stack."""

    graph: FlatGraph
    conv_keys: list[str]
    kernels: list[np.ndarray]  # effective (kh, kw, C_in, C_out) per layer of g
    g: object  # keras.Model: input -> output of the last layer of g
    h: object  # keras.Model: g's output -> model output

    @property
    def split_key(self) -> str:
        return self.conv_keys[-1]

    @property
    def n_kernels(self) -> int:
        """Number of 2-D kernel slices in g (e.g. 32 + 32*64 + 64*128 for mnist17)."""
        return int(sum(k.shape[2] * k.shape[3] for k in self.kernels))


def _why_not_linear(node) -> str | None:
    layer = node.layer
    name = type(layer).__name__
    if name not in SPATIAL_CONV_TYPES:
        return f"{node.key!r} is a {name}, not a convolution"
    cfg = layer.get_config()
    act = cfg.get("activation", "linear")
    if isinstance(act, dict):
        act = act.get("config", {}).get("name", str(act))
    if act not in ("linear", None):
        return f"{node.key!r} has the activation {act!r}"
    if cfg.get("use_bias", False):
        return f"{node.key!r} has a bias (g would be affine, not linear)"
    if tuple(cfg.get("strides", (1, 1))) != (1, 1):
        return f"{node.key!r} has strides {tuple(cfg['strides'])}"
    if tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1):
        return f"{node.key!r} has dilation {tuple(cfg['dilation_rate'])}"
    if cfg.get("padding") != "same":
        return f"{node.key!r} uses padding {cfg.get('padding')!r} instead of 'same'"
    return None


def split_linear_stack(graph: FlatGraph) -> LinearSplit:
    """Find ``g`` (leading linear convolutions) and ``h`` (the rest) of a flattened model.

    Raises:
        NotALinearStack: if the model has several inputs, or its first layer
            does not qualify (the message names the layer and the reason).
    """
    import keras

    if len(graph.inputs) != 1:
        raise NotALinearStack(f"the model has {len(graph.inputs)} inputs; Fourier-Net needs one image input")
    current = graph.inputs[0]
    keys: list[str] = []
    reason = None
    for node in graph.nodes:
        if type(node.layer).__name__ == "InputLayer":
            continue
        if len(node.inputs) != 1 or node.inputs[0] is not current:
            reason = f"{node.key!r} does not take the previous convolution's output"
            break
        reason = _why_not_linear(node)
        if reason:
            break
        keys.append(node.key)
        current = node.outputs[0]
    if not keys:
        raise NotALinearStack(f"the model does not start with a linear convolution: {reason}")
    if keys[-1] == graph.nodes[-1].key:
        raise NotALinearStack("the whole model is a linear convolution stack; there is no head h to split off")
    g = keras.Model(graph.inputs[0], graph[keys[-1]].outputs[0], name="g")
    h = graph.rebuild(keys[-1], name="h")
    kernels = [effective_kernel(graph[k].layer).astype(np.float64) for k in keys]
    return LinearSplit(graph, keys, kernels, g, h)
