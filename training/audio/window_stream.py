"""The training input pipeline: augmented windows of the training clips, on ``tf.data``.

Epoch ``e`` is built afresh from ``(seed, e)``: the clips are read in a
shuffled order (:class:`~training.audio.clip_store.ClipSource`: a permutation of
the files, or of the cache's shards read four at a time), each gives
``windows_per_clip`` windows at random candidate positions, the windows pass
through a shuffle buffer, each is paired with a window of a random negative
clip to mix in, numbered, and augmented (:mod:`training.audio.augment`) with seeds
made from its number. An epoch is always ``steps_per_epoch`` full global
batches (a second, reshuffled pass fills the last one). So an epoch's data
is the same whether the run went straight through or was resumed (given the
same clips and the same cache, or none). Each input pipeline (one per
worker) keeps every n-th window of that stream, and each replica takes
per-replica batches of them, so the windows of an epoch do not depend on how
many replicas share them. Memory holds the shuffle buffers and a few
batches, whatever the number of clips.
"""

from __future__ import annotations

import math

import numpy as np

from sensing.audio.features import FeatureSettings, frame_count
from training.audio.augment import BedsideBanks, augmented_input, draw_window
from training.audio.clip_store import STORED_FORMS, ClipSource
from training.audio.windows import AugmentSettings, candidate_starts
from training.stateless import seeds
from training.tf_setup import tf

SHUFFLE_WINDOWS = 1024
"""Windows in each of the two shuffle buffers, training and mix (about 15 MB each of log-mel,
64 MB of audio)."""


def window_starts_table(source: ClipSource, negative_slots: set[int]) -> tf.RaggedTensor:
    """(clips, None) first frames a training window of each clip may start at:
    every candidate for a negative clip, the event's windows for others."""
    rows = []
    for slot, entry in enumerate(source.entries):
        if slot in negative_slots:
            rows.append(candidate_starts(frame_count(entry.samples, source.settings), source.settings))
        else:
            rows.append(entry.event_starts)
    return tf.RaggedTensor.from_row_lengths(np.concatenate(rows).astype(np.int64), [len(r) for r in rows])


class TrainingWindows:
    """Batches of ``(inputs, one_hot, sample_weight)`` for each epoch.

    Args:
        source: streams the run's clips.
        slots: the training clips (indices into ``source.entries``).
        class_index: (clips,) class index of every clip in ``source.entries``.
        negative_index: class of the negative label (mixed into other windows), or None.
        n_classes: number of labels.
        windows_per_clip: windows each training clip gives per epoch.
        global_batch: windows per step over all replicas.
        seed: fixes the order, the window positions and the augmentation.
        augment: augmentation settings.

    Attributes:
        steps_per_epoch: global batches per epoch.
        class_weight: loss weight per class index (rarer classes weigh more, averaging 1);
            carried by every window as its sample weight.
    """

    def __init__(
        self,
        source: ClipSource,
        slots: list[int],
        *,
        class_index: np.ndarray,
        negative_index: int | None,
        n_classes: int,
        windows_per_clip: int,
        global_batch: int,
        seed: int,
        augment: AugmentSettings,
    ) -> None:
        if source.cache is not None:  # the cache holds a file's content once
            slots = list({source.entries[s].hash: s for s in reversed(slots)}.values())[::-1]
        self.source = source
        self.slots = slots
        self.class_index = np.asarray(class_index, dtype=np.int64)
        self.negative_index = negative_index
        self.negative_slots = [s for s in slots if self.class_index[s] == negative_index]
        self.n_classes = n_classes
        self.windows_per_clip = windows_per_clip
        self.global_batch = global_batch
        self.seed = seed
        self.augment = augment
        self.stored = STORED_FORMS[source.frontend]
        self.settings: FeatureSettings = source.settings
        self.starts = window_starts_table(source, set(self.negative_slots))
        self.banks = (
            BedsideBanks.build(self.settings, augment, seed=seed) if self.stored == "log_mel" else None
        )
        windows = len(slots) * windows_per_clip
        self.steps_per_epoch = max(1, math.ceil(windows / global_batch))
        counts = np.bincount(self.class_index[slots], minlength=n_classes)
        self.class_weight = {i: float(counts.sum() / (n_classes * max(n, 1))) for i, n in enumerate(counts)}

    def _windows(self, slots: list[int], epoch: int, salt: int, *, repeat: bool = False) -> tf.data.Dataset:
        """``(slot, window)`` pairs: ``windows_per_clip`` random windows of each clip, in a shuffled
        order; with ``repeat``, pass after pass with new windows each time."""
        base = tf.constant([self.seed, epoch * 4 + salt], dtype=tf.int64)
        starts, stored, settings, per_clip = self.starts, self.stored, self.settings, self.windows_per_clip

        def draws(number, clip):
            slot, values = clip
            clip_seed = tf.random.experimental.stateless_fold_in(base, number)
            windows = [
                draw_window(values, starts[slot], s, stored=stored, settings=settings)
                for s in seeds(clip_seed, per_clip)
            ]
            return tf.fill([per_clip], slot), tf.stack(windows)

        clips = self.source.dataset(slots, order_seed=(self.seed, epoch, salt))
        return (
            (clips.repeat() if repeat else clips)
            .enumerate()
            .map(draws, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .unbatch()
        )

    def _shuffle_seed(self, epoch: int, salt: int) -> int:
        return int(np.random.default_rng((self.seed, epoch, salt)).integers(2**31))

    def dataset(self, epoch: int, context: tf.distribute.InputContext) -> tf.data.Dataset:
        """Epoch ``epoch`` (0-based) for one input pipeline, batched per replica."""
        total = self.steps_per_epoch * self.global_batch
        windows = (
            self._windows(self.slots, epoch, 0)
            .shuffle(SHUFFLE_WINDOWS, seed=self._shuffle_seed(epoch, 0))
            .repeat()
            .take(total)
        )
        mixing = bool(self.negative_slots)
        if mixing:
            mixes = self._windows(self.negative_slots, epoch, 1, repeat=True).shuffle(
                SHUFFLE_WINDOWS, seed=self._shuffle_seed(epoch, 1)
            )
            elements = tf.data.Dataset.zip(windows, mixes)
        else:
            elements = windows
        elements = elements.enumerate().shard(context.num_input_pipelines, context.input_pipeline_id)
        base = tf.constant([self.seed, epoch * 4 + 2], dtype=tf.int64)
        class_index = tf.constant(self.class_index)
        weights = tf.constant([self.class_weight[i] for i in range(self.n_classes)], tf.float32)
        stored, settings, augment, n_classes = self.stored, self.settings, self.augment, self.n_classes
        banks = self.banks
        negative_index = tf.constant(-1 if self.negative_index is None else self.negative_index, tf.int64)

        def augmented(number, element):
            (slot, window), mix = element if mixing else (element, (None, None))
            label = tf.gather(class_index, slot)
            inputs = augmented_input(
                window,
                mix[1],
                tf.random.experimental.stateless_fold_in(base, number),
                negative=tf.equal(label, negative_index),
                stored=stored,
                settings=settings,
                augment=augment,
                banks=banks,
            )
            return inputs, tf.one_hot(label, n_classes), tf.gather(weights, label)

        per_replica = context.get_per_replica_batch_size(self.global_batch)
        return (
            elements.map(augmented, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(per_replica, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE)
        )
