"""Batches of sleep-classifier inputs, some with their context cut as at a recording's edge.

A simulated night always starts and ends with the sleeper out of the room,
so without help the model would only ever see an epoch with missing context
(the first and last two of a recording) labelled ``absent``. A real recording
may start or stop with the sleeper in bed. Each input is therefore, with
probability ``edge_probability`` per side, given the zeros a recording edge
leaves: the steps before (or after) a random cut within the context are set
to 0, as :func:`~sensing.radar.sleep_input.model_input` sets steps outside a
recording. Batch ``i`` of pass ``e`` depends only on ``(seed, e, i)``.
"""

from __future__ import annotations

import numpy as np

from sensing.radar.processing import RadarFeatureSettings
from training.tf_setup import keras

EDGE_PROBABILITY = 0.1
"""Chance, per side, that an input's context is cut as at a recording's start (or end)."""
EDGE_MARGIN_STEPS = 2
"""Steps beyond the context epochs that a recording's edge also empties (half an STFT window)."""


class EpochBatches(keras.utils.Sequence):
    """A Keras ``Sequence`` of ``(inputs, one_hot)`` batches over the training epochs, reshuffled each pass.

    Args:
        inputs: (epochs, time steps, frequencies, 3) float32 classifier inputs.
        labels: (epochs,) class indices.
        n_classes: number of labels.
        batch_size: epochs per batch.
        seed: fixes the order and the cuts.
        settings: the radar settings the inputs were made with (their time steps).
        edge_probability: chance per side of cutting an input's context.
    """

    def __init__(self, inputs: np.ndarray, labels: np.ndarray, *, n_classes: int, batch_size: int, seed: int,
                 settings: RadarFeatureSettings, edge_probability: float = EDGE_PROBABILITY) -> None:
        super().__init__()
        self.inputs, self.labels = inputs, labels
        self.n_classes, self.batch_size, self.seed = n_classes, batch_size, seed
        self.edge_probability = edge_probability
        self.data_steps = settings.tensor_shape[2]
        self.max_cut = (settings.context_epochs // 2) * settings.steps_per_epoch + EDGE_MARGIN_STEPS
        self.epoch = 0
        self._order = self._pass_order()

    def _pass_order(self) -> np.ndarray:
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.inputs))

    def __len__(self) -> int:
        return int(np.ceil(len(self.inputs) / self.batch_size))

    def __getitem__(self, index: int):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        members = np.sort(self._order[index * self.batch_size:(index + 1) * self.batch_size])
        batch = self.inputs[members].copy()
        for row, cuts in enumerate(rng.integers(1, self.max_cut + 1, size=(len(members), 2))):
            start_cut, end_cut = rng.random(2) < self.edge_probability
            if start_cut:
                batch[row, :cuts[0]] = 0.0
            if end_cut:
                batch[row, self.data_steps - cuts[1]:self.data_steps] = 0.0
        return batch, np.eye(self.n_classes, dtype=np.float32)[self.labels[members]]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._pass_order()
