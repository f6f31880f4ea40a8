"""SpecAugment in the graph, for frontends that compute features inside the model."""

from __future__ import annotations

from training.tf_setup import keras, tf


@keras.saving.register_keras_serializable(package="sensing_leaf")
class FeatureMask(keras.__internal__.layers.BaseRandomLayer):
    """During training only: with ``probability``, one band span and one time span of a
    (batch, frames, bands) window are replaced by the window's mean, as
    :func:`training.audio.augment.masked` does for log-mel windows. At inference
    (and in exported models) the layer passes its input through. Its draws come
    from the layer's own generator, which a run reseeds every epoch
    (:func:`training.checkpoints.reseed_random_layers`).

    Args:
        probability: chance that a window is masked.
        max_bands: widest band mask, in bands.
        max_frames: longest time mask, in frames.
    """

    def __init__(self, probability: float = 0.5, max_bands: int = 6, max_frames: int = 12, **kwargs) -> None:
        super().__init__(**kwargs)
        self.probability = float(probability)
        self.max_bands = int(max_bands)
        self.max_frames = int(max_frames)

    def _span(self, batch, length: int, longest: int):
        """(batch, length) booleans: one random span of 1 to ``longest`` positions per window."""
        width = self._random_generator.random_uniform((batch, 1), 1, longest + 1, dtype=tf.int32)
        uniform = self._random_generator.random_uniform((batch, 1))
        start = tf.cast(uniform * tf.cast(length - width + 1, tf.float32), tf.int32)
        positions = tf.range(length)[None, :]
        return (positions >= start) & (positions < start + width)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        batch = tf.shape(inputs)[0]
        frames, bands = inputs.shape[1], inputs.shape[2]
        chosen = self._random_generator.random_uniform((batch, 1, 1)) < self.probability
        masked = (
            self._span(batch, frames, self.max_frames)[:, :, None]
            | self._span(batch, bands, self.max_bands)[:, None, :]
        ) & chosen
        mean = tf.reduce_mean(inputs, axis=[1, 2], keepdims=True)
        return tf.where(masked, mean, inputs)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "probability": self.probability,
            "max_bands": self.max_bands,
            "max_frames": self.max_frames,
        }
