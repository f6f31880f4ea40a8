"""Learnable first-order pre-emphasis: ``y[t] = x[t] - c * x[t - 1]`` (x[-1] = 0)."""

from __future__ import annotations

from training.leaf.constraints import Between
from training.tf_setup import keras, tf


@keras.saving.register_keras_serializable(package="sensing_leaf")
class PreEmphasis(keras.layers.Layer):
    """Input and output (batch, samples, 1) float32; one learnable coefficient in [0, 1].

    Args:
        coefficient: initial value of ``c``.
    """

    def __init__(self, coefficient: float = 0.97, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial_coefficient = float(coefficient)

    def build(self, input_shape) -> None:
        self.coefficient = self.add_weight(
            name="coefficient",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_coefficient),
            constraint=Between(0.0, 1.0),
        )
        super().build(input_shape)

    def call(self, inputs):
        previous = tf.pad(inputs[:, :-1], [[0, 0], [1, 0], [0, 0]])
        return inputs - self.coefficient * previous

    def get_config(self) -> dict:
        return {**super().get_config(), "coefficient": self.initial_coefficient}


PREEMPHASIS_LAYER = "leaf_preemphasis"
"""Name of the pre-emphasis layer in a classifier that has one."""


def preemphasis_coefficient(classifier: keras.Model) -> float | None:
    """The learned coefficient of ``classifier``'s pre-emphasis, or None when it has none."""
    if PREEMPHASIS_LAYER not in [layer.name for layer in classifier.layers]:
        return None
    return float(classifier.get_layer(PREEMPHASIS_LAYER).coefficient.numpy())
