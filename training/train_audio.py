"""``sensing train audio``: from labeled clips to a calibrated ``model.tflite`` and a report.

Steps: read the clip list, scan the audio once (unusable files skipped and
counted; features cached on disk with ``--cache``), split by group into
train / validation / test, train the CNN on augmented windows streamed
through ``tf.data`` (on one device, several, or several workers: see
:mod:`training.distribute`), keep the epoch with the best validation recall
at the calibrated thresholds, calibrate the thresholds on validation groups
(as recorded and over faint noise floors: :data:`CALIBRATION_FLOORS_DB`),
measure on test groups, export. Everything lands in the run folder as it
happens: the best epoch so far is kept on disk, so an interrupted run still
leaves a model, and a checkpoint after every epoch lets ``--resume`` finish
a killed run with the weights it would have had (:mod:`training.checkpoints`).
With ``--frontend leaf`` the model takes raw audio and learns its frontend
with the CNN; the run also exports the fast form of that frontend and
reports how close it is (see :mod:`training.leaf.run_outputs`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensing.clips import check_label_counts, read_clip_list
from sensing.decision import decide
from sensing.errors import DataError
from sensing.model_file import ModelMetadata
from training.calibration import calibrate_thresholds
from training.checkpoints import deterministic_ops, save_best_model
from training.clip_store import STORED_FORMS, ClipSource, cache_description, scan_clips
from training.config import AudioTrainConfig, ScaleSettings
from training.dataset import SkippedClip, skipped_summary
from training.epoch_loop import BestEpochReport, open_run, train_checkpointed
from training.evaluation_set import EvaluationSet, keras_predict
from training.export import export_tflite
from training.feature_cache import FeatureCache
from training.leaf.frontend import build_leaf_classifier
from training.metrics import clip_metrics
from training.model import build_audio_cnn
from training.plots import plot_confusion_matrix, plot_training_curves
from training.splits import grouped_split
from training.tf_setup import keras
from training.window_stream import TrainingWindows


def _decisions(scores: np.ndarray, labels: tuple[str, ...], thresholds: dict[str, float],
               negative_label: str | None) -> list[str]:
    return [decide(dict(zip(labels, row)), thresholds=thresholds, negative_label=negative_label)
            for row in scores]


def _selection_score(true: list[str], predicted: list[str], labels: tuple[str, ...],
                     negative_label: str | None) -> float:
    """Mean recall of the target labels (every label when there is no negative label)."""
    targets = [label for label in labels if label != negative_label]
    true_array, predicted_array = np.array(true), np.array(predicted)
    return float(np.mean([np.mean(predicted_array[true_array == label] == label)
                          for label in targets]))


class EpochReport(BestEpochReport):
    """After each epoch: calibrate on validation (as recorded and over noise floors:
    :func:`calibration_scores`), score, keep the best weights
    (see :class:`~training.epoch_loop.BestEpochReport` for the other arguments).

    Args:
        validation, labels, negative_label: what to score on.
        target_fpr: the false-positive rate thresholds are calibrated for.
    """

    def __init__(self, *, validation: EvaluationSet, labels: tuple[str, ...],
                 negative_label: str | None, target_fpr: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validation = validation
        self.labels = labels
        self.negative_label = negative_label
        self.target_fpr = target_fpr

    def score(self, model: keras.Model) -> tuple[float, dict]:
        scores, true = calibration_scores(self.validation, keras_predict(model))
        thresholds = _thresholds(scores, true, self.labels, self.negative_label, self.target_fpr)
        predicted = _decisions(scores, self.labels, thresholds, self.negative_label)
        return _selection_score(true, predicted, self.labels, self.negative_label), {}

    def describe(self, entry: dict, improved: bool) -> None:
        print(f"epoch {entry['epoch']}/{self.epochs}  loss {entry['loss']:.4f}  "
              f"accuracy {entry['accuracy']:.3f}  validation recall at "
              f"{self.target_fpr:.0%} FPR {entry['validation_score']:.3f}"
              f"{'  (best, saved)' if improved else ''}  [{entry['seconds']:.0f} s]", flush=True)


CALIBRATION_FLOORS_DB = (44.0, 24.0)
"""Besides as recorded, the validation clips are scored over a pink noise floor this far below
the mean mel power of their loudest frame (:func:`training.evaluation_set.over_floor`; about
10 dB milder than a clip at -26 and -46 dBFS peak over -70 dBFS noise), and thresholds are
calibrated on all of them together: a bedside hears quiet sounds over room noise."""


def calibration_scores(validation: EvaluationSet, predict: Callable[[np.ndarray], np.ndarray],
                       scores: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """``(scores, true)`` of the validation clips as recorded (``scores``, when already computed)
    and, for runs that store log-mel, over each of :data:`CALIBRATION_FLOORS_DB`, stacked."""
    pooled = [validation.clip_scores(predict) if scores is None else scores]
    if STORED_FORMS[validation.source.frontend] == "log_mel":
        pooled += [validation.with_floor(below_db).clip_scores(predict) for below_db in CALIBRATION_FLOORS_DB]
    return np.concatenate(pooled), validation.true * len(pooled)


def _thresholds(scores: np.ndarray, true: list[str], labels: tuple[str, ...],
                negative_label: str | None, target_fpr: float) -> dict[str, float]:
    if negative_label is None:
        return {}
    return calibrate_thresholds(labels=labels, true=true, scores=scores,
                                negative_label=negative_label, target_fpr=target_fpr)


def _write_skipped(skipped: list[SkippedClip], path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "reason"])
        for item in skipped:
            writer.writerow([item.record.path, item.record.label, item.reason])


@dataclasses.dataclass
class RunData:
    """The clips of a run, split by group and ready for training and evaluation.

    Attributes:
        labels: class names in model-output order (sorted).
        negative_label: the "neither target" label, or None.
        source: streams the run's usable clips (a *slot* indexes ``source.entries``).
        splits: the slots of ``train``, ``validation`` and ``test``.
        windows: the augmented training batches of every epoch.
        validation, test: every runtime window of those splits, for scoring.
        skipped: files that could not be used.
    """

    labels: tuple[str, ...]
    negative_label: str | None
    source: ClipSource
    splits: dict[str, list[int]]
    windows: TrainingWindows
    validation: EvaluationSet
    test: EvaluationSet
    skipped: list[SkippedClip]

    def split_summary(self) -> dict[str, dict[str, int]]:
        """Clips and groups per split."""
        return {name: {"clips": len(slots),
                       "groups": len({self.source.entries[s].record.group for s in slots})}
                for name, slots in self.splits.items()}

    def representative_windows(self, count: int, seed: int) -> np.ndarray:
        """(up to count, frames, mels, 3): one unaugmented window from each of up to ``count``
        random training clips, for int8 calibration."""
        if self.source.frontend != "mel":
            raise DataError("int8 calibration takes log-mel windows; this run trains a "
                            f"{self.source.frontend} frontend")
        rng = np.random.default_rng(seed)
        train = self.splits["train"]
        chosen = sorted(rng.choice(len(train), size=min(count, len(train)), replace=False))
        windows = {}
        for positions, inputs in EvaluationSet(self.source, [train[i] for i in chosen],
                                               "calibration").clip_inputs():
            for position in positions:
                windows[position] = inputs[np.random.default_rng((seed, position)).integers(len(inputs))]
        return np.stack([windows[p] for p in sorted(windows)]).astype(np.float32)


def load_run_data(config: AudioTrainConfig, out: Path, *, cache: str | None = None,
                  replicas: int = 1) -> RunData:
    """Read, scan and split the clips of ``config.data`` (writes ``out/skipped.csv``).

    Args:
        config: the run's settings.
        out: its folder.
        cache: a feature cache folder to read and fill, or None.
        replicas: replicas in sync; each takes ``config.batch_size`` windows per step.
    """
    records = read_clip_list(config.data)
    check_label_counts(records, min_clips=config.min_clips_per_label, min_groups=3)
    feature_cache = (FeatureCache(cache, cache_description(config.frontend, config.features, config.augment))
                     if cache else None)
    entries, skipped = scan_clips(records, frontend=config.frontend, settings=config.features,
                                  augment=config.augment, cache=feature_cache, strict=config.strict)
    _write_skipped(skipped, out / "skipped.csv")
    if skipped:
        print(skipped_summary(skipped), file=sys.stderr)
    check_label_counts([e.record for e in entries], min_clips=config.min_clips_per_label, min_groups=3)

    labels = tuple(sorted({e.record.label for e in entries}))
    negative_label = config.negative_label if config.negative_label in labels else None
    if negative_label is None:
        print(f"note: no '{config.negative_label}' label in the data; every label is a target "
              f"and no false-positive calibration is done", file=sys.stderr)
    splits = grouped_split([e.record for e in entries], fractions=config.split_fractions,
                           seed=config.seed)
    source = ClipSource(entries, frontend=config.frontend, settings=config.features,
                        augment=config.augment, cache=feature_cache)
    for name, slots in splits.items():
        groups = len({entries[s].record.group for s in slots})
        print(f"{name}: {len(slots)} clips from {groups} groups", file=sys.stderr)

    class_index = np.array([labels.index(e.record.label) for e in entries])
    windows = TrainingWindows(source, splits["train"], class_index=class_index,
                              negative_index=labels.index(negative_label) if negative_label else None,
                              n_classes=len(labels), windows_per_clip=config.windows_per_clip,
                              global_batch=config.batch_size * replicas, seed=config.seed,
                              augment=config.augment)
    return RunData(labels=labels, negative_label=negative_label, source=source, splits=splits,
                   windows=windows, validation=EvaluationSet(source, splits["validation"], "validation"),
                   test=EvaluationSet(source, splits["test"], "test"), skipped=skipped)


def compile_for_training(model: keras.Model, *, learning_rate: float, steps: int,
                         label_smoothing: float) -> None:
    """Adam with a cosine decay from ``learning_rate`` to zero over ``steps``, smoothed cross-entropy."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, steps))
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=["accuracy"])


