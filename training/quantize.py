"""Full-integer int8 export of a trained model, calibrated on its own training windows.

The converter measures activation ranges on representative (unaugmented)
training windows. Because int8 outputs move in steps of 1/256, the thresholds
are calibrated again on the int8 file's own validation scores.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from sensing.classifier import AudioClassifier
from sensing.model_file import ModelMetadata, read_model_bytes
from training.calibration import calibrate_thresholds
from training.export import embed_metadata, export_tflite
from training.tf_setup import keras
from training.evaluation_set import EvaluationSet
from training.train_audio import RunData, calibration_scores

REPRESENTATIVE_WINDOWS = 200
"""Training windows that calibrate the int8 activation ranges."""


def tflite_clip_scores(classifier: AudioClassifier, evaluation: EvaluationSet) -> np.ndarray:
    """(clips, labels): highest window probability per clip, through the TFLite runtime."""
    return evaluation.clip_scores(classifier.predict_windows)


def export_int8(model: keras.Model, path: str | Path, metadata: ModelMetadata, data: RunData, *,
                target_fpr: float, seed: int, windows: int = REPRESENTATIVE_WINDOWS) -> Path:
    """Write ``model`` as a full-integer int8 ``.tflite`` with recalibrated thresholds."""
    path = Path(path)
    export_tflite(model, path, metadata, form="int8",
                  representative_windows=data.representative_windows(windows, seed))
    if data.negative_label is None:
        return path
    scores, true = calibration_scores(data.validation, AudioClassifier(path).predict_windows)
    thresholds = calibrate_thresholds(labels=data.labels, true=true, scores=scores,
                                      negative_label=data.negative_label, target_fpr=target_fpr)
    updated = dataclasses.replace(metadata, thresholds=thresholds)
    path.write_bytes(embed_metadata(read_model_bytes(path), updated))
    return path
