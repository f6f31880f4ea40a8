"""``sensing train audio``: from labeled clips to a calibrated ``model.tflite`` and a report.

Steps: read the clip list, load audio (unusable files skipped and counted),
split by group into train / validation / test, train the CNN on augmented
windows, keep the epoch with the best validation recall at the calibrated
thresholds, calibrate the thresholds on validation groups, measure on test
groups, export. Everything lands in the run folder as it happens, and the
best epoch so far is kept on disk, so an interrupted run still leaves a model.
With ``--frontend leaf`` the model takes raw audio and learns its frontend
with the CNN; the run also exports the fast form of that frontend and
reports how close it is (see :mod:`training.leaf.run_outputs`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensing.clips import check_label_counts, read_clip_list
from sensing.decision import decide
from sensing.errors import DataError
from sensing.model_file import ModelMetadata
from sensing.model_input import clip_inputs
from sensing.progress import Progress
from training.batches import WindowBatches
from training.calibration import calibrate_thresholds
from training.config import AudioTrainConfig
from training.dataset import LoadedClip, SkippedClip, load_clips, skipped_summary
from training.export import export_tflite
from training.leaf.frontend import build_leaf_classifier
from training.metrics import clip_metrics
from training.model import build_audio_cnn
from training.plots import plot_confusion_matrix, plot_training_curves
from training.splits import grouped_split
from training.tf_setup import keras, tf
from training.windows import TrainingClip, prepare_clips


class EvaluationSet:
    """Every runtime window of a set of clips, for clip-level evaluation.

    Args:
        clips, config, name: the clips, the run's settings, a name for progress lines.
        frontend: the model input to make (:data:`sensing.model_input.MODEL_FRONTENDS`);
            default: the run's frontend.

    Attributes:
        features: (windows, *model input shape) float32: (frames, mels, 3)
            features for ``mel``, (window_samples,) audio for ``leaf``.
        clip_of_window: (windows,) index of each window's clip.
        true, categories, durations_s: one entry per clip.
    """

    def __init__(self, clips: list[LoadedClip], config: AudioTrainConfig, name: str,
                 frontend: str | None = None) -> None:
        progress = Progress(f"{name} inputs", len(clips))
        stacks, owners = [], []
        for index, clip in enumerate(clips):
            features, _ = clip_inputs(clip.samples, frontend or config.frontend, config.features)
            stacks.append(features)
            owners.append(np.full(len(features), index))
            progress.advance()
        progress.finish()
        self.features = np.concatenate(stacks)
        self.clip_of_window = np.concatenate(owners)
        self.true = [clip.record.label for clip in clips]
        self.categories = [clip.record.category for clip in clips]
        self.durations_s = np.array([clip.samples.size / config.features.sr for clip in clips])

    def clip_scores(self, model: keras.Model) -> np.ndarray:
        """(clips, labels): highest window probability per clip."""
        return self.per_clip_maximum(model.predict(self.features, batch_size=256, verbose=0))

    def per_clip_maximum(self, probabilities: np.ndarray) -> np.ndarray:
        """(clips, labels) highest of the (windows, labels) ``probabilities`` within each clip."""
        first_windows = np.flatnonzero(np.r_[True, np.diff(self.clip_of_window) != 0])
        return np.maximum.reduceat(probabilities, first_windows, axis=0)


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


class EpochReport(keras.callbacks.Callback):
    """After each epoch: calibrate on validation, score, keep the best weights.

    Args:
        validation, labels, negative_label: what to score on.
        epochs: epochs planned (for the progress line).
        target_fpr: the false-positive rate thresholds are calibrated for.
        save_best: called with the model whenever an epoch becomes the best,
            so an interrupted run still leaves its best model on disk.
        first_eligible_epoch: earlier epochs are scored but never kept (pruning
            keeps only epochs that reached the target sparsity).
    """

    def __init__(self, *, validation: EvaluationSet, labels: tuple[str, ...],
                 negative_label: str | None, epochs: int, target_fpr: float,
                 save_best: Callable[[keras.Model], None], first_eligible_epoch: int = 1) -> None:
        super().__init__()
        self.validation = validation
        self.labels = labels
        self.negative_label = negative_label
        self.epochs = epochs
        self.target_fpr = target_fpr
        self.save_best = save_best
        self.first_eligible_epoch = first_eligible_epoch
        self.history: list[dict] = []
        self.best_score = -1.0
        self.best_epoch = 0
        self.best_weights = None
        self.started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        scores = self.validation.clip_scores(self.model)
        thresholds = _thresholds(scores, self.validation.true, self.labels, self.negative_label,
                                 self.target_fpr)
        predicted = _decisions(scores, self.labels, thresholds, self.negative_label)
        score = _selection_score(self.validation.true, predicted, self.labels, self.negative_label)
        entry = {"epoch": epoch + 1, "loss": float(logs["loss"]),
                 "accuracy": float(logs["accuracy"]), "validation_score": score,
                 "seconds": round(time.monotonic() - self.started, 1)}
        self.history.append(entry)
        eligible = epoch + 1 >= self.first_eligible_epoch
        improved = eligible and score >= self.best_score  # ties: the later, longer-trained epoch
        if improved:
            self.best_score = score
            self.best_epoch = epoch + 1
            self.best_weights = self.model.get_weights()
            self.save_best(self.model)
        print(f"epoch {epoch + 1}/{self.epochs}  loss {entry['loss']:.4f}  "
              f"accuracy {entry['accuracy']:.3f}  validation recall at "
              f"{self.target_fpr:.0%} FPR {score:.3f}"
              f"{'  (best, saved)' if improved else ''}  [{entry['seconds']:.0f} s]", flush=True)


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
        split_clips: the loaded clips of ``train``, ``validation`` and ``test``.
        train_clips: training clips prepared for window sampling.
        batches: augmented training batches, drawn afresh each epoch.
        validation, test: every runtime window of those splits.
        skipped: files that could not be used.
    """

    labels: tuple[str, ...]
    negative_label: str | None
    split_clips: dict[str, list[LoadedClip]]
    train_clips: list[TrainingClip]
    batches: WindowBatches
    validation: EvaluationSet
    test: EvaluationSet
    skipped: list[SkippedClip]

    def class_weight(self) -> dict[int, float]:
        """Loss weight per class index: rarer classes weigh more, averaging 1."""
        counts = np.bincount([c.class_index for c in self.train_clips], minlength=len(self.labels))
        return {i: float(counts.sum() / (len(self.labels) * max(n, 1))) for i, n in enumerate(counts)}

    def representative_windows(self, count: int, seed: int) -> np.ndarray:
        """(count, frames, mels, 3) unaugmented windows of training clips, for int8 calibration."""
        if self.batches.frontend != "mel":
            raise DataError("int8 calibration takes log-mel windows; this run trains a "
                            f"{self.batches.frontend} frontend")
        rng = np.random.default_rng(seed)
        clips = self.split_clips["train"]
        chosen = rng.choice(len(clips), size=min(count, len(clips)), replace=False)
        windows = []
        for index in chosen:
            features, _ = clip_inputs(clips[index].samples, "mel", self.batches.settings)
            windows.append(features[rng.integers(len(features))])
        return np.stack(windows).astype(np.float32)