def finish_run(model: keras.Model, data: RunData, config: AudioTrainConfig, *,
               report: EpochReport, interrupted: bool, metadata_extra: dict,
               metrics_extra: dict | None = None) -> tuple[dict, ModelMetadata]:
    """Calibrate, measure, export ``model.tflite``, write ``metrics.json`` and the plots.

    Returns the metrics written and the metadata embedded in the model.
    """
    out = Path(config.out)
    labels, negative_label = data.labels, data.negative_label
    thresholds, results = evaluate_model(model, data.validation, data.test, labels=labels,
                                         negative_label=negative_label, target_fpr=config.target_fpr)
    metadata = ModelMetadata(labels=labels, negative_label=negative_label, thresholds=thresholds,
                             features=config.features, frontend=config.frontend,
                             extra={"target_fpr": config.target_fpr, **metadata_extra})
    export_tflite(model, out / "model.tflite", metadata)
    if config.frontend == "leaf":
        from training.leaf.run_outputs import finish_leaf_run  # it builds on this module
        metrics_extra = {**(metrics_extra or {}),
                         "leaf": finish_leaf_run(model, data, config, exact_results=results,
                                                 metadata=metadata)}
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
    write_metrics(metrics, out)
    plot_training_curves(report.history, out / "training_curves.png")
    for name in ("validation", "test"):
        matrix = results[name]["confusion_matrix"]
        plot_confusion_matrix(matrix["rows_true_columns_predicted"], matrix["labels"],
                              out / f"confusion_{name}.png",
                              title=f"{name} clips ({results[name]['clips']})")
    return metrics, metadata


