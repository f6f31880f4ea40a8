"""The toolkit's JSON documents inside a ``.tflite`` file's metadata table, read without TensorFlow.

Training embeds one JSON document per model (an audio classifier's or a sleep
classifier's settings) as the entry :data:`METADATA_NAME` of the TFLite model's
``metadata`` table, so a model file alone is enough to run it. The entries are
read with the FlatBuffers reader of :mod:`sensing.tflite.graph`, following
TensorFlow Lite's schema (``Model.buffers`` is field 4, ``Model.metadata``
field 6; ``Metadata`` is ``{name: string, buffer: uint}``).
"""

from __future__ import annotations

from sensing.errors import ModelError
from sensing.tflite.graph import FlatBufferReader, read_buffer

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