def load_run_data(config: AudioTrainConfig, out: Path) -> RunData:
    """Read, load, split and prepare the clips of ``config.data`` (writes ``out/skipped.csv``)."""
    records = read_clip_list(config.data)
    check_label_counts(records, min_clips=config.min_clips_per_label, min_groups=3)
    clips, skipped = load_clips(records, sr=config.features.sr, strict=config.strict)
    _write_skipped(skipped, out / "skipped.csv")
    if skipped:
        print(skipped_summary(skipped), file=sys.stderr)
    check_label_counts([c.record for c in clips], min_clips=config.min_clips_per_label, min_groups=3)

    labels = tuple(sorted({c.record.label for c in clips}))
    negative_label = config.negative_label if config.negative_label in labels else None
    if negative_label is None:
        print(f"note: no '{config.negative_label}' label in the data; every label is a target "
              f"and no false-positive calibration is done", file=sys.stderr)
    splits = grouped_split([c.record for c in clips], fractions=config.split_fractions,
                           seed=config.seed)
    split_clips = {name: [clips[i] for i in indices] for name, indices in splits.items()}
    for name, members in split_clips.items():
        groups = len({c.record.group for c in members})
        print(f"{name}: {len(members)} clips from {groups} groups", file=sys.stderr)

    class_index = {label: i for i, label in enumerate(labels)}
    negative_index = class_index.get(negative_label)
    train_clips = prepare_clips([c.samples for c in split_clips["train"]],
                                [class_index[c.record.label] for c in split_clips["train"]],
                                negative_index=negative_index, settings=config.features,
                                augment=config.augment)
    mix_pool = [c for c in train_clips if c.class_index == negative_index]
    batches = WindowBatches(train_clips, mix_pool=mix_pool, n_classes=len(labels),
                            windows_per_clip=config.windows_per_clip,
                            batch_size=config.batch_size, seed=config.seed,
                            settings=config.features, augment=config.augment,
                            frontend=config.frontend)
    return RunData(labels=labels, negative_label=negative_label, split_clips=split_clips,
                   train_clips=train_clips, batches=batches,
                   validation=EvaluationSet(split_clips["validation"], config, "validation"),
                   test=EvaluationSet(split_clips["test"], config, "test"), skipped=skipped)


