"""Delta and delta-delta channels in the graph, with the runtime's own regression weights."""

from __future__ import annotations

import numpy as np

from sensing.audio.features import delta_weights
from training.tf_setup import keras, tf


def with_deltas(values: tf.Tensor, width: int) -> tf.Tensor:
    """(batch, frames, bands) -> (batch, frames, bands, 3): values, delta, delta-delta, as
    :func:`sensing.audio.features.window_features` computes them (edge frames repeated, then a
    ``width``-tap regression along time), as one two-output convolution."""
    weights = np.stack([delta_weights(1, width), delta_weights(2, width)], axis=-1)
    kernel = tf.constant(weights[:, None, None, :].astype(np.float32))  # (width, 1, 1, 2)
    half = width // 2
    padded = tf.concat([values[:, :1]] * half + [values] + [values[:, -1:]] * half, axis=1)
    deltas = tf.nn.conv2d(padded[..., None], kernel, strides=1, padding="VALID")
    return tf.concat([values[..., None], deltas], axis=-1)


@keras.saving.register_keras_serializable(package="sensing_leaf")
class FeatureDeltas(keras.layers.Layer):
    """(batch, frames, bands) -> (batch, frames, bands, 3): values, delta, delta-delta.

    :func:`with_deltas` as a layer, so a CNN sees the same kind of input from either frontend.

    Args:
        width: frames in the delta regression window (odd).
    """

    def __init__(self, width: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        self.width = int(width)

    def call(self, inputs):
        return with_deltas(inputs, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "width": self.width}
