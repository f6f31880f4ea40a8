"""Batches of augmented training windows, drawn afresh each epoch.

Every clip contributes the same number of windows per epoch, so a long
recording does not outweigh a short one; class imbalance is handled by the
loss weights (see ``training.train_audio``). Batch ``i`` of epoch ``e`` depends
only on ``(seed, e, i)``, so a run is repeatable. A ``mel`` model gets log-mel
features (masked here); a ``leaf`` model gets the augmented audio and computes
(and masks) its features itself, its masks drawn from TensorFlow's random
state (seeded by the run, but not tied to the batch).
"""

from __future__ import annotations

import numpy as np

from sensing.features import FeatureSettings
from training.tf_setup import keras
from training.windows import AugmentSettings, TrainingClip, augmented_window, masked_features


class WindowBatches(keras.utils.Sequence):
    """A Keras ``Sequence`` of ``(inputs, one_hot)`` batches.

    Inputs have shape (batch, window_frames, n_mels, 3) for the ``mel`` frontend
    and (batch, window_samples) for ``leaf``; labels (batch, n_classes).
    """

    def __init__(self, clips: list[TrainingClip], *, mix_pool: list[TrainingClip], n_classes: int,
                 windows_per_clip: int, batch_size: int, seed: int,
                 settings: FeatureSettings, augment: AugmentSettings, frontend: str = "mel") -> None:
        super().__init__()
        self.frontend = frontend
        self.clips = clips
        self.mix_pool = mix_pool
        self.n_classes = n_classes
        self.windows_per_clip = windows_per_clip
        self.batch_size = batch_size
        self.seed = seed
        self.settings = settings
        self.augment = augment
        self.epoch = 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        rng = np.random.default_rng((self.seed, self.epoch))
        return rng.permutation(np.repeat(np.arange(len(self.clips)), self.windows_per_clip))

    def __len__(self) -> int:
        return int(np.ceil(self._order.size / self.batch_size))

    def __getitem__(self, index: int):
        rng = np.random.default_rng((self.seed, self.epoch, index))
        members = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        features = np.stack([self._window(self.clips[m], rng) for m in members])
        labels = np.eye(self.n_classes, dtype=np.float32)[[self.clips[m].class_index for m in members]]
        return features, labels

    def _window(self, clip: TrainingClip, rng: np.random.Generator) -> np.ndarray:
        """One augmented training window: masked log-mel features, or audio for ``leaf``."""
        window = augmented_window(clip, rng=rng, mix_pool=self.mix_pool, settings=self.settings,
                                  augment=self.augment)
        if self.frontend == "leaf":
            return window
        return masked_features(window, rng=rng, settings=self.settings, augment=self.augment)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._epoch_order()
