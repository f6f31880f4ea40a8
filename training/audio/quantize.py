"""Full-integer int8 export of a trained model, calibrated on its own training windows.

The converter measures activation ranges on representative (unaugmented)
training windows. Because int8 outputs move in steps of 1/256, the thresholds
are calibrated again on the int8 file's own validation scores (or matched on them to a
reference model's decisions).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.model_file import ModelMetadata
from sensing.files import atomic_path
from sensing.run_folder import CONFIG, INT8_MODEL, KERAS_MODEL, MODEL
from training.audio.agreement import ReferenceDecisions
from training.audio.evaluation_set import EvaluationSet
from training.audio.run_data import RunData, calibrated_thresholds, calibration_scores
from training.checkpoints import load_keras_model
from training.export import convert, embed_metadata
from training.run_settings import REPRESENTATIVE_WINDOWS
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
    reference: ReferenceDecisions | None = None,
) -> Path:
    """Write ``model`` as a full-integer int8 ``.tflite`` with recalibrated thresholds.

    The thresholds let ``target_fpr`` of the validation negatives through, or with ``reference``
    make the int8 file decide as that model does on the same clips.
    The file appears whole, thresholds included, or not at all.
    """
    model_bytes = convert(model, "int8", data.representative_windows(windows, seed))
    with atomic_path(path) as partial:
        partial.write_bytes(embed_metadata(model_bytes, metadata))
        if data.negative_label is not None:
            scores, true = calibration_scores(data.validation, AudioClassifier(partial).predict_windows)
            thresholds = calibrated_thresholds(
                scores, true, data.labels, data.negative_label, target_fpr, reference
            )
            partial.write_bytes(
                embed_metadata(model_bytes, dataclasses.replace(metadata, thresholds=thresholds))
            )
    return Path(path)


def quantize_run(run: Path, out: Path) -> Path:
    """Quantize a run's ``model.keras`` on its own training clips into ``out/model_int8.tflite``."""
    from sensing.audio.model_file import read_metadata
    from training.audio.config import AudioTrainConfig
    from training.audio.run_data import load_run_data

    config = AudioTrainConfig.read(run / CONFIG, out=str(out))
    model = load_keras_model(run / KERAS_MODEL)
    metadata = read_metadata(run / MODEL)
    print(f"quantizing {run / KERAS_MODEL} to int8 on its training clips", flush=True)
    data = load_run_data(config, out)
    return export_int8(
        model, out / INT8_MODEL, metadata, data, target_fpr=config.target_fpr, seed=config.seed
    )
