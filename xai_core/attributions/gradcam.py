"""Grad-CAM and Grad-CAM++: class activation maps from a convolution layer's gradients.

For feature maps ``A`` (h, w, K) of a chosen layer and the class score ``y``:

* Grad-CAM: ``α_k = mean_ij ∂y/∂A_ijk``, ``CAM = Σ_k α_k A_k``, optionally
  ``ReLU``-clamped (off shows the negative evidence too);
* Grad-CAM++: ``α_k = Σ_ij a_ijk ReLU(∂y/∂A_ijk)`` with
  ``a = g² / (2 g² + Σ_ij A · g³)`` (``g = ∂y/∂A``).

The map is upsampled bilinearly to the input size and repeated over the input
channels, so it has the contract's ``(N, H, W, C)`` shape.

References:
    Selvaraju, R. R., Cogswell, M., Das, A., Vedantam, R., Parikh, D. and
    Batra, D. (2017). Grad-CAM: visual explanations from deep networks via
    gradient-based localization. ICCV.
    Chattopadhay, A., Sarkar, A., Howlader, P. and Balasubramanian, V. N.
    (2018). Grad-CAM++: generalized gradient-based visual explanations for deep
    convolutional networks. WACV.
"""

from __future__ import annotations

import numpy as np

from .base import Attribution, cached_for, input_shape_of


def spatial_layers(model) -> list[str]:
    """Keys of the flattened model's layers with a 4-D output after the input (Grad-CAM candidates)."""
    def build():
        from ..graph import flatten

        graph = flatten(model)
        keys = []
        for node in graph.nodes:
            if type(node.layer).__name__ == "InputLayer" or len(node.outputs) != 1:
                continue
            if len(node.outputs[0].shape) == 4:
                keys.append(node.key)
        return keys

    return cached_for(model, "spatial_layers", build)


def default_layer(model) -> str:
    """The last layer with a 4-D output."""
    keys = spatial_layers(model)
    if not keys:
        raise ValueError("the model has no layer with a (h, w, channels) output")
    return keys[-1]


def split_at(model, key: str):
    """``(a, h)``: input -> layer ``key``'s output, and that output -> model output (cached)."""
    def build():
        from ..graph import flatten

        graph = flatten(model)
        return graph.submodel(key), graph.rebuild(key)

    if key not in spatial_layers(model):
        raise ValueError(f"layer must be one of {', '.join(spatial_layers(model))}, got {key!r}")
    return cached_for(model, ("split", key), build)


def _cam_fn(model, key: str, plus: bool, relu: bool):
    import tensorflow as tf

    shape = input_shape_of(model)

    def build():
        a_model, h_model = split_at(model, key)

        def fn(x, t):
            feats = a_model(x, training=False)
            with tf.GradientTape() as tape:
                tape.watch(feats)
                scores = h_model(feats, training=False)
                picked = tf.gather(scores, t, axis=1, batch_dims=1)
            g = tape.gradient(picked, feats)
            if plus:
                g2, g3 = g * g, g * g * g
                denom = 2.0 * g2 + tf.reduce_sum(feats, axis=(1, 2), keepdims=True) * g3
                a = g2 / tf.where(denom != 0.0, denom, tf.ones_like(denom))
                weights = tf.reduce_sum(a * tf.nn.relu(g), axis=(1, 2))
            else:
                weights = tf.reduce_mean(g, axis=(1, 2))
            cam = tf.einsum("nhwk,nk->nhw", feats, weights)
            if relu:
                cam = tf.nn.relu(cam)
            cam = tf.image.resize(cam[..., None], shape[:2], method="bilinear")
            return tf.repeat(cam, shape[2], axis=-1)

        sig = [tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None,), tf.int32)]
        return tf.function(fn, input_signature=sig, reduce_retracing=True)

    return cached_for(model, ("cam", key, plus, relu), build)


class GradCAM(Attribution):
    """Grad-CAM (Selvaraju et al. 2017).

    Args:
        layer: Key of the layer in the flattened model (default: the last layer
            with a spatial output, see :func:`spatial_layers`).
        relu: Clamp the map at zero (the paper's choice); off keeps negative evidence.
    """

    plus = False

    def __init__(self, model, *, layer: str | None = None, relu: bool = True, **kwargs):
        super().__init__(model, **kwargs)
        self.layer = layer or default_layer(model)
        split_at(model, self.layer)  # validates the key
        self.relu = bool(relu)

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        from .base import chunked

        return chunked(_cam_fn(self.model, self.layer, self.plus, self.relu), (x, t), self.batch_size)[0]


class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++ (Chattopadhay et al. 2018); same options as :class:`GradCAM`."""

    plus = True
