"""The output head of a classifier: softmax, sigmoid or raw scores.

Explanations differentiate either a class probability or its logit (the
score before the final softmax).  :func:`detect_head` finds how the model ends;
:func:`logits_model` builds the same model without its final softmax or
sigmoid, sharing every layer but the last (whose weights are copied into a
linear twin when the activation lives inside it, e.g.
``Dense(..., activation="softmax")``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import FlatGraph


@dataclass(frozen=True)
class Head:
    """How a model's output is produced.

    Attributes:
        kind: ``"softmax"``, ``"sigmoid"`` or ``"linear"`` (no squashing).
        location: ``"activation"`` (the last layer's own activation),
            ``"layer"`` (a separate ``Softmax``/``Activation`` layer) or ``None``.
        layer: Key of the layer that applies it (or ``None``).
    """

    kind: str
    location: str | None
    layer: str | None

    @property
    def has_softmax(self) -> bool:
        return self.kind == "softmax"

    def describe(self) -> str:
        if self.kind == "linear":
            return "the model has no final softmax or sigmoid; its raw outputs are used"
        where = "the activation of" if self.location == "activation" else "the separate layer"
        return f"final {self.kind} in {where} {self.layer!r}"


def _activation_name(fn) -> str:
    if fn is None:
        return "linear"
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return name.lower()


def detect_head(graph: FlatGraph) -> Head:
    """Find the final softmax/sigmoid of a single-output model's flat graph."""
    if len(graph.model.outputs) != 1:
        raise ValueError(f"the model has {len(graph.model.outputs)} outputs; choose one to explain")
    out = graph.model.outputs[0]
    node = next((n for n in reversed(graph.nodes) if any(t is out for t in n.outputs)), None)
    if node is None:
        return Head("linear", None, None)
    layer = node.layer
    type_name = type(layer).__name__
    if type_name == "Softmax":
        return Head("softmax", "layer", node.key)
    if type_name == "Activation":
        name = _activation_name(layer.activation)
        if name in ("softmax", "sigmoid"):
            return Head(name, "layer", node.key)
        return Head("linear", None, None)
    name = _activation_name(getattr(layer, "activation", None))
    if name in ("softmax", "sigmoid"):
        return Head(name, "activation", node.key)
    return Head("linear", None, None)


def logits_model(graph: FlatGraph, head: Head | None = None):
    """A Keras model from the inputs to the scores before the final softmax/sigmoid.

    For ``head.kind == "linear"`` this is the model itself.
    """
    import keras

    head = head or detect_head(graph)
    if head.kind == "linear":
        return graph.model
    node = graph[head.layer]
    if len(node.inputs) != 1:
        raise ValueError(f"the output layer {head.layer!r} has {len(node.inputs)} inputs")
    if head.location == "layer":
        return keras.Model(graph.inputs, node.inputs[0], name=f"{graph.model.name}_logits")
    layer = node.layer
    config = dict(layer.get_config())
    config["activation"] = "linear"
    config["name"] = f"{layer.name}_logits"
    twin = type(layer).from_config(config)
    twin.build(node.inputs[0].shape)
    twin.set_weights(layer.get_weights())
    return keras.Model(graph.inputs, twin(node.inputs[0]), name=f"{graph.model.name}_logits")


def class_gradient(model):
    """``(x, targets) -> (scores (N, K), d scores[n, targets[n]] / d x[n])`` for ``model``, uncompiled.

    One tape over the whole batch; callers wrap it in a ``tf.function`` with their own signature and
    cache (the model registry per entry, the attribution methods per model).
    """
    import tensorflow as tf

    def fn(x, targets):
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = model(x, training=False)
            picked = tf.gather(scores, targets, axis=1, batch_dims=1)
        return scores, tape.gradient(picked, x)

    return fn
