"""Layer sensitivity: how the input influences an intermediate layer.

The gradient with respect to the input of the sum of a layer's output (all
channels, or one channel): ``∂ Σ_ij A_ijk / ∂x``.  The target class plays no
part (the contract's ``targets`` are accepted and ignored).

References:
    Simonyan, K., Vedaldi, A. and Zisserman, A. (2014). Deep inside
    convolutional networks: visualising image classification models and
    saliency maps. ICLR workshop (gradients of inner units).
"""

from __future__ import annotations

import numpy as np

from .base import Attribution, cached_for, chunked, input_shape_of
from .gradcam import default_layer, split_at


def _sensitivity_fn(model, key: str, channel: int):
    import tensorflow as tf

    def build():
        a_model, _ = split_at(model, key)

        def fn(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                a = a_model(x, training=False)
                total = tf.reduce_sum(a if channel < 0 else a[..., channel])
            return tape.gradient(total, x)

        return tf.function(fn, input_signature=[tf.TensorSpec((None, *input_shape_of(model)), tf.float32)],
                           reduce_retracing=True)

    return cached_for(model, ("sensitivity", key, channel), build)


class LayerSensitivity(Attribution):
    """Input gradient of a layer's summed output.

    Args:
        layer: Layer key (default: the last layer with a spatial output).
        channel: Channel to sum (``-1``: all channels).
    """

    def __init__(self, model, *, layer: str | None = None, channel: int = -1, **kwargs):
        super().__init__(model, **kwargs)
        self.layer = layer or default_layer(model)
        a_model, _ = split_at(model, self.layer)
        channels = int(a_model.outputs[0].shape[-1])
        self.channel = int(channel)
        if not -1 <= self.channel < channels:
            raise ValueError(f"channel must be -1 (all) or 0..{channels - 1}, got {channel}")

    def _explain(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return chunked(_sensitivity_fn(self.model, self.layer, self.channel), (x,), self.batch_size)[0]
