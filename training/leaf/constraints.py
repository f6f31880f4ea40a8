"""The Keras constraint that keeps each frontend parameter in its valid range after every update."""

from __future__ import annotations

from training.tf_setup import keras, tf


@keras.saving.register_keras_serializable(package="sensing_leaf")
class Between(keras.constraints.Constraint):
    """Clips every element of a weight to ``[lower, upper]`` after each optimizer step."""

    def __init__(self, lower: float, upper: float) -> None:
        if not lower <= upper:
            raise ValueError(f"empty range [{lower}, {upper}]")
        self.lower = float(lower)
        self.upper = float(upper)

    def __call__(self, weight):
        return tf.clip_by_value(weight, self.lower, self.upper)

    def get_config(self) -> dict:
        return {"lower": self.lower, "upper": self.upper}
