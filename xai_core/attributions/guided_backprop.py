"""Guided backpropagation for ReLU networks.

The gradient is taken through a copy of the model (sharing its weights) in
which every ReLU passes back only positive gradients where its input was
positive: ``∂/∂x_in = [x_in > 0] · [g > 0] · g``.  ReLU layers and layers with a
``relu`` activation (e.g. ``Dense(..., activation="relu")``, rebuilt with a
linear twin followed by the guided ReLU) are replaced.

References:
    Springenberg, J. T., Dosovitskiy, A., Brox, T. and Riedmiller, M. (2015).
    Striving for simplicity: the all convolutional net. ICLR workshop.
"""

from __future__ import annotations

import numpy as np

from .base import Attribution, cached_for, gradient_fn


def _guided_relu_layer():
    import keras
    import tensorflow as tf

    @tf.custom_gradient
    def guided_relu(x):
        def grad(dy):
            return dy * tf.cast(dy > 0, dy.dtype) * tf.cast(x > 0, dy.dtype)
        return tf.nn.relu(x), grad

    class GuidedReLU(keras.layers.Layer):
        def call(self, x):
            return guided_relu(x)

    return GuidedReLU


def _is_relu_layer(layer) -> bool:
    name = type(layer).__name__
    if name == "ReLU":
        cfg = layer.get_config()
        return not cfg.get("max_value") and not cfg.get("negative_slope") and not cfg.get("threshold")
    if name == "Activation":
        act = getattr(layer.activation, "__name__", "")
        return act == "relu"
    return False


def _has_relu_activation(layer) -> bool:
    if type(layer).__name__ == "Activation":
        return False
    return getattr(getattr(layer, "activation", None), "__name__", "") == "relu"


def guided_model(model):
    """A copy of ``model`` (shared weights) with guided ReLUs; cached per model."""
    def build():
        import keras

        from ..graph import flatten

        graph = flatten(model)
        guided_cls = _guided_relu_layer()
        new_inputs = [keras.Input(batch_shape=t.shape, dtype=t.dtype) for t in graph.inputs]
        mapping = {id(old): new for old, new in zip(graph.inputs, new_inputs)}

        def sub(t):
            return mapping.get(id(t), t) if isinstance(t, keras.KerasTensor) else t

        for n in graph.nodes:
            if type(n.layer).__name__ == "InputLayer":
                for old in n.outputs:
                    mapping.setdefault(id(old), mapping.get(id(n.inputs[0])) if n.inputs else new_inputs[0])
                continue
            args = keras.tree.map_structure(sub, n.call_args)
            kwargs = keras.tree.map_structure(sub, n.call_kwargs)
            if _is_relu_layer(n.layer):
                out = guided_cls(name=f"{n.layer.name}_guided")(args[0])
            elif _has_relu_activation(n.layer):
                config = dict(n.layer.get_config(), activation="linear", name=f"{n.layer.name}_linear")
                twin = type(n.layer).from_config(config)
                twin.build(n.inputs[0].shape)
                twin.set_weights(n.layer.get_weights())
                out = guided_cls(name=f"{n.layer.name}_guided")(twin(*args, **kwargs))
            else:
                out = n.layer(*args, **kwargs)
            for old, new in zip(n.outputs, keras.tree.flatten(out)):
                mapping[id(old)] = new
        outs = [mapping[id(t)] for t in graph.model.outputs]
        return keras.Model(new_inputs[0], outs[0], name=f"{model.name}_guided")

    return cached_for(model, "guided_model", build)


class GuidedBackprop(Attribution):
    """Guided backpropagation (Springenberg et al. 2015) for ReLU networks.

    On a model without ReLUs it is the plain gradient.
    """

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        from .base import chunked

        return chunked(gradient_fn(guided_model(self.model)), (x, t), self.batch_size)[1]