def fit(model: keras.Model, data: RunData, *, epochs: int, report: EpochReport,
        extra_callbacks: tuple = ()) -> tuple[keras.Model, bool]:
    """Train ``model`` (already compiled) and restore its best epoch's weights.

    Returns the model and whether Ctrl-C interrupted training.
    """
    interrupted = False
    try:
        model.fit(data.batches, epochs=epochs, class_weight=data.class_weight(),
                  callbacks=[*extra_callbacks, report], verbose=0, shuffle=False)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: finishing the run with the best epoch so far", file=sys.stderr)
    if report.best_weights is None:
        raise DataError("training stopped before an epoch could be kept; nothing to export")
    model.set_weights(report.best_weights)
    return model, interrupted


def compile_for_training(model: keras.Model, *, learning_rate: float, steps: int,
                         label_smoothing: float) -> None:
    """Adam with a cosine decay from ``learning_rate`` to zero over ``steps``, smoothed cross-entropy."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, steps))
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=["accuracy"])


def run_info() -> dict:
    """The command and versions, recorded in every run's ``config.json``."""
    return {"command": " ".join(sys.argv), "python": platform.python_version(),
            "tensorflow": tf.__version__}


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
        "splits": {name: {"clips": len(m), "groups": len({c.record.group for c in m})}
                   for name, m in data.split_clips.items()},
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
    validation_scores = validation.clip_scores(model)
    thresholds = _thresholds(validation_scores, validation.true, labels, negative_label, target_fpr)
    results = {}
    for name, evaluation, scores in (("validation", validation, validation_scores),
                                     ("test", test, test.clip_scores(model))):
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


def train_audio(config: AudioTrainConfig) -> dict:
    """Run a whole training (see the module docstring); returns the metrics written."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    info = run_info()
    config.write(out / "config.json", status="running", **info)
    data = load_run_data(config, out)

    keras.utils.set_random_seed(config.seed)
    model = build_model(config, len(data.labels))
    compile_for_training(model, learning_rate=config.learning_rate,
                         steps=config.epochs * len(data.batches),
                         label_smoothing=config.label_smoothing)
    checkpoint = out / "model.keras"
    report = EpochReport(validation=data.validation, labels=data.labels,
                         negative_label=data.negative_label, epochs=config.epochs,
                         target_fpr=config.target_fpr, save_best=lambda m: m.save(checkpoint))
    print(f"training on {len(data.train_clips)} clips, {len(data.batches)} batches per epoch, "
          f"{model.count_params():,} parameters", file=sys.stderr)
    model, interrupted = fit(model, data, epochs=config.epochs, report=report)
    metrics, _ = finish_run(model, data, config, report=report, interrupted=interrupted,
                            metadata_extra={"training_command": info["command"]})
    config.write(out / "config.json", status="interrupted" if interrupted else "finished",
                 labels=list(data.labels), negative_label=data.negative_label, **info)
    return metrics
