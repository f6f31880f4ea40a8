"""The toolkit's metadata inside a ``.tflite`` file, read without TensorFlow.

Training embeds a JSON document (labels, feature settings, thresholds) as a
named entry of the TFLite model's ``metadata`` table, so a model file alone is
enough to run it. This module reads that entry with a small FlatBuffers
reader that follows TensorFlow Lite's schema (``Model.buffers`` is field 4,
``Model.metadata`` field 6; ``Metadata`` is ``{name: string, buffer: uint}``).
"""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

from sensing.errors import ModelError
from sensing.features import FeatureSettings

METADATA_NAME = "sensing_metadata"
"""Name of the TFLite metadata entry holding the toolkit's JSON document."""

METADATA_FORMAT = "sensing-audio-classifier/1"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelMetadata:
    """What the runtime needs to know about an audio classifier.

    Attributes:
        labels: class names in the order of the model's output.
        negative_label: the label meaning "neither target sound", or None when
            every label is a target.
        thresholds: per target label, the clip score (highest window
            probability) at or above which a clip gets that label.
        features: the frontend the model was trained on.
        extra: anything else training recorded (training command, metrics).
    """

    labels: tuple[str, ...]
    negative_label: str | None
    thresholds: dict[str, float]
    features: FeatureSettings
    extra: dict = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({
            "format": METADATA_FORMAT,
            "labels": list(self.labels),
            "negative_label": self.negative_label,
            "thresholds": self.thresholds,
            "features": self.features.to_dict(),
            "extra": self.extra,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> "ModelMetadata":
        try:
            values = json.loads(text)
            if values.get("format") != METADATA_FORMAT:
                raise ModelError(f"{source}: metadata format {values.get('format')!r}, "
                                 f"this version reads {METADATA_FORMAT!r}")
            return cls(labels=tuple(values["labels"]),
                       negative_label=values["negative_label"],
                       thresholds={k: float(v) for k, v in values["thresholds"].items()},
                       features=FeatureSettings.from_dict(values["features"]),
                       extra=values.get("extra", {}))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ModelError(f"{source}: malformed toolkit metadata ({error})") from None


class _FlatBufferReader:
    """Just enough of FlatBuffers to walk tables, vectors and strings."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source

    def _unpack(self, fmt: str, position: int):
        try:
            return struct.unpack_from(fmt, self.data, position)[0]
        except struct.error:
            raise ModelError(f"{self.source}: truncated or corrupt model file "
                             f"({len(self.data)} bytes)") from None

    def root(self) -> int:
        return self._unpack("<I", 0)

    def field_position(self, table: int, field_index: int) -> int | None:
        vtable = table - self._unpack("<i", table)
        vtable_size = self._unpack("<H", vtable)
        entry = 4 + 2 * field_index
        if entry >= vtable_size:
            return None
        offset = self._unpack("<H", vtable + entry)
        return table + offset if offset else None

    def _indirect(self, position: int) -> int:
        return position + self._unpack("<I", position)

    def vector(self, table: int, field_index: int) -> tuple[int, int]:
        """(start of elements, length) of a vector field; (0, 0) when absent."""
        position = self.field_position(table, field_index)
        if position is None:
            return 0, 0
        vector = self._indirect(position)
        return vector + 4, self._unpack("<I", vector)

    def table_at(self, element_position: int) -> int:
        return self._indirect(element_position)

    def string(self, table: int, field_index: int) -> str:
        start, length = self.vector(table, field_index)
        if start + length > len(self.data):
            raise ModelError(f"{self.source}: truncated or corrupt model file")
        return self.data[start:start + length].decode("utf-8", errors="replace")

    def scalar(self, table: int, field_index: int, fmt: str, default=0):
        position = self.field_position(table, field_index)
        return default if position is None else self._unpack(fmt, position)

    def bytes_of_vector(self, table: int, field_index: int) -> bytes:
        start, length = self.vector(table, field_index)
        if start + length > len(self.data):
            raise ModelError(f"{self.source}: truncated or corrupt model file")
        return self.data[start:start + length]


def read_model_bytes(path: str | Path) -> bytes:
    """The bytes of a ``.tflite`` file, checked for the TFLite file identifier."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    data = path.read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(f"{path}: not a TensorFlow Lite model (no 'TFL3' identifier; "
                         f"{len(data)} bytes)")
    return data


def read_metadata_entries(data: bytes, *, source: str) -> dict[str, bytes]:
    """Every entry of the model's metadata table, by name."""
    reader = _FlatBufferReader(data, source)
    model = reader.root()
    buffers_start, n_buffers = reader.vector(model, 4)
    metadata_start, n_metadata = reader.vector(model, 6)
    entries = {}
    for i in range(n_metadata):
        entry = reader.table_at(metadata_start + 4 * i)
        name = reader.string(entry, 0)
        buffer_index = reader.scalar(entry, 1, "<I")
        if buffer_index >= n_buffers:
            raise ModelError(f"{source}: metadata '{name}' points past the buffer table")
        buffer = reader.table_at(buffers_start + 4 * buffer_index)
        content = reader.bytes_of_vector(buffer, 0)
        if not content:
            offset = reader.scalar(buffer, 1, "<Q")
            size = reader.scalar(buffer, 2, "<Q")
            if offset > 1 and offset + size <= len(data):
                content = data[offset:offset + size]
        entries[name] = content
    return entries


def read_metadata(path: str | Path) -> ModelMetadata:
    """The toolkit metadata embedded in a ``.tflite`` file.

    Raises:
        ModelError: the file is missing, truncated, not TFLite, or was not
            written by this toolkit.
    """
    data = read_model_bytes(path)
    entries = read_metadata_entries(data, source=str(path))
    if METADATA_NAME not in entries:
        raise ModelError(f"{path}: no '{METADATA_NAME}' entry; this model was not exported by "
                         f"sensing (metadata entries found: {sorted(entries) or 'none'})")
    try:
        text = entries[METADATA_NAME].decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{path}: corrupt toolkit metadata (not UTF-8)") from None
    return ModelMetadata.from_json(text, source=str(path))
