"""Keras model to ``.tflite``, with the toolkit's metadata embedded.

The metadata (labels, feature settings, thresholds) is stored as a named
entry of the TFLite model's ``metadata`` table, which interpreters ignore and
:func:`sensing.model_file.read_metadata` reads without TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

from sensing.model_file import METADATA_NAME, ModelMetadata
from training.tf_setup import keras, tf


def embed_metadata(tflite_bytes: bytes, metadata: ModelMetadata) -> bytes:
    """The model with ``metadata`` added (replacing an older entry of the same name)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite_bytes))
    buffer = schema.BufferT()
    buffer.data = list(metadata.to_json().encode("utf-8"))
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name.decode() != METADATA_NAME]
    model.metadata.append(entry)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def convert_float(model: keras.Model) -> bytes:
    """A float32 TFLite flatbuffer of ``model`` (batch size 1 at the input)."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return converter.convert()


def export_tflite(model: keras.Model, path: str | Path, metadata: ModelMetadata) -> Path:
    """Write ``model`` as float32 ``.tflite`` with ``metadata`` embedded; returns the path."""
    path = Path(path)
    path.write_bytes(embed_metadata(convert_float(model), metadata))
    return path
