"""Batches of sleep-classifier inputs on ``tf.data``, some with their context cut as at a recording's edge.

A simulated night always starts and ends with the sleeper out of the room,
so without help the model would only ever see an epoch with missing context
(the first and last two of a recording) labelled ``absent``. A real recording
may start or stop with the sleeper in bed. Each input is therefore, with
probability ``edge_probability`` per side, given the zeros a recording edge
leaves: the steps before (or after) a random cut within the context are set
to 0, as :func:`~sensing.radar.sleep.input.model_input` sets steps outside a
recording. Pass ``e`` is a permutation of the training epochs made from
``(seed, e)``, filled up to whole global batches, and every cut is a
stateless draw from ``(seed, e, position)``: the same with one replica or
several, and after a resume (see :mod:`training.audio.window_stream` for how the
batches are shared between workers and replicas).
"""

from __future__ import annotations

import math

import numpy as np

from sensing.radar.processing import RadarFeatureSettings
from training.stateless import seeds
from training.tf_setup import tf

EDGE_PROBABILITY = 0.1
"""Chance, per side, that an input's context is cut as at a recording's start (or end)."""
EDGE_MARGIN_STEPS = 2
"""Steps beyond the context epochs that a recording's edge also empties (half an STFT window)."""


class EpochBatches:
    """``(inputs, one_hot, sample_weight)`` batches over the training epochs, reshuffled each pass.

    Args:
        inputs: (epochs, time steps, frequencies, 3) float32 classifier inputs.
        labels: (epochs,) class indices.
        n_classes: number of labels.
        global_batch: epochs per step over all replicas.
        seed: fixes the order and the cuts.
        settings: the radar settings the inputs were made with (their time steps).
        class_weight: loss weight per class index, carried as each input's sample weight.
        edge_probability: chance per side of cutting an input's context.
    """

    def __init__(
        self,
        inputs: np.ndarray,
        labels: np.ndarray,
        *,
        n_classes: int,
        global_batch: int,
        seed: int,
        settings: RadarFeatureSettings,
        class_weight: dict[int, float],
        edge_probability: float = EDGE_PROBABILITY,
    ) -> None:
        self.inputs, self.labels = inputs, labels
        self.n_classes, self.global_batch, self.seed = n_classes, global_batch, seed
        self.class_weight = class_weight
        self.edge_probability = edge_probability
        self.data_steps = settings.tensor_shape[2]
        self.max_cut = (settings.context_epochs // 2) * settings.steps_per_epoch + EDGE_MARGIN_STEPS
        self.steps_per_epoch = max(1, math.ceil(len(inputs) / global_batch))

    def _order(self, epoch: int) -> np.ndarray:
        order = np.random.default_rng((self.seed, epoch)).permutation(len(self.inputs))
        return np.resize(order, self.steps_per_epoch * self.global_batch)

    def _cut(self, number: tf.Tensor, inputs: tf.Tensor, base: tf.Tensor) -> tf.Tensor:
        start_seed, end_seed, length_seed = seeds(tf.random.experimental.stateless_fold_in(base, number), 3)
        cuts = tf.random.stateless_uniform([2], length_seed, 1, self.max_cut + 1, dtype=tf.int32)
        steps = tf.range(tf.shape(inputs)[0])
        start_cut = tf.random.stateless_uniform([], start_seed) < self.edge_probability
        end_cut = tf.random.stateless_uniform([], end_seed) < self.edge_probability
        emptied = (start_cut & (steps < cuts[0])) | (
            end_cut & (steps >= self.data_steps - cuts[1]) & (steps < self.data_steps)
        )
        return tf.where(emptied[:, None, None], 0.0, inputs)

    def dataset(self, epoch: int, context: tf.distribute.InputContext) -> tf.data.Dataset:
        """Pass ``epoch`` (0-based) for one input pipeline, batched per replica."""
        base = tf.constant([self.seed, epoch], dtype=tf.int64)
        weights = tf.constant([self.class_weight[i] for i in range(self.n_classes)], tf.float32)
        shape = self.inputs.shape[1:]

        def element(number, index):
            inputs = tf.numpy_function(lambda i: self.inputs[i], [index], tf.float32)
            inputs.set_shape(shape)
            label = tf.numpy_function(lambda i: self.labels[i].astype(np.int64), [index], tf.int64)
            label.set_shape([])
            return (
                self._cut(number, inputs, base),
                tf.one_hot(label, self.n_classes),
                tf.gather(weights, label),
            )

        per_replica = context.get_per_replica_batch_size(self.global_batch)
        return (
            tf.data.Dataset.from_tensor_slices(self._order(epoch))
            .enumerate()
            .shard(context.num_input_pipelines, context.input_pipeline_id)
            .map(element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(per_replica, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE)
        )
