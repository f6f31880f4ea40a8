"""A run's clips as the training pipeline reads them: scanned once, then streamed.

Each clip is *stored* in the form its frontend's training windows are cut
from: the log-mel rows of the padded clip for ``mel`` (frames, n_mels), the
padded audio itself for ``leaf`` (samples,). :func:`scan_clips` decodes
every clip once, in parallel through ``tf.data``, to learn which files are
usable, how long they are and where their events lie, filling the feature
cache on the way when there is one; only that small description stays in
memory. :class:`ClipSource` then streams stored values for any set of clips,
from the cache's shards or by decoding the files again, so memory stays
bounded whatever the number of clips.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys

import numpy as np

from sensing.audio.clips import ClipRecord
from sensing.audio.features import WINDOW_NORMALISATION, FeatureSettings, log_mel, pad_to_window
from sensing.audio.reading import load_audio
from sensing.errors import AudioError
from sensing.progress import Progress
from training.audio.dataset import SkippedClip
from training.audio.feature_cache import (
    SHARD_BYTES,
    CachedClip,
    FeatureCache,
    content_hash,
    parse_record,
)
from training.audio.windows import AugmentSettings, event_starts
from training.tf_setup import tf

STORED_FORMS = {"mel": "log_mel", "leaf": "audio"}
"""What each training frontend's clips are stored as."""
INTERLEAVED_SHARDS = 4
"""Shard files read at once when streaming from the cache in a shuffled order."""


def stored_width(frontend: str, settings: FeatureSettings) -> int | None:
    """Values per stored row: n_mels for log-mel; None for audio (1-D)."""
    return settings.n_mels if STORED_FORMS[frontend] == "log_mel" else None


def stored_values(padded: np.ndarray, frontend: str, settings: FeatureSettings) -> np.ndarray:
    """float32 stored form of a padded clip (see the module docstring)."""
    if STORED_FORMS[frontend] == "log_mel":
        return log_mel(padded, settings)
    return np.asarray(padded, dtype=np.float32)


def cache_description(frontend: str, settings: FeatureSettings, augment: AugmentSettings) -> dict:
    """Everything a cached clip depends on: the cache key is made from it."""
    return {
        "stored": STORED_FORMS[frontend],
        "features": {k: v for k, v in settings.to_dict().items() if k not in WINDOW_NORMALISATION},
        "event_margin_db": augment.event_margin_db,
        "edge_frames": augment.edge_frames,
    }


@dataclasses.dataclass(frozen=True)
class ClipEntry:
    """A usable clip of a run: its record and what the scan learnt of it.

    Attributes:
        record: the clip list's row.
        hash: hex SHA-256 of the file (only when a cache is used, else "").
        shard: the cache's shard file holding its values (else "").
        rows: length of the stored values' first axis.
        samples: padded length in samples at the frontend's rate.
        event_starts: first frames of the windows that hold the clip's event.
        duration_s: the original clip's length in seconds.
    """

    record: ClipRecord
    hash: str
    shard: str
    rows: int
    samples: int
    event_starts: np.ndarray
    duration_s: float