def evaluate_model(model: keras.Model, validation: EvaluationSet, test: EvaluationSet, *,
                   labels: tuple[str, ...], negative_label: str | None,
                   target_fpr: float) -> tuple[dict[str, float], dict[str, dict]]:
    """Calibrate thresholds on ``validation``; clip metrics of both sets at those thresholds.

    Returns ``(thresholds, {"validation": metrics, "test": metrics})``.
    """
    validation_scores = validation.clip_scores(keras_predict(model))
    pooled, pooled_true = calibration_scores(validation, keras_predict(model), validation_scores)
    thresholds = _thresholds(pooled, pooled_true, labels, negative_label, target_fpr)
    results = {}
    for name, evaluation, scores in (("validation", validation, validation_scores),
                                     ("test", test, test.clip_scores(keras_predict(model)))):
        predicted = _decisions(scores, labels, thresholds, negative_label)
        results[name] = clip_metrics(labels=labels, true=evaluation.true, predicted=predicted,
                                     scores=scores, negative_label=negative_label,
                                     categories=evaluation.categories,
                                     durations_s=evaluation.durations_s)
    return thresholds, results


def build_model(config: AudioTrainConfig, n_classes: int) -> keras.Model:
    """The untrained classifier of a run: the CNN on log-mel features, or LEAF and the CNN on audio."""
    if config.frontend == "leaf":
        return build_leaf_classifier(settings=config.features, leaf=config.leaf, n_classes=n_classes,
                                     cnn=config.cnn, augment=config.augment)
    return build_audio_cnn(input_shape=config.features.input_shape, n_classes=n_classes,
                           settings=config.cnn)


def write_metrics(metrics: dict, out: Path) -> None:
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")


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
        compile_for_training(model, learning_rate=config.learning_rate * replicas,
                             steps=config.epochs * data.windows.steps_per_epoch,
                             label_smoothing=config.label_smoothing)
    report = EpochReport(validation=data.validation, labels=data.labels,
                         negative_label=data.negative_label, epochs=config.epochs,
                         target_fpr=config.target_fpr, save_best=lambda m: save_best_model(m, out),
                         scoring_model=build_model(config, len(data.labels)) if replicas > 1 else None)
    print(f"training on {len(data.windows.slots)} clips, {data.windows.steps_per_epoch} steps of "
          f"{config.batch_size * replicas} windows per epoch ({replicas} replica"
          f"{'s' if replicas > 1 else ''}), {model.count_params():,} parameters", file=sys.stderr)
    identity = {"replicas": replicas, "steps_per_epoch": data.windows.steps_per_epoch,
                "feature_cache": data.source.cache.key if data.source.cache else None}
    model, interrupted = train_checkpointed(model, data.windows, place=place, out=out, resume=scale.resume,
                                            report=report, identity=identity, epochs=config.epochs,
                                            seed=config.seed)
    if model is None:
        return None
    metrics, _ = finish_run(model, data, config, report=report, interrupted=interrupted,
                            metadata_extra={"training_command": place.info["command"]})
    config.write(out / "config.json", status="interrupted" if interrupted else "finished",
                 labels=list(data.labels), negative_label=data.negative_label, **place.info)
    return metrics
