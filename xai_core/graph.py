"""Walk a Keras model as one flat graph of layers.

Transfer-learning models nest whole models as layers (a Keras Applications
base inside a functional model, a Sequential inside a Sequential).  Tools that
only look at ``model.layers`` then see one opaque "layer" and cannot reach its
convolutions.  :func:`flatten` re-runs the model's graph on fresh symbolic
inputs, descending into every nested Functional or Sequential model, and
returns a :class:`FlatGraph` whose layers are the leaves, each with the
symbolic tensors that flow into and out of it.  The layers (and so the
weights) are shared with the original model, nothing is copied.

Layer keys are paths: ``"conv1"`` for a top-level layer, ``"base/block_1_conv"``
for a layer inside a nested model called ``base``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CONV_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv1D", "Conv3D", "Conv2DTranspose")
SPATIAL_CONV_TYPES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
DENSE_TYPES = ("Dense", "EinsumDense")


class GraphError(ValueError):
    """The model cannot be walked as a graph (e.g. a subclassed model)."""


@dataclass
class LayerNode:
    """One leaf layer of a flattened model."""

    key: str
    layer: object
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    call_args: tuple = ()
    call_kwargs: dict = field(default_factory=dict)

    @property
    def type_name(self) -> str:
        return type(self.layer).__name__

    @property
    def kind(self) -> str:
        return layer_kind(self.layer)


@dataclass
class FlatGraph:
    """A model flattened to its leaf layers (see the module docstring)."""

    model: object
    nodes: list[LayerNode]
    inputs: list

    def __post_init__(self):
        self._by_key = {n.key: n for n in self.nodes}

    def __getitem__(self, key: str) -> LayerNode:
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"no layer {key!r}; layers are {list(self._by_key)}") from None

    def keys(self) -> list[str]:
        return [n.key for n in self.nodes]

    def conv_nodes(self, spatial_only: bool = True) -> list[LayerNode]:
        types = SPATIAL_CONV_TYPES if spatial_only else CONV_TYPES
        return [n for n in self.nodes if n.type_name in types]

    def submodel(self, outputs: list[str] | str, *, layer_inputs: bool = False):
        """A Keras model from the flat inputs to the outputs (or inputs) of layers."""
        import keras

        keys = [outputs] if isinstance(outputs, str) else list(outputs)
        tensors = []
        for k in keys:
            node = self[k]
            src = node.inputs if layer_inputs else node.outputs
            if len(src) != 1:
                raise GraphError(f"layer {k!r} has {len(src)} {'inputs' if layer_inputs else 'outputs'}")
            tensors.append(src[0])
        return keras.Model(self.inputs, tensors[0] if isinstance(outputs, str) else tensors)

    def rebuild(self, start: str, name: str | None = None):
        """The rest of the model after layer ``start``: a Keras model from a new input
        shaped like ``start``'s output to the model's outputs.

        Every layer after ``start`` is called again (sharing its weights) on the
        new symbolic input; layers that do not depend on ``start``'s output are
        not allowed (their inputs would be missing).
        """
        import keras

        node = self[start]
        if len(node.outputs) != 1:
            raise GraphError(f"layer {start!r} has {len(node.outputs)} outputs")
        src = node.outputs[0]
        new_input = keras.Input(batch_shape=src.shape, dtype=src.dtype, name=f"{start.replace('/', '_')}_out")
        mapping = {id(src): new_input}
        after = self.nodes[self.nodes.index(node) + 1:]
        for n in after:
            if not all(id(t) in mapping for t in n.inputs):
                missing = [t.name for t in n.inputs if id(t) not in mapping]
                raise GraphError(f"layer {n.key!r} needs {missing}, which do not come from {start!r}")

            def sub(t):
                return mapping.get(id(t), t) if isinstance(t, keras.KerasTensor) else t

            args = keras.tree.map_structure(sub, n.call_args)
            kwargs = keras.tree.map_structure(sub, n.call_kwargs)
            out = n.layer(*args, **kwargs)
            for old, new in zip(n.outputs, keras.tree.flatten(out)):
                mapping[id(old)] = new
        outs = [mapping[id(t)] for t in self.model.outputs]
        name = name or f"after_{start.replace('/', '_')}"  # Keras refuses "/" in names (nested keys have it)
        return keras.Model(new_input, outs[0] if len(outs) == 1 else outs, name=name)


def layer_kind(layer) -> str:
    """``"conv"``, ``"dense"`` or ``"other"`` by the layer's class (and its bases)."""
    names = {cls.__name__ for cls in type(layer).__mro__}
    if names & set(CONV_TYPES):
        return "conv"
    if names & set(DENSE_TYPES):
        return "dense"
    return "other"