def _read(path: str, frontend: str, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(samples, padded, stored values)`` of one file (raises AudioError for unusable files)."""
    samples = load_audio(path, sr=settings.sr).samples
    padded = pad_to_window(samples, settings)
    return samples, padded, stored_values(padded, frontend, settings)


def _decode(
    path: str, frontend: str, settings: FeatureSettings, augment: AugmentSettings
) -> tuple[np.ndarray, CachedClip]:
    """Stored values and description of one file (raises AudioError for unusable files)."""
    samples, padded, values = _read(path, frontend, settings)
    return values, CachedClip(
        hash="",
        shard="",
        rows=int(values.shape[0]),
        samples=int(padded.size),
        event_starts=tuple(int(s) for s in event_starts(padded, settings, augment)),
        duration_s=samples.size / settings.sr,
    )


def _decoded_in_parallel(
    records: list[ClipRecord],
    indices: list[int],
    frontend: str,
    settings: FeatureSettings,
    augment: AugmentSettings,
):
    """Yield ``(index, values, description, error)`` for ``indices`` in order, decoded in
    parallel; ``error`` is the reader's message for an unusable file ("" otherwise)."""

    def decode(index):
        try:
            values, clip = _decode(records[int(index)].path, frontend, settings, augment)
        except AudioError as error:
            return (
                np.zeros(0, np.float32),
                np.int64(0),
                np.int64(0),
                np.zeros(0, np.int64),
                np.float64(0),
                str(error).encode(),
            )
        return (
            values.ravel(),
            np.int64(clip.rows),
            np.int64(clip.samples),
            np.array(clip.event_starts, np.int64),
            np.float64(clip.duration_s),
            b"",
        )

    dataset = (
        tf.data.Dataset.from_tensor_slices(np.array(indices, dtype=np.int64))
        .map(
            lambda i: (
                i,
                *tf.numpy_function(
                    decode, [i], [tf.float32, tf.int64, tf.int64, tf.int64, tf.float64, tf.string]
                ),
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        .prefetch(tf.data.AUTOTUNE)
    )
    width = stored_width(frontend, settings)
    for index, flat, rows, samples, starts, duration, error in dataset.as_numpy_iterator():
        clip = CachedClip(
            hash="",
            shard="",
            rows=int(rows),
            samples=int(samples),
            event_starts=tuple(int(s) for s in starts),
            duration_s=float(duration),
        )
        yield int(index), (flat.reshape(-1, width) if width else flat), clip, error.decode()


def _hashes(records: list[ClipRecord]) -> list[str]:
    """Each file's content hash ("" for a file that cannot be read; decoding will say why)."""
    hashes = []
    progress = Progress("hashing clips", len(records))
    for record in records:
        try:
            hashes.append(content_hash(record.path))
        except OSError:
            hashes.append("")
        progress.advance()
    progress.finish()
    return hashes


def scan_clips(
    records: list[ClipRecord],
    *,
    frontend: str,
    settings: FeatureSettings,
    augment: AugmentSettings,
    cache: FeatureCache | None,
    strict: bool,
) -> tuple[list[ClipEntry], list[SkippedClip]]:
    """Decode every clip once, in parallel (a clip already in the cache is only hashed, and
    a file whose content appeared earlier in the list is decoded once).

    Args:
        records: the clips to scan.
        frontend: the training frontend (decides the stored form).
        cache: a feature cache to read and fill, or None.
        strict: raise on the first unusable file found instead of skipping it.

    Returns:
        The usable clips in record order, and the skipped ones with their reasons.

    Raises:
        AudioError: with ``strict``, for the first unusable file found.
    """
    hashes = _hashes(records) if cache is not None else [""] * len(records)
    keys = [h or i for i, h in enumerate(hashes)]  # the same key for the same content
    found: dict[object, CachedClip | str] = {}  # description, or why the file is unusable
    with cache.filling() if cache is not None else contextlib.nullcontext():
        known = cache.index() if cache is not None else {}
        found.update((h, known[h]) for h in hashes if h in known)
        todo = list({key: i for i, key in reversed(list(enumerate(keys))) if key not in found}.values())
        todo.sort(key=lambda i: (hashes[i], i))  # hash order: every shard a random mix of clips
        if cache is not None:
            print(
                f"feature cache {cache.folder}: {len(records) - len(todo)} of {len(records)} clips "
                f"cached, computing {len(todo)}",
                file=sys.stderr,
                flush=True,
            )
        progress = Progress("decoding clips", len(todo))
        pending, pending_bytes = [], 0
        for index, values, clip, error in _decoded_in_parallel(records, todo, frontend, settings, augment):
            progress.advance()
            if error:
                if strict:
                    raise AudioError(error)
                found[keys[index]] = error
                continue
            found[keys[index]] = clip = dataclasses.replace(clip, hash=hashes[index])
            if cache is not None and hashes[index]:
                pending.append((clip, values))
                pending_bytes += values.nbytes
                if pending_bytes >= SHARD_BYTES:
                    found.update((clip.hash, clip) for clip in cache.write_shard(pending))
                    pending, pending_bytes = [], 0
        if cache is not None and pending:
            found.update((clip.hash, clip) for clip in cache.write_shard(pending))
        progress.finish()
    entries, skipped = [], []
    for record, key, hash_hex in zip(records, keys, hashes):
        clip = found[key]
        if isinstance(clip, str):
            skipped.append(SkippedClip(record, f"{record.path}: {clip.split(': ', 1)[-1]}"))
            continue
        entries.append(
            ClipEntry(
                record=record,
                hash=hash_hex,
                shard=clip.shard,
                rows=clip.rows,
                samples=clip.samples,
                event_starts=np.array(clip.event_starts, dtype=np.int64),
                duration_s=clip.duration_s,
            )
        )
    return entries, skipped


class ClipSource:
    """Streams the stored values of a run's clips, from the cache or by decoding.

    Args:
        entries: the run's usable clips (:func:`scan_clips`); a *slot* is an index into them.
        frontend, settings, augment: as scanned.
        cache: the cache the scan filled, or None to decode files again.
    """

    def __init__(
        self,
        entries: list[ClipEntry],
        *,
        frontend: str,
        settings: FeatureSettings,
        augment: AugmentSettings,
        cache: FeatureCache | None,
    ) -> None:
        self.entries = entries
        self.frontend = frontend
        self.settings = settings
        self.augment = augment
        self.cache = cache
        self.width = stored_width(frontend, settings)

    def values_shape(self) -> tuple[int | None, ...]:
        return (None, self.width) if self.width else (None,)

    def dataset(self, slots: list[int], *, order_seed: tuple[int, ...] | None = None) -> tf.data.Dataset:
        """``(slot, values)`` for each of ``slots`` (a clip whose file's content appears
        twice among them is given once, from the cache).

        Args:
            slots: the clips wanted.
            order_seed: shuffle the reading order with this seed (several shard files
                read at once from the cache); None reads in a fixed order.
        """
        if self.cache is None:
            return self._decoded(slots, order_seed)
        return self._cached(self.cache, slots, order_seed)

    def _decoded(self, slots: list[int], order_seed) -> tf.data.Dataset:
        order = np.array(slots, dtype=np.int64)
        if order_seed is not None:
            order = np.random.default_rng(order_seed).permutation(order)

        def decode(slot):
            return _read(self.entries[int(slot)].record.path, self.frontend, self.settings)[2]

        def load(slot):
            values = tf.numpy_function(decode, [slot], tf.float32)
            values.set_shape(self.values_shape())
            return slot, values

        return tf.data.Dataset.from_tensor_slices(order).map(
            load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )

    def _cached(self, cache: FeatureCache, slots: list[int], order_seed) -> tf.data.Dataset:
        slot_of_hash: dict[str, int] = {}
        for slot in slots:
            slot_of_hash.setdefault(self.entries[slot].hash, slot)
        shards = sorted({self.entries[slot].shard for slot in slot_of_hash.values()})
        if order_seed is not None:
            shards = list(np.random.default_rng(order_seed).permutation(shards))
        table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                list(slot_of_hash), list(slot_of_hash.values()), key_dtype=tf.string, value_dtype=tf.int64
            ),
            default_value=-1,
        )
        paths = [str(cache.shard_path(name)) for name in shards]
        records = tf.data.Dataset.from_tensor_slices(paths).interleave(
            tf.data.TFRecordDataset,
            cycle_length=INTERLEAVED_SHARDS if order_seed is not None else 1,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

        def parse(serialized):
            hash_hex, values = parse_record(serialized, self.width)
            return table.lookup(hash_hex), values

        return records.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).filter(
            lambda slot, values: slot >= 0
        )
