"""Reference vectors kept with the project: one fixed clip, its features, and the bundled model's outputs.

The golden vectors of an exported package (:mod:`firmware_export.golden`) prove that an export
agrees with itself. These prove that features and outputs stay the same from one release to the
next, as TensorFlow Lite Micro's ``micro_speech`` example keeps its expected features: the files in
``firmware_export/reference/`` hold

- ``clip.pcm``: 16-bit little-endian mono PCM at 16 kHz, exactly one model window long (written
  once from a generated cough, then never regenerated, so it is the fixed input);
- ``features.f32``: float32 ``(windows, frames, mels, 3)`` model windows from
  :mod:`sensing.audio.features`, as the C frontend must produce them;
- ``outputs.i8``: the bundled microcontroller model's int8 outputs ``(windows, labels)`` in
  TFLite Micro for those features quantized with the model's input scale;
- ``manifest.json``: shapes, the feature settings and the SHA-256 of the model file.

A change to the frontend or to the bundled model fails ``tests/test_firmware_reference.py`` until
the vectors are written again on purpose: ``python -m firmware_export.reference``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from firmware_export.golden import device_windows, golden_pcm, quantize
from firmware_export.micro import micro_outputs, minimum_arena
from sensing.audio.model_file import read_metadata
from sensing.bundled import COUGH_SNORE_MICRO
from sensing.files import make_folder, write_atomically
from sensing.tflite.interpreter import load_interpreter

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def model_inputs(model: Path, features: np.ndarray) -> np.ndarray:
    """``features`` quantized to the int8 input of ``model``."""
    interpreter, _ = load_interpreter(model, backend="ai_edge_litert")
    scale, zero_point = interpreter.get_input_details()[0]["quantization"]
    return quantize(features, scale, zero_point)


def reference_outputs(model: Path, features: np.ndarray) -> np.ndarray:
    """(windows, labels) int8 outputs of ``model`` in TFLite Micro."""
    return micro_outputs(model, model_inputs(model, features), minimum_arena(model))


def write_reference(folder: Path = REFERENCE_DIR, model: Path = COUGH_SNORE_MICRO) -> dict[str, object]:
    """Write the features and outputs of ``folder/clip.pcm`` (made once if absent); returns the manifest."""
    settings = read_metadata(model).features
    make_folder(folder)
    clip = folder / "clip.pcm"
    if not clip.is_file():
        window_samples = settings.n_fft + (settings.window_frames - 1) * settings.hop_length
        write_atomically(clip, golden_pcm("cough", 0, settings.sr)[:window_samples].astype("<i2").tobytes())
    pcm = np.fromfile(clip, dtype="<i2")
    features = device_windows(pcm, settings)
    outputs = reference_outputs(model, features)
    write_atomically(folder / "features.f32", features.astype("<f4").tobytes())
    write_atomically(folder / "outputs.i8", outputs.astype(np.int8).tobytes())
    manifest: dict[str, object] = {
        "sample_rate_hz": settings.sr,
        "samples": int(pcm.size),
        "features_shape": list(features.shape),
        "outputs_shape": list(outputs.shape),
        "labels": list(read_metadata(model).labels),
        "feature_settings": settings.to_dict(),
        "model": model.name,
        "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
    }
    write_atomically(folder / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    written = write_reference()
    print(f"wrote {REFERENCE_DIR}: {written['features_shape']} features, {written['outputs_shape']} outputs")
