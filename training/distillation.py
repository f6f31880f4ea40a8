"""Training targets that lean on a teacher model: knowledge distillation for fine-tuning.

A pruned network recovers better when it learns from the dense model it came from as well as
from the labels: each training target becomes ``(1 - weight) * label + weight * teacher scores``
for the same augmented input (Hinton et al., 2015, at temperature 1: the teacher's softmax
outputs as they are).
"""

from __future__ import annotations

from training.tf_setup import keras, tf


class DistilledWindows:
    """``windows`` (with ``dataset(epoch, context)`` yielding ``(inputs, one_hot, sample_weight)``
    batches, and ``steps_per_epoch``) with each batch's targets mixed with ``teacher``'s scores.

    Args:
        windows: the training batches (:class:`training.audio.window_stream.TrainingWindows` or
            :class:`training.radar.batches.EpochBatches`).
        teacher: a model of the same inputs and classes, outputs summing to 1 (softmax); never trained.
        weight: share of each target taken from the teacher, in (0, 1].
    """

    def __init__(self, windows, teacher: keras.Model, weight: float) -> None:
        self.windows = windows
        self.teacher = teacher
        self.weight = weight

    @property
    def steps_per_epoch(self) -> int:
        return int(self.windows.steps_per_epoch)

    def dataset(self, epoch: int, context: tf.distribute.InputContext) -> tf.data.Dataset:
        """The windows' epoch ``epoch`` with distilled targets (same inputs, order and weights)."""
        teacher, weight = self.teacher, self.weight

        def distilled(inputs, target, sample_weight):
            scores = tf.cast(teacher(inputs, training=False), target.dtype)
            return inputs, (1.0 - weight) * target + weight * scores, sample_weight

        return self.windows.dataset(epoch, context).map(distilled)
