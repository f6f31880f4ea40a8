"""The reference vectors kept with the project (firmware_export/reference/): the frontend and the bundled
microcontroller model still give what they gave when the vectors were written."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from firmware_export.golden import device_windows
from firmware_export.reference import REFERENCE_DIR, reference_outputs
from sensing.audio.features import FeatureSettings
from sensing.audio.model_file import read_metadata
from sensing.bundled import COUGH_SNORE_MICRO

MANIFEST = json.loads((REFERENCE_DIR / "manifest.json").read_text())
PCM = np.fromfile(REFERENCE_DIR / "clip.pcm", dtype="<i2")
FEATURES = np.fromfile(REFERENCE_DIR / "features.f32", dtype="<f4").reshape(MANIFEST["features_shape"])
OUTPUTS = np.fromfile(REFERENCE_DIR / "outputs.i8", dtype=np.int8).reshape(MANIFEST["outputs_shape"])


def test_reference_vectors_are_small_and_describe_one_window_of_the_fixed_clip():
    size = sum(path.stat().st_size for path in REFERENCE_DIR.iterdir())
    assert size < 100_000
    assert PCM.size == MANIFEST["samples"] and FEATURES.shape[0] == OUTPUTS.shape[0] >= 1


def test_features_of_the_fixed_clip_have_not_changed():
    settings = FeatureSettings.from_dict(MANIFEST["feature_settings"])
    assert settings == read_metadata(COUGH_SNORE_MICRO).features
    np.testing.assert_allclose(device_windows(PCM, settings), FEATURES, rtol=0, atol=1e-5)


def test_bundled_microcontroller_model_gives_the_reference_outputs_in_tflite_micro():
    assert hashlib.sha256(COUGH_SNORE_MICRO.read_bytes()).hexdigest() == MANIFEST["model_sha256"], (
        "the bundled model changed: write the vectors again with python -m firmware_export.reference"
    )
    np.testing.assert_array_equal(reference_outputs(COUGH_SNORE_MICRO, FEATURES), OUTPUTS)
