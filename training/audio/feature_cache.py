"""An on-disk cache of clips' stored features: sharded TFRecord files.

A cache folder holds one subfolder per *key*: a hash of everything the stored
values depend on (the form stored, every feature setting, the window-selection
settings and a format version), so changing any setting starts a new
subfolder and never reuses stale features. Inside, each clip is found by the
SHA-256 of its file's bytes, so renamed or relabelled files are reused and an
edited file is not.

Layout of ``ROOT/<key>/``:

- ``settings.json``: what the key was made from;
- ``part-<id>.tfrecord``: up to :data:`SHARD_BYTES` records, each
  ``{"hash": bytes, "values": float32 bytes, "rows": int64}``;
- ``part-<id>.json``: the shard's index, one entry per clip (hash, stored
  rows, padded samples, event window starts, duration).

Clips go into shards in the order of their hashes, so every shard is a
random mix of labels and sources, whatever order the clip list is in. A
shard's index is written (atomically) after its records, so a crash loses at
most the shard being written; readers only trust indexed shards. Runs that
share a cache (several workers, or runs started together) take turns filling
it through a lock file, and a file's content is stored once. Files that
cannot be read are not cached: they are tried again by every run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sensing.errors import SensingError
from sensing.files import write_atomically, write_error
from training.checkpoints import as_os_error
from training.tf_setup import tf

FORMAT_VERSION = 1
SHARD_BYTES = 64 * 2**20
"""A shard file is closed once its values reach this size (about an hour of audio as
log-mel, a quarter of an hour as 16 kHz samples)."""


def content_hash(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class CachedClip:
    """What the cache knows of one clip without reading its values.

    Attributes:
        hash: hex SHA-256 of the file.
        shard: the shard file's name holding its values.
        rows: length of the stored values' first axis (frames, or samples for audio).
        samples: length in samples of the padded clip at the frontend's rate.
        event_starts: first frames of the windows that hold the clip's event.
        duration_s: length of the original clip in seconds.
    """

    hash: str
    shard: str
    rows: int
    samples: int
    event_starts: tuple[int, ...]
    duration_s: float


class FeatureCache:
    """One key's folder of a feature cache.

    Args:
        root: the cache folder given by the user (``--cache``).
        describe: everything the stored values depend on; hashed into the key.
    """

    def __init__(self, root: str | Path, describe: dict) -> None:
        self.describe = {"format": FORMAT_VERSION, **describe}
        text = json.dumps(self.describe, sort_keys=True)
        self.key = hashlib.sha256(text.encode()).hexdigest()[:16]
        self.folder = Path(root) / self.key
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            settings = self.folder / "settings.json"
            if not settings.exists():
                write_atomically(settings, json.dumps(self.describe, indent=2, sort_keys=True) + "\n")
        except OSError as error:
            raise SensingError(
                f"feature cache {self.folder}: cannot write there ({error.strerror}); "
                "give --cache a folder you can write to"
            ) from None

    @contextlib.contextmanager
    def filling(self) -> Iterator[None]:
        """Hold the folder's lock while adding shards (other runs wait here)."""
        try:
            lock = open(self.folder / ".lock", "a")
        except OSError as error:
            raise SensingError(
                f"feature cache {self.folder}: cannot write there ({error.strerror}); "
                "give --cache a folder you can write to"
            ) from None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def index(self) -> dict[str, CachedClip]:
        """Every indexed clip by hash (the first shard that holds a hash wins)."""
        clips: dict[str, CachedClip] = {}
        for index_path in sorted(self.folder.glob("part-*.json")):
            for entry in json.loads(index_path.read_text()):
                clip = CachedClip(**{**entry, "event_starts": tuple(entry["event_starts"])})
                clips.setdefault(clip.hash, clip)
        return clips

    def shard_path(self, name: str) -> Path:
        return self.folder / name

    def write_shard(self, entries: list[tuple[CachedClip, np.ndarray]]) -> list[CachedClip]:
        """Write one shard of ``(clip, values)`` pairs; returns the clips as indexed (with their shard)."""
        shard_id = hashlib.sha256("".join(clip.hash for clip, _ in entries).encode()).hexdigest()[:16]
        name = f"part-{shard_id}.tfrecord"
        partial = self.folder / (name + ".partial")
        stored = []
        try:
            with tf.io.TFRecordWriter(str(partial)) as writer:
                for clip, values in entries:
                    writer.write(_record(clip.hash, values))
                    stored.append(dataclasses.replace(clip, shard=name))
            os.replace(partial, self.folder / name)
        except (OSError, tf.errors.OpError) as error:
            partial.unlink(missing_ok=True)
            cause = as_os_error(error) if isinstance(error, tf.errors.OpError) else error
            raise write_error(self.folder / name, cause) from None
        write_atomically(
            self.folder / f"part-{shard_id}.json",
            json.dumps([dataclasses.asdict(clip) for clip in stored]) + "\n",
        )
        return stored


def _record(hash_hex: str, values: np.ndarray) -> bytes:
    values = np.ascontiguousarray(values, dtype=np.float32)
    feature = {
        "hash": tf.train.Feature(bytes_list=tf.train.BytesList(value=[hash_hex.encode()])),
        "values": tf.train.Feature(bytes_list=tf.train.BytesList(value=[values.tobytes()])),
        "rows": tf.train.Feature(int64_list=tf.train.Int64List(value=[values.shape[0]])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


RECORD_SPEC = {
    "hash": tf.io.FixedLenFeature([], tf.string),
    "values": tf.io.FixedLenFeature([], tf.string),
    "rows": tf.io.FixedLenFeature([], tf.int64),
}


def parse_record(serialized: tf.Tensor, width: int | None) -> tuple[tf.Tensor, tf.Tensor]:
    """``(hash, values)`` of one record: values (rows, width) float32, or (rows,) when width is None."""
    parsed = tf.io.parse_single_example(serialized, RECORD_SPEC)
    values = tf.io.decode_raw(parsed["values"], tf.float32)
    if width is not None:
        values = tf.reshape(values, [-1, width])
    return parsed["hash"], values
