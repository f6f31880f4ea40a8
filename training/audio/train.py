"""``sensing train audio``: from labeled clips to a calibrated ``model.tflite`` and a report.

Steps: read the clip list, scan the audio once (unusable files skipped and
counted; features cached on disk with ``--cache``), split by group into
train / validation / test, train the CNN on augmented windows streamed
through ``tf.data`` (on one device, several, or several workers: see
:mod:`training.distribute`), keep the epoch with the best validation recall
at the calibrated thresholds, calibrate the thresholds on validation groups
(as recorded and over faint noise floors: :data:`training.audio.run_data.CALIBRATION_FLOORS_DB`),
measure on test groups, export. Everything lands in the run folder as it
happens: the best epoch so far is kept on disk, so an interrupted run still
leaves a model, and a checkpoint after every epoch lets ``--resume`` finish
a killed run with the weights it would have had (:mod:`training.checkpoints`).
With ``--frontend leaf`` the model takes raw audio and learns its frontend
with the CNN; the run also exports the fast form of that frontend and
reports how close it is (see :mod:`training.leaf.run_outputs`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sensing.audio.model_file import ModelMetadata
from sensing.run_folder import CONFIG, MODEL, RunFolder
from training.audio.agreement import ReferenceDecisions
from training.audio.config import AudioTrainConfig
from training.audio.evaluation_set import EvaluationSet, keras_predict
from training.audio.run_data import (
    RunData,
    calibrated_thresholds,
    calibration_scores,
    decisions,
    evaluate_model,
    load_run_data,
)
from training.checkpoints import deterministic_ops, save_best_model
from training.epoch_loop import BestEpochReport, compile_for_training, open_run, train_checkpointed
from training.export import export_tflite
from training.leaf.frontend import build_leaf_classifier
from training.model import build_audio_cnn
from training.plots import plot_confusion_matrix, plot_training_curves
from training.scale import ScaleSettings
from training.tf_setup import keras


def _selection_score(
    true: list[str], predicted: list[str], labels: tuple[str, ...], negative_label: str | None
) -> float:
    """Mean recall of the target labels (every label when there is no negative label)."""
    targets = [label for label in labels if label != negative_label]
    true_array, predicted_array = np.array(true), np.array(predicted)
    return float(np.mean([np.mean(predicted_array[true_array == label] == label) for label in targets]))


class EpochReport(BestEpochReport):
    """After each epoch: calibrate on validation (as recorded and over noise floors:
    :func:`calibration_scores`), score, keep the best weights
    (see :class:`~training.epoch_loop.BestEpochReport` for the other arguments).

    Args:
        validation, labels, negative_label: what to score on.
        target_fpr: the false-positive rate thresholds are calibrated for.
    """

    def __init__(
        self,
        *,
        validation: EvaluationSet,
        labels: tuple[str, ...],
        negative_label: str | None,
        target_fpr: float,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.validation = validation
        self.labels = labels
        self.negative_label = negative_label
        self.target_fpr = target_fpr

    def score(self, model: keras.Model) -> tuple[float, dict]:
        scores, true = calibration_scores(self.validation, keras_predict(model))
        thresholds = calibrated_thresholds(scores, true, self.labels, self.negative_label, self.target_fpr)
        predicted = decisions(scores, self.labels, thresholds, self.negative_label)
        return _selection_score(true, predicted, self.labels, self.negative_label), {}

    def describe(self, entry: dict, improved: bool) -> None:
        print(
            f"epoch {entry['epoch']}/{self.epochs}  loss {entry['loss']:.4f}  "
            f"accuracy {entry['accuracy']:.3f}  validation recall at "
            f"{self.target_fpr:.0%} FPR {entry['validation_score']:.3f}"
            f"{'  (best, saved)' if improved else ''}  [{entry['seconds']:.0f} s]",
            flush=True,
        )


def finish_run(
    model: keras.Model,
    data: RunData,
    config: AudioTrainConfig,
    *,
    report: EpochReport,
    interrupted: bool,
    metadata_extra: dict,
    metrics_extra: dict | None = None,
    reference: ReferenceDecisions | None = None,
) -> tuple[dict, ModelMetadata]:
    """Calibrate, measure, export ``model.tflite``, write ``metrics.json`` and the plots.

    With ``reference``, the thresholds make the model decide as that model does on the
    calibration clips instead of letting ``config.target_fpr`` of their negatives through.

    Returns the metrics written and the metadata embedded in the model.
    """
    out = Path(config.out)
    labels, negative_label = data.labels, data.negative_label
    thresholds, results, scores = evaluate_model(
        model,
        data.validation,
        data.test,
        labels=labels,
        negative_label=negative_label,
        target_fpr=config.target_fpr,
        reference=reference,
    )
    metadata = ModelMetadata(
        labels=labels,
        negative_label=negative_label,
        thresholds=thresholds,
        features=config.features,
        frontend=config.frontend,
        extra={"target_fpr": config.target_fpr, **metadata_extra},
    )
    export_tflite(model, out / MODEL, metadata)
    if config.frontend == "leaf":
        from training.leaf.run_outputs import (
            finish_leaf_run,  # LEAF runs only: it imports the LEAF layers
        )

        metrics_extra = {
            **(metrics_extra or {}),
            "leaf": finish_leaf_run(
                model, data, config, exact_results=results, exact_scores=scores, metadata=metadata
            ),
        }
    metrics = {
        "labels": list(labels),
        "negative_label": negative_label,
        "thresholds": thresholds,
        "best_epoch": report.best_epoch,
        "interrupted": interrupted,
        "skipped_files": len(data.skipped),
        "splits": data.split_summary(),
        "history": report.history,
        **results,
        **(metrics_extra or {}),
    }
    RunFolder(out).write_metrics(metrics)
    plot_training_curves(report.history, out / "training_curves.png")
    for name in ("validation", "test"):
        matrix = results[name]["confusion_matrix"]
        plot_confusion_matrix(
            matrix["rows_true_columns_predicted"],
            matrix["labels"],
            out / f"confusion_{name}.png",
            title=f"{name} clips ({results[name]['clips']})",
        )
    return metrics, metadata


def build_model(config: AudioTrainConfig, n_classes: int) -> keras.Model:
    """The untrained classifier of a run: the CNN on log-mel features, or LEAF and the CNN on audio."""
    if config.frontend == "leaf":
        return build_leaf_classifier(
            settings=config.features,
            leaf=config.leaf,
            n_classes=n_classes,
            cnn=config.cnn,
            augment=config.augment,
        )
    return build_audio_cnn(input_shape=config.features.input_shape, n_classes=n_classes, settings=config.cnn)


def train_audio(config: AudioTrainConfig, scale: ScaleSettings | None = None) -> dict | None:
    """Run a whole training (see the module docstring); returns the metrics written, or None
    on a worker other than the chief (it trains, then leaves the run folder to worker 0)."""
    scale = scale or ScaleSettings()
    config, place = open_run(config, scale)
    out, replicas = Path(config.out), place.replicas
    data = load_run_data(config, out, cache=scale.cache, replicas=replicas)

    deterministic_ops()
    keras.utils.set_random_seed(config.seed)
    with place.strategy.scope():
        model = build_model(config, len(data.labels))
        compile_for_training(
            model,
            learning_rate=config.learning_rate * replicas,
            steps=config.epochs * data.windows.steps_per_epoch,
            label_smoothing=config.label_smoothing,
        )
    report = EpochReport(
        validation=data.validation,
        labels=data.labels,
        negative_label=data.negative_label,
        epochs=config.epochs,
        target_fpr=config.target_fpr,
        save_best=lambda m: save_best_model(m, out),
        scoring_model=build_model(config, len(data.labels)) if replicas > 1 else None,
    )
    print(
        f"training on {len(data.windows.slots)} clips, {data.windows.steps_per_epoch} steps of "
        f"{config.batch_size * replicas} windows per epoch ({replicas} replica"
        f"{'s' if replicas > 1 else ''}), {model.count_params():,} parameters",
        file=sys.stderr,
    )
    identity = {
        "replicas": replicas,
        "steps_per_epoch": data.windows.steps_per_epoch,
        "feature_cache": data.source.cache.key if data.source.cache else None,
    }
    model, interrupted = train_checkpointed(
        model,
        data.windows,
        place=place,
        out=out,
        resume=scale.resume,
        report=report,
        identity=identity,
        epochs=config.epochs,
        seed=config.seed,
    )
    if model is None:
        return None
    metrics, _ = finish_run(
        model,
        data,
        config,
        report=report,
        interrupted=interrupted,
        metadata_extra={"training_command": place.info["command"]},
    )
    config.write(
        out / CONFIG,
        status="interrupted" if interrupted else "finished",
        labels=list(data.labels),
        negative_label=data.negative_label,
        **place.info,
    )
    return metrics