def _graph_of(model):
    """The Functional graph behind a Functional or Sequential model, else None."""
    import keras
    from keras.src.models.functional import Functional

    if isinstance(model, keras.Sequential):
        if getattr(model, "_functional", None) is None:
            if not model.layers:
                raise GraphError(f"Sequential model {model.name!r} has no layers")
            raise GraphError(
                f"Sequential model {model.name!r} was never built; call it on an input "
                "(or give it a keras.Input) before saving"
            )
        return model._functional
    if isinstance(model, Functional):
        return model
    return None


def flatten(model) -> FlatGraph:
    """Flatten ``model`` (Functional or Sequential, possibly nested) to its leaf layers.

    Raises:
        GraphError: for a subclassed model (no graph to walk) or an unbuilt
            Sequential model.
    """
    import keras

    graph = _graph_of(model)
    if graph is None:
        raise GraphError(
            f"{type(model).__name__} {getattr(model, 'name', '')!r} is a subclassed model; "
            "only Functional and Sequential models have a graph KernelScope can walk"
        )
    nodes: list[LayerNode] = []
    used: set[str] = set()

    def unique(key: str) -> str:
        out, i = key, 1
        while out in used:
            i += 1
            out = f"{key}_{i}"
        used.add(out)
        return out

    def run(fn_model, inputs, prefix: str):
        g = _graph_of(fn_model)

        def operation_fn(op):
            inner = _graph_of(op) if isinstance(op, keras.Model) else None
            if inner is not None:
                def call_nested(*args, **kwargs):
                    x = args[0] if len(args) == 1 else list(args)
                    return run(op, x, f"{prefix}{op.name}/")
                return call_nested

            def call_leaf(*args, **kwargs):
                out = op(*args, **kwargs)
                ins = [t for t in keras.tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
                nodes.append(LayerNode(unique(prefix + op.name), op, ins, keras.tree.flatten(out),
                                       tuple(args), dict(kwargs)))
                return out
            return call_leaf

        return g._run_through_graph(inputs, operation_fn=operation_fn)

    new_inputs = [keras.Input(batch_shape=t.shape, dtype=t.dtype, name=t.name) for t in graph.inputs]
    outputs = run(model, new_inputs if len(new_inputs) > 1 else new_inputs[0], "")
    flat = keras.Model(new_inputs if len(new_inputs) > 1 else new_inputs[0], outputs,
                       name=f"{model.name}_flat")
    return FlatGraph(flat, nodes, flat.inputs)


def effective_kernel(layer) -> np.ndarray:
    """The full ``(kh, kw, C_in, C_out)`` linear kernel of a 2-D convolution layer.

    * ``Conv2D``: its kernel.
    * ``DepthwiseConv2D`` (depth multiplier ``m``): output channel ``c * m + j``
      sees only input channel ``c`` through ``depthwise[:, :, c, j]``.
    * ``SeparableConv2D``: depthwise then pointwise,
      ``K[:, :, c, o] = sum_j depthwise[:, :, c, j] * pointwise[0, 0, c * m + j, o]``.

    Bias, activation, strides and dilation are not part of the kernel.
    """
    name = type(layer).__name__
    if name == "SeparableConv2D":
        dw = np.asarray(layer.depthwise_kernel)
        pw = np.asarray(layer.pointwise_kernel)[0, 0]
        kh, kw, cin, m = dw.shape
        return np.einsum("hwcj,cjo->hwco", dw, pw.reshape(cin, m, -1))
    if name == "DepthwiseConv2D":
        dw = np.asarray(layer.kernel)
        kh, kw, cin, m = dw.shape
        full = np.zeros((kh, kw, cin, cin * m), dtype=dw.dtype)
        for c in range(cin):
            full[:, :, c, c * m: (c + 1) * m] = dw[:, :, c, :]
        return full
    if name in ("Conv2D",) or hasattr(layer, "kernel") and np.ndim(layer.kernel) == 4:
        return np.asarray(layer.kernel)
    raise GraphError(f"{name} {layer.name!r} is not a 2-D convolution with a kernel")


def conv_config(layer) -> dict:
    """Strides, padding, dilation and activation of a convolution layer, for display."""
    cfg = layer.get_config()
    return {
        "strides": tuple(cfg.get("strides", (1, 1))),
        "padding": cfg.get("padding", "valid"),
        "dilation_rate": tuple(cfg.get("dilation_rate", (1, 1))),
        "activation": cfg.get("activation", "linear"),
        "use_bias": bool(cfg.get("use_bias", False)),
    }
