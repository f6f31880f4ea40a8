"""``sensing train radar``: from labelled (or simulated) nights to a sleep ``model.tflite`` and a report.

Steps: find the labelled recordings (or simulate nights), turn each into
classifier inputs (cached), split by night into train / validation / test,
train the CNN on single 30 s epochs (each seeing 150 s of context; some
with that context cut as at a recording's edge, see
:mod:`training.radar.batches`), and after
every pass smooth the validation nights with the HMM (its transition
probabilities counted from the training nights' labels; the loss weighs the
classes equally, so its prior is uniform) and score them epoch by
epoch; the pass with the best balanced accuracy (the mean of sleep
sensitivity, wake specificity and absent recall) is kept, and saved as it
happens, so an interrupted run still leaves its best model. The test nights
are scored once, at the end, through the exported ``.tflite`` file.

Training runs on one device, several, or several workers
(:mod:`training.distribute`), and a checkpoint after every pass lets
``--resume`` finish a killed run with the weights it would have had
(:mod:`training.checkpoints`).

Outputs in the run folder: ``config.json``, ``model.keras`` (best pass),
``model.tflite`` (labels, radar settings and smoothing inside),
``metrics.json``, ``training_curves.png``, ``confusion_validation.png``,
``confusion_test.png`` and ``hypnogram_test.png``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from sensing.errors import SensingError
from sensing.radar.recording import EPOCH_LABELS
from sensing.radar.sleep.epoch_metrics import compare_nights
from sensing.radar.sleep.hypnogram import plot_hypnogram
from sensing.radar.sleep.input import input_shape
from sensing.radar.sleep.model import SleepClassifier, SleepModelMetadata
from sensing.radar.sleep.smoothing import (
    SmoothingSettings,
    estimate_transitions,
    smooth_epochs,
)
from sensing.run_folder import CONFIG, MODEL, RunFolder
from training.checkpoints import deterministic_ops, save_best_model
from training.epoch_loop import BestEpochReport, compile_for_training, open_run, train_checkpointed
from training.export import export_tflite
from training.model import build_audio_cnn
from training.plots import plot_confusion_matrix, plot_training_curves
from training.radar.batches import EpochBatches
from training.radar.config import RadarTrainConfig
from training.radar.data import (
    LabelledNight,
    find_recordings,
    load_nights,
    simulate_training_nights,
    split_nights,
)
from training.scale import ScaleSettings
from training.tf_setup import keras

NIGHTS = "nights"
"""Where a run simulates its nights and keeps their inputs, labels and truth (in the run folder)."""
SELECTION = "balanced accuracy (mean of sleep sensitivity, wake specificity, absent recall) after smoothing"


def prepare_nights(config: RadarTrainConfig) -> list[LabelledNight]:
    """The run's labelled nights: simulated into ``out/nights`` or read from ``config.data``."""
    out = Path(config.out)
    if config.simulate is not None:
        return simulate_training_nights(
            out / NIGHTS,
            nights=config.simulate,
            hours=config.hours,
            seed=config.seed,
            settings=config.features,
            workers=config.workers,
            keep_recordings=config.keep_recordings,
        )
    if config.data is None:
        raise SensingError("give a folder of labelled recordings, or nights to simulate")
    return load_nights(
        find_recordings(config.data), config.features, out / "cache", root=config.data, workers=config.workers
    )


def score_nights(
    nights: list[LabelledNight], probabilities: list[np.ndarray], smoothing: SmoothingSettings
) -> dict:
    """Pooled agreement of each night's raw (argmax) and smoothed labels with its truth."""
    truths = [[EPOCH_LABELS[i] for i in night.labels] for night in nights]
    raw = [[EPOCH_LABELS[i] for i in p.argmax(axis=1)] for p in probabilities]
    smoothed = [smooth_epochs(p, smoothing) for p in probabilities]
    return {
        "raw": compare_nights(list(zip(truths, raw))),
        "smoothed": compare_nights(list(zip(truths, smoothed))),
        "per_night": {
            night.name: {
                "interferers": list(night.interferers),
                "centre_m": round(night.centre_m, 3),
                "centre": night.centre_how,
                **{
                    key: value
                    for key, value in compare_nights([(truth, labels)]).items()
                    if key
                    in ("accuracy", "sleep_sensitivity", "wake_specificity", "absent_recall", "tst_bias_min")
                },
            }
            for night, truth, labels in zip(nights, truths, smoothed)
        },
    }


def balanced_accuracy(figures: dict) -> float:
    """Mean of the three recalls, a missing one (no such epochs) left out."""
    recalls = [
        figures[key]
        for key in ("sleep_sensitivity", "wake_specificity", "absent_recall")
        if figures[key] is not None
    ]
    return float(np.mean(recalls))


