"""The toolkit's JSON documents inside a ``.tflite`` file's metadata table, read without TensorFlow.

Training embeds one JSON document per model (an audio classifier's or a sleep
classifier's settings) as the entry :data:`METADATA_NAME` of the TFLite model's
``metadata`` table, so a model file alone is enough to run it. The entries are
read with the FlatBuffers reader of :mod:`sensing.tflite.graph`, following
TensorFlow Lite's schema (``Model.buffers`` is field 4, ``Model.metadata``
field 6; ``Metadata`` is ``{name: string, buffer: uint}``).
"""

from __future__ import annotations

from pathlib import Path

from sensing.errors import ModelError
from sensing.tflite.graph import FlatBufferReader, read_buffer, read_model_bytes

METADATA_NAME = "sensing_metadata"
"""Name of the TFLite metadata entry holding the toolkit's JSON document."""


def read_metadata_entries(data: bytes, *, source: str) -> dict[str, bytes]:
    """Every entry of the model's metadata table, by name."""
    reader = FlatBufferReader(data, source)
    model = reader.root()
    buffers = reader.tables(model, 4)
    entries = {}
    for entry in reader.tables(model, 6):
        name = reader.string(entry, 0)
        buffer_index = reader.scalar(entry, 1, "<I")
        if buffer_index >= len(buffers):
            raise ModelError(f"{source}: metadata '{name}' points past the buffer table")
        entries[name] = read_buffer(reader, buffers, buffer_index)
    return entries


def read_toolkit_document(path: str | Path) -> str:
    """The toolkit's JSON document inside a ``.tflite`` file, as text (an audio or a sleep
    classifier's settings; each parses its own format).

    Raises:
        ModelError: the file is missing, truncated, not TFLite, was not written by this
            toolkit, or its document is not UTF-8.
    """
    entries = read_metadata_entries(read_model_bytes(path), source=str(path))
    if METADATA_NAME not in entries:
        raise ModelError(
            f"{path}: no '{METADATA_NAME}' entry; this model was not exported by "
            f"sensing (metadata entries found: {sorted(entries) or 'none'})"
        )
    try:
        return entries[METADATA_NAME].decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError(f"{path}: corrupt toolkit metadata (not UTF-8)") from None
