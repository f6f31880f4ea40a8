"""An audio run's clips, split by group, and how a model of the run is calibrated and scored.

Shared by training (:mod:`training.audio.train`), pruning, int8 quantization and
the LEAF outputs: reading and scanning the clips once, the validation scores
thresholds are calibrated on (as recorded and over faint noise floors), and
clip-level metrics at those thresholds.
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensing.audio.clips import check_label_counts
from sensing.audio.decision import decide
from sensing.errors import DataError
from sensing.files import atomic_path
from sensing.wording import plural
from training.audio.agreement import ReferenceDecisions, matching_thresholds
from training.audio.calibration import calibrate_thresholds
from training.audio.clip_store import (
    STORED_FORMS,
    ClipSource,
    cache_description,
    scan_clips,
)
from training.audio.config import AudioTrainConfig
from training.audio.dataset import SkippedClip, read_training_clips, skipped_summary
from training.audio.evaluation_set import EvaluationSet, keras_predict
from training.audio.feature_cache import FeatureCache
from training.audio.metrics import clip_metrics
from training.audio.splits import grouped_split
from training.audio.window_stream import TrainingWindows
from training.tf_setup import keras


def decisions(
    scores: np.ndarray, labels: tuple[str, ...], thresholds: dict[str, float], negative_label: str | None
) -> list[str]:
    return [
        decide(dict(zip(labels, row)), thresholds=thresholds, negative_label=negative_label) for row in scores
    ]


CALIBRATION_FLOORS_DB = (44.0, 24.0)
"""Besides as recorded, the validation clips are scored over a pink noise floor this far below
the mean mel power of their loudest frame (:func:`training.audio.evaluation_set.over_floor`; about
10 dB milder than a clip at -26 and -46 dBFS peak over -70 dBFS noise), and thresholds are
calibrated on all of them together: a bedside hears quiet sounds over room noise."""


def calibration_scores(
    validation: EvaluationSet, predict: Callable[[np.ndarray], np.ndarray], scores: np.ndarray | None = None
) -> tuple[np.ndarray, list[str]]:
    """``(scores, true)`` of the validation clips as recorded (``scores``, when already computed)
    and, for runs that store log-mel, over each of :data:`CALIBRATION_FLOORS_DB`, stacked."""
    pooled = [validation.clip_scores(predict) if scores is None else scores]
    if STORED_FORMS[validation.source.frontend] == "log_mel":
        pooled += [validation.with_floor(below_db).clip_scores(predict) for below_db in CALIBRATION_FLOORS_DB]
    return np.concatenate(pooled), validation.true * len(pooled)


def calibrated_thresholds(
    scores: np.ndarray,
    true: list[str],
    labels: tuple[str, ...],
    negative_label: str | None,
    target_fpr: float,
    reference: ReferenceDecisions | None = None,
) -> dict[str, float]:
    """Thresholds per target label from the (clips, labels) ``scores`` of
    :func:`calibration_scores`: letting ``target_fpr`` of the negatives through, or with
    ``reference`` making the model decide as the reference does on the same clips
    (:mod:`training.audio.agreement`). Empty with neither a negative label nor a reference."""
    if reference is not None:
        return matching_thresholds(scores, reference.scores, reference.thresholds, labels)
    if negative_label is None:
        return {}
    return calibrate_thresholds(
        labels=labels, true=true, scores=scores, negative_label=negative_label, target_fpr=target_fpr
    )


def write_skipped(skipped: list[SkippedClip], path: Path) -> None:
    """Write the files a run could not use, with the reason, as CSV (whole or not at all)."""
    with atomic_path(path) as partial, open(partial, "w", newline="") as handle:
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
        return {
            name: {"clips": len(slots), "groups": len({self.source.entries[s].record.group for s in slots})}
            for name, slots in self.splits.items()
        }

    def representative_windows(self, count: int, seed: int) -> np.ndarray:
        """(up to count, frames, mels, 3): one unaugmented window from each of up to ``count``
        random training clips, for int8 calibration."""
        if self.source.frontend != "mel":
            raise DataError(
                f"int8 calibration takes log-mel windows; this run trains a {self.source.frontend} frontend"
            )
        rng = np.random.default_rng(seed)
        train = self.splits["train"]
        chosen = sorted(rng.choice(len(train), size=min(count, len(train)), replace=False))
        windows = {}
        for positions, inputs in EvaluationSet(
            self.source, [train[i] for i in chosen], "calibration"
        ).clip_inputs():
            for position in positions:
                windows[position] = inputs[np.random.default_rng((seed, position)).integers(len(inputs))]
        return np.stack([windows[p] for p in sorted(windows)]).astype(np.float32)


def load_run_data(
    config: AudioTrainConfig, out: Path, *, cache: str | None = None, replicas: int = 1
) -> RunData:
    """Read, scan and split the clips of ``config.data`` (writes ``out/skipped.csv``).

    Args:
        config: the run's settings.
        out: its folder.
        cache: a feature cache folder to read and fill, or None.
        replicas: replicas in sync; each takes ``config.batch_size`` windows per step.
    """
    records = read_training_clips(config.data)
    check_label_counts(records, min_clips=config.min_clips_per_label, min_groups=3)
    feature_cache = (
        FeatureCache(cache, cache_description(config.frontend, config.features, config.augment))
        if cache
        else None
    )
    entries, skipped = scan_clips(
        records,
        frontend=config.frontend,
        settings=config.features,
        augment=config.augment,
        cache=feature_cache,
        strict=config.strict,
    )
    write_skipped(skipped, out / "skipped.csv")
    if skipped:
        print(skipped_summary(skipped), file=sys.stderr)
    check_label_counts([e.record for e in entries], min_clips=config.min_clips_per_label, min_groups=3)

    labels = tuple(sorted({e.record.label for e in entries}))
    negative_label = config.negative_label if config.negative_label in labels else None
    if negative_label is None:
        print(
            f"note: no '{config.negative_label}' label in the data; every label is a target "
            f"and no false-positive calibration is done",
            file=sys.stderr,
        )
    splits = grouped_split(
        [e.record for e in entries], fractions=config.split_fractions, seed=config.group_split_seed
    )
    source = ClipSource(
        entries,
        frontend=config.frontend,
        settings=config.features,
        augment=config.augment,
        cache=feature_cache,
    )
    for name, slots in splits.items():
        groups = len({entries[s].record.group for s in slots})
        print(f"{name}: {plural(len(slots), 'clip')} from {plural(groups, 'group')}", file=sys.stderr)

    class_index = np.array([labels.index(e.record.label) for e in entries])
    windows = TrainingWindows(
        source,
        splits["train"],
        class_index=class_index,
        negative_index=labels.index(negative_label) if negative_label else None,
        n_classes=len(labels),
        windows_per_clip=config.windows_per_clip,
        global_batch=config.batch_size * replicas,
        seed=config.seed,
        augment=config.augment,
    )
    return RunData(
        labels=labels,
        negative_label=negative_label,
        source=source,
        splits=splits,
        windows=windows,
        validation=EvaluationSet(source, splits["validation"], "validation"),
        test=EvaluationSet(source, splits["test"], "test"),
        skipped=skipped,
    )


def evaluate_model(
    model: keras.Model,
    validation: EvaluationSet,
    test: EvaluationSet,
    *,
    labels: tuple[str, ...],
    negative_label: str | None,
    target_fpr: float,
    reference: ReferenceDecisions | None = None,
) -> tuple[dict[str, float], dict[str, dict], dict[str, np.ndarray]]:
    """Calibrate thresholds on ``validation``; clip metrics of both sets at those thresholds.

    The thresholds let ``target_fpr`` of the validation negatives through (:func:`calibration_scores`'
    clips) or, given a ``reference`` model's scores of those clips, make the model decide as the
    reference does (:mod:`training.audio.agreement`).

    Returns ``(thresholds, {"validation": metrics, "test": metrics}, {"validation": scores,
    "test": scores})``, the scores (clips, labels) per clip as recorded.
    """
    predict = keras_predict(model)
    scores = {"validation": validation.clip_scores(predict), "test": test.clip_scores(predict)}
    pooled, pooled_true = calibration_scores(validation, predict, scores["validation"])
    thresholds = calibrated_thresholds(pooled, pooled_true, labels, negative_label, target_fpr, reference)
    results = {
        name: clip_metrics(
            labels=labels,
            true=evaluation.true,
            predicted=decisions(scores[name], labels, thresholds, negative_label),
            scores=scores[name],
            negative_label=negative_label,
            categories=evaluation.categories,
            durations_s=evaluation.durations_s,
        )
        for name, evaluation in (("validation", validation), ("test", test))
    }
    return thresholds, results, scores