class NightReport(BestEpochReport):
    """After each pass: smooth and score the validation nights, keep the best weights
    (see :class:`~training.epoch_loop.BestEpochReport` for the other arguments)."""

    def __init__(self, *, validation: list[LabelledNight], smoothing: SmoothingSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validation = validation
        self.smoothing = smoothing

    def score(self, model: keras.Model) -> tuple[float, dict]:
        probabilities = [model.predict(night.inputs, batch_size=256, verbose=0) for night in self.validation]
        figures = score_nights(self.validation, probabilities, self.smoothing)["smoothed"]
        return balanced_accuracy(figures), {"validation_accuracy": figures["accuracy"]}

    def describe(self, entry: dict, improved: bool) -> None:
        print(
            f"pass {entry['epoch']}/{self.epochs}  loss {entry['loss']:.4f}  "
            f"accuracy {entry['accuracy']:.3f}  validation: balanced accuracy "
            f"{entry['validation_score']:.3f}, accuracy {entry['validation_accuracy']:.3f} (smoothed)"
            f"{'  (best, saved)' if improved else ''}  [{entry['seconds']:.0f} s]",
            file=sys.stderr,
            flush=True,
        )


def _class_weight(nights: list[LabelledNight]) -> dict[int, float]:
    counts = np.bincount(np.concatenate([n.labels for n in nights]), minlength=len(EPOCH_LABELS))
    return {i: float(counts.sum() / (len(EPOCH_LABELS) * max(n, 1))) for i, n in enumerate(counts)}


def _split_summary(splits: dict[str, list[LabelledNight]]) -> dict:
    return {
        name: {
            "nights": len(nights),
            "epochs": int(sum(len(n.labels) for n in nights)),
            "labels": {
                label: int(sum((n.labels == i).sum() for n in nights)) for i, label in enumerate(EPOCH_LABELS)
            },
        }
        for name, nights in splits.items()
    }


@dataclasses.dataclass(frozen=True)
class RadarRunData:
    """What a sleep run trains and is measured on.

    Attributes:
        splits: the labelled nights of train, validation and test (split by night).
        summary: nights, 30 s epochs and labels of each split.
        batches: the training nights' epochs as shuffled, class-weighted batches.
        smoothing: the HMM settings, transitions counted from the training nights.
    """

    splits: dict[str, list[LabelledNight]]
    summary: dict
    batches: EpochBatches
    smoothing: SmoothingSettings


def run_data(
    config: RadarTrainConfig, nights: list[LabelledNight], *, replicas: int = 1, batch_seed: int | None = None
) -> RadarRunData:
    """Split ``nights`` as the run does (printing each split's size), batch the training nights
    for ``replicas`` devices in an order drawn from ``batch_seed`` (None: the run's seed) and
    count the smoothing's transitions."""
    splits = split_nights(nights, fractions=config.split_fractions, seed=config.seed)
    summary = _split_summary(splits)
    for name, figures in summary.items():
        print(
            f"{name}: {figures['nights']} nights, {figures['epochs']} 30 s epochs {figures['labels']}",
            file=sys.stderr,
        )
    batches = EpochBatches(
        np.concatenate([night.inputs for night in splits["train"]]),
        np.concatenate([night.labels for night in splits["train"]]),
        n_classes=len(EPOCH_LABELS),
        global_batch=config.batch_size * replicas,
        seed=config.seed if batch_seed is None else batch_seed,
        settings=config.features,
        class_weight=_class_weight(splits["train"]),
    )
    train_labels = [[EPOCH_LABELS[i] for i in night.labels] for night in splits["train"]]
    # Balanced class weights make the network's outputs posteriors under a uniform prior,
    # which is the prior the HMM divides by.
    smoothing = SmoothingSettings(
        transitions=estimate_transitions(train_labels), min_awakening_epochs=config.min_awakening_epochs
    )
    return RadarRunData(splits=splits, summary=summary, batches=batches, smoothing=smoothing)


def measure_nights(classifier: SleepClassifier, data: RadarRunData) -> dict:
    """Raw and smoothed figures of a model file on the validation and test nights (those there are)."""
    results = {}
    for name in ("validation", "test"):
        if data.splits[name]:
            probabilities = [classifier.predict_epochs(night.inputs) for night in data.splits[name]]
            results[name] = score_nights(data.splits[name], probabilities, data.smoothing)
    return results


def build_sleep_model(config: RadarTrainConfig) -> keras.Model:
    """The run's network, untrained."""
    return build_audio_cnn(
        input_shape=input_shape(config.features),
        n_classes=len(EPOCH_LABELS),
        settings=config.cnn,
        name="radar_cnn",
    )


def train_radar(config: RadarTrainConfig, scale: ScaleSettings | None = None) -> dict | None:
    """Run a whole training (see the module docstring); returns the metrics written, or None
    on a worker other than the chief (it trains, then leaves the run folder to worker 0)."""
    scale = scale or ScaleSettings()
    config, place = open_run(config, scale)
    out = Path(config.out)
    replicas = place.replicas
    data = run_data(config, prepare_nights(config), replicas=replicas)

    deterministic_ops()
    keras.utils.set_random_seed(config.seed)
    with place.strategy.scope():
        model = build_sleep_model(config)
        compile_for_training(
            model,
            learning_rate=config.learning_rate * replicas,
            steps=config.epochs * data.batches.steps_per_epoch,
            label_smoothing=config.label_smoothing,
        )
    report = NightReport(
        validation=data.splits["validation"],
        smoothing=data.smoothing,
        epochs=config.epochs,
        save_best=lambda m: save_best_model(m, out),
        scoring_model=build_sleep_model(config) if replicas > 1 else None,
    )
    print(
        f"training on {len(data.batches.inputs)} 30 s epochs of {len(data.splits['train'])} nights, "
        f"{data.batches.steps_per_epoch} steps of {data.batches.global_batch} per pass ({replicas} replica"
        f"{'s' if replicas > 1 else ''}), {model.count_params():,} parameters",
        file=sys.stderr,
    )
    model, interrupted = train_checkpointed(
        model,
        data.batches,
        place=place,
        out=out,
        resume=scale.resume,
        report=report,
        identity={"replicas": replicas, "steps_per_epoch": data.batches.steps_per_epoch},
        epochs=config.epochs,
        seed=config.seed,
        epoch_name="pass",
    )
    if model is None:
        return None
    metrics, _ = finish_radar_run(
        model,
        config,
        data,
        report=report,
        interrupted=interrupted,
        command=place.info["command"],
        metadata_extra={},
    )
    config.write(out / CONFIG, status="interrupted" if interrupted else "finished", **place.info)
    return metrics


def finish_radar_run(
    model: keras.Model,
    config: RadarTrainConfig,
    data: RadarRunData,
    *,
    report: NightReport,
    interrupted: bool,
    command: str,
    metadata_extra: dict,
) -> tuple[dict, SleepModelMetadata]:
    """Export ``model.tflite``, score the validation and test nights through it, write
    ``metrics.json`` and the plots (the caller marks ``config.json`` finished when it is done).

    Returns the metrics and the model file's metadata.
    """
    out = Path(config.out)
    metadata = SleepModelMetadata(
        labels=EPOCH_LABELS,
        features=config.features,
        smoothing=data.smoothing,
        extra={
            "training_command": command,
            "training_nights": len(data.splits["train"]),
            **metadata_extra,
        },
    )
    model_path = export_tflite(model, out / MODEL, metadata)
    classifier = SleepClassifier(model_path)
    results = measure_nights(classifier, data)
    metrics = {
        "labels": list(EPOCH_LABELS),
        "selection": SELECTION,
        "best_epoch": report.best_epoch,
        "interrupted": interrupted,
        "parameters": int(model.count_params()),
        "model_bytes": model_path.stat().st_size,
        "transitions": data.smoothing.transitions,
        "splits": data.summary,
        "history": report.history,
        **results,
    }
    if "test" not in results:
        metrics["note"] = "no test nights: too few nights for a test split"
    RunFolder(out).write_metrics(metrics)
    _plots(out, report.history, results, data.splits, classifier, data.smoothing)
    return metrics, metadata


def _plots(
    out: Path,
    history: list[dict],
    results: dict,
    splits: dict[str, list[LabelledNight]],
    classifier: SleepClassifier,
    smoothing: SmoothingSettings,
) -> None:
    plot_training_curves(
        history,
        out / "training_curves.png",
        score_label="validation: balanced accuracy after smoothing",
        accuracy_label="training epoch accuracy",
    )
    for name, figures in results.items():
        smoothed = figures["smoothed"]
        plot_confusion_matrix(
            smoothed["confusion"],
            list(EPOCH_LABELS),
            out / f"confusion_{name}.png",
            title=f"{name}: {smoothed['epochs']} 30 s epochs of {smoothed['nights']} nights",
        )
    name = "test" if splits["test"] else "validation"
    night = splits[name][0]
    probabilities = classifier.predict_epochs(night.inputs)
    plot_hypnogram(
        smooth_epochs(probabilities, smoothing),
        out / f"hypnogram_{name}.png",
        probabilities=probabilities,
        truth=[EPOCH_LABELS[i] for i in night.labels],
        title=f"{name} night {night.name}: smoothed prediction against the truth",
    )
