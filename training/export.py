"""Keras model to ``.tflite``, with the toolkit's metadata embedded.

Four forms of one model:

- ``float32``: dense float weights; what training writes.
- ``sparse``: float32 with pruned weights stored sparse (converted with
  ``EXPERIMENTAL_SPARSITY``); the model holds DENSIFY ops that XNNPACK unpacks
  once at load time, and runs its sparse kernels where the CPU has them (ARM).
- ``sparse_fp16``: the same with float16 weights, half the bytes again.
- ``int8``: full-integer (int8 weights, activations, input and output),
  calibrated on representative windows; stored dense, because TFLite Micro on
  a microcontroller has no DENSIFY op.

The metadata (labels, feature settings, thresholds) is stored as a named
entry of the TFLite model's ``metadata`` table, which interpreters ignore and
:func:`sensing.audio.model_file.read_metadata` reads without TensorFlow.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np

from sensing.files import write_atomically
from sensing.tflite.metadata import METADATA_NAME
from training.tf_output import captured_native_stderr
from training.tf_setup import keras, tf

FORMATS = ("float32", "sparse", "sparse_fp16", "int8")


class EmbeddedMetadata(Protocol):
    """What a model carries inside its file: an audio classifier's
    (:class:`sensing.audio.model_file.ModelMetadata`) or a sleep classifier's settings."""

    def to_json(self) -> str: ...


def embed_metadata(tflite_bytes: bytes, metadata: EmbeddedMetadata) -> bytes:
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


class _LastSavedModel:
    """The last model converted, kept as a SavedModel: saving takes most of a conversion's time,
    and a pruned run converts one model to every form."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.folder: tempfile.TemporaryDirectory[str] | None = None

    def folder_of(self, model: keras.Model) -> str:
        """A SavedModel folder of ``model`` as it is now (its architecture and every weight),
        saved as TFLite's own Keras path saves it."""
        digest = hashlib.sha256(model.to_json().encode())
        for weight in model.weights:
            digest.update(np.asarray(weight).tobytes())
        key = digest.hexdigest()
        if self.folder is None or key != self.key:
            if self.folder is not None:
                self.folder.cleanup()
            self.folder = tempfile.TemporaryDirectory(prefix="sensing-saved-model-")
            with captured_native_stderr():
                tf.saved_model.save(
                    model, self.folder.name, options=tf.saved_model.SaveOptions(save_debug_info=True)
                )
            self.key = key
        return self.folder.name


_LAST_SAVED = _LastSavedModel()


def convert(
    model: keras.Model, form: str = "float32", representative_windows: np.ndarray | None = None
) -> bytes:
    """A TFLite flatbuffer of ``model`` (batch size 1) in one of :data:`FORMATS`.

    Args:
        model: a Keras model without pruning wrappers.
        form: which of :data:`FORMATS`.
        representative_windows: (n, frames, mels, 3) float32 inputs that
            calibrate int8 activation ranges; required for ``int8``.
    """
    if form not in FORMATS:
        raise ValueError(f"unknown TFLite form {form!r}; one of {FORMATS}")
    converter = tf.lite.TFLiteConverter.from_saved_model(_LAST_SAVED.folder_of(model))
    if form == "sparse":
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    elif form == "sparse_fp16":
        converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY, tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif form == "int8":
        if representative_windows is None or not len(representative_windows):
            raise ValueError("int8 conversion needs representative windows")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([window[None]] for window in representative_windows)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with captured_native_stderr():  # the converter's C++ dumps, shown with --verbose or on failure
        return bytes(converter.convert())


def export_tflite(
    model: keras.Model,
    path: str | Path,
    metadata: EmbeddedMetadata,
    *,
    form: str = "float32",
    representative_windows: np.ndarray | None = None,
) -> Path:
    """Write ``model`` as ``.tflite`` in ``form`` with ``metadata`` embedded; returns the path.

    The file is replaced whole or not at all (a full disk leaves the previous one).
    """
    return write_atomically(path, embed_metadata(convert(model, form, representative_windows), metadata))
