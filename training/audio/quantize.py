"""Full-integer int8 export of a trained model, calibrated on its own training windows.

The converter measures activation ranges on representative (unaugmented)
training windows. Because int8 outputs move in steps of 1/256, the thresholds
are calibrated again on the int8 file's own validation scores.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.model_file import ModelMetadata
from sensing.run_folder import CONFIG, INT8_MODEL, KERAS_MODEL, MODEL
from sensing.tflite.graph import read_model_bytes
from training.audio.calibration import calibrate_thresholds
from training.audio.config import REPRESENTATIVE_WINDOWS
from training.audio.evaluation_set import EvaluationSet
from training.audio.run_data import RunData, calibration_scores
from training.export import embed_metadata, export_tflite
from training.tf_setup import keras


def tflite_clip_scores(classifier: AudioClassifier, evaluation: EvaluationSet) -> np.ndarray:
    """(clips, labels): highest window probability per clip, through the TFLite runtime."""
    return evaluation.clip_scores(classifier.predict_windows)


def export_int8(
    model: keras.Model,
    path: str | Path,
    metadata: ModelMetadata,
    data: RunData,
    *,
    target_fpr: float,
    seed: int,
    windows: int = REPRESENTATIVE_WINDOWS,
) -> Path:
    """Write ``model`` as a full-integer int8 ``.tflite`` with recalibrated thresholds."""
    path = Path(path)
    export_tflite(
        model, path, metadata, form="int8", representative_windows=data.representative_windows(windows, seed)
    )
    if data.negative_label is None:
        return path
    scores, true = calibration_scores(data.validation, AudioClassifier(path).predict_windows)
    thresholds = calibrate_thresholds(
        labels=data.labels,
        true=true,
        scores=scores,
        negative_label=data.negative_label,
        target_fpr=target_fpr,
    )
    updated = dataclasses.replace(metadata, thresholds=thresholds)
    path.write_bytes(embed_metadata(read_model_bytes(path), updated))
    return path


def quantize_run(run: Path, out: Path) -> Path:
    """Quantize a run's ``model.keras`` on its own training clips into ``out/model_int8.tflite``."""
    from sensing.audio.model_file import read_metadata
    from training.audio.config import AudioTrainConfig
    from training.audio.run_data import load_run_data

    config = AudioTrainConfig.read(run / CONFIG, out=str(out))
    print(f"quantizing {run / KERAS_MODEL} to int8 on its training clips", flush=True)
    data = load_run_data(config, out)
    model = keras.models.load_model(run / KERAS_MODEL, compile=False)
    metadata = read_metadata(run / MODEL)
    return export_int8(
        model, out / INT8_MODEL, metadata, data, target_fpr=config.target_fpr, seed=config.seed
    )
