"""Delta and delta-delta channels in the graph, with the runtime's own regression weights."""

from __future__ import annotations

import numpy as np

from sensing.features import delta_weights
from training.tf_setup import keras, tf


@keras.saving.register_keras_serializable(package="sensing_leaf")
class FeatureDeltas(keras.layers.Layer):
    """(batch, frames, bands) -> (batch, frames, bands, 3): values, delta, delta-delta.

    The same computation as :func:`sensing.features.window_features` (edge
    frames repeated, then a ``width``-tap regression along time), as one
    two-output convolution, so a CNN sees the same kind of input from either frontend.

    Args:
        width: frames in the delta regression window (odd).
    """

    def __init__(self, width: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        self.width = int(width)

    def build(self, input_shape) -> None:
        weights = np.stack([delta_weights(1, self.width), delta_weights(2, self.width)], axis=-1)
        self.kernel = tf.constant(weights[:, None, None, :].astype(np.float32))  # (width, 1, 1, 2)
        super().build(input_shape)

    def call(self, inputs):
        half = self.width // 2
        padded = tf.concat([inputs[:, :1]] * half + [inputs] + [inputs[:, -1:]] * half, axis=1)
        deltas = tf.nn.conv2d(padded[..., None], self.kernel, strides=1, padding="VALID")
        return tf.concat([inputs[..., None], deltas], axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "width": self.width}
