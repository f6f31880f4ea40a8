"""``sensing evaluate``: what a user will see at a bedside, measured on groups a model never saw.

Three measurements of a finished run's model (or another model file with the
same labels) on the run's test groups, rebuilt from its ``config.json``:

- **level sweep** (:func:`level_sweep`): every test clip peak-normalised to
  -6, -26 and -46 dBFS over a faint pink-noise floor (-70 dBFS RMS), scored
  clip by clip with the model's thresholds: recall per target label and the
  share of negative clips called a target;
- **bedroom nights** (:func:`night_figures`): ``--nights N`` nights built from
  the test clips (:mod:`training.audio.bedroom_nights`), run through the runtime's
  ``detect`` path, scored against their truth;
- **leave one out** (:func:`holdout_figures`): ``--holdout COLUMN`` trains the
  run's settings once per value of a manifest column (a source, a microphone,
  a dataset) without that value's clips, and scores those clips: recall of
  each target label at a 3% false-positive rate; with ``--prune SPARSITY``, each
  of those runs is also pruned and its sparse file scored beside it.

Everything is written to ``OUT/evaluation.json``, ``OUT/evaluation.md`` and
``OUT/evaluation.png``, with progress on stderr.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.clips import ClipRecord
from sensing.audio.detect import default_event_settings, run_detection, tracker_for
from sensing.audio.events import EventSettings
from sensing.errors import SensingError
from sensing.files import atomic_path, make_folder, write_atomically
from sensing.progress import Progress
from sensing.run_folder import SPARSE_MODEL, RunFolder
from sensing.synthetic import sounds as synth
from training.audio.bedroom_nights import (
    CURVE_FIGURES,
    Night,
    TrueEvent,
    build_night,
    night_totals,
    score_night,
    write_truth,
)
from training.audio.dataset import LoadedClip
from training.audio.evaluate import split_clips
from training.audio.metrics import threshold_for_fpr
from training.run_settings import AudioPruneSettings

SWEEP_LEVELS_DBFS = (-6.0, -26.0, -46.0)
"""Clip peak levels of the level sweep."""

SWEEP_FLOOR_DBFS = -70.0
"""RMS level of the pink-noise floor under every swept clip."""

HOLDOUT_FPR = 0.03
"""False-positive rate at which leave-one-out recall is read."""

BLOCK_S = 10.0
"""Seconds of night audio handed to the detector at a time."""


def _targets(classifier: AudioClassifier) -> list[str]:
    return [label for label in classifier.labels if label != classifier.metadata.negative_label]


def on_floor(clip: np.ndarray, *, peak_dbfs: float, rng: np.random.Generator, sr: int) -> np.ndarray:
    """``clip`` peak-normalised to ``peak_dbfs``, 0.5 s into pink noise at :data:`SWEEP_FLOOR_DBFS`
    RMS that runs 0.5 s past its end (float32)."""
    bed = synth.noise(rng, duration_s=clip.size / sr + 1.0, color="pink", sr=sr)
    bed = bed / np.sqrt(np.mean(np.square(bed, dtype=np.float64))) * 10 ** (SWEEP_FLOOR_DBFS / 20)
    start = sr // 2
    bed[start : start + clip.size] += synth.peak_normalise(clip, level_dbfs=peak_dbfs)
    return bed.astype(np.float32)


def level_sweep(classifier: AudioClassifier, clips: list[LoadedClip], *, seed: int) -> dict:
    """Clip-level recall per target label and false-positive rate at each of :data:`SWEEP_LEVELS_DBFS`."""
    sr = classifier.metadata.features.sr
    negative = classifier.metadata.negative_label
    targets = _targets(classifier)
    progress = Progress("level sweep", len(clips) * len(SWEEP_LEVELS_DBFS))
    figures = {}
    for level in SWEEP_LEVELS_DBFS:
        rng = np.random.default_rng([seed, 0x1E7])
        decided = []
        for clip in clips:
            decided.append(
                classifier.classify_audio(on_floor(clip.samples, peak_dbfs=level, rng=rng, sr=sr)).label
            )
            progress.advance()
        true = np.array([c.record.label for c in clips])
        decisions = np.array(decided)
        row = {f"{label}_recall": _share(decisions[true == label] == label) for label in targets}
        if negative is not None:
            row["false_positive_rate"] = _share(decisions[true == negative] != negative)
            row["negative_clips"] = int(np.sum(true == negative))
        row.update({f"{label}_clips": int(np.sum(true == label)) for label in targets})
        figures[f"{level:g} dBFS"] = row
    progress.finish()
    return {"floor_dbfs": SWEEP_FLOOR_DBFS, "levels": figures}


def _share(hits: np.ndarray) -> float | None:
    return round(float(np.mean(hits)), 3) if hits.size else None


ScoredWindow = tuple[float, dict[str, float], np.ndarray]
"""One window as the event rules see it: start in seconds, probability per label, frame levels in dBFS."""

CURVE_THRESHOLDS = tuple(round(0.5 + 0.01 * step, 2) for step in range(50))
"""Window thresholds the nights are also scored at for each event label (beside the model's own):
0.50 to 0.99 in steps of 0.01, fine enough to compare two models at the same false rate."""


def threshold_curve(
    classifier: AudioClassifier,
    event_settings: EventSettings,
    nights: list[tuple[list[TrueEvent], list[ScoredWindow], float]],
    label: str,
    thresholds: tuple[float, ...] = CURVE_THRESHOLDS,
) -> list[dict]:
    """The nights scored again at each window threshold of ``label`` (cough or snore): the event
    rules replayed on the windows the model scored once (the other label's threshold unchanged).
    Each row holds the threshold, whether it is the model's own, and the label's
    :data:`CURVE_FIGURES`."""
    own = event_settings.thresholds[label]
    rows = []
    for threshold in sorted({*thresholds, own}):
        settings = dataclasses.replace(
            event_settings, thresholds={**event_settings.thresholds, label: threshold}
        )
        scores = []
        for truth, windows, duration_s in nights:
            tracker = tracker_for(classifier, settings)
            events = [event for window in windows for event in tracker.update(*window)] + tracker.finish()
            scores.append(score_night([event.to_dict() for event in events], truth, duration_s=duration_s))
        totals = night_totals(scores)
        rows.append(
            {
                "threshold": round(threshold, 4),
                "model_threshold": threshold == own,
                **{key: totals[key] for key in CURVE_FIGURES[label]},
            }
        )
    return rows


def night_seed(seed: int, index: int) -> int:
    """The seed of night ``index`` (from 0) of an evaluation with ``seed``."""
    return seed * 1000 + index


def clips_by_label(clips: list[LoadedClip]) -> dict[str, list[LoadedClip]]:
    """``clips`` by their label, in order."""
    by_label: dict[str, list[LoadedClip]] = {}
    for clip in clips:
        by_label.setdefault(clip.record.label, []).append(clip)
    return by_label


def detected_night(
    classifier: AudioClassifier, night: Night, *, event_settings: EventSettings, folder: Path, source: dict
) -> tuple[dict, list[ScoredWindow]]:
    """``night`` run through the runtime's ``detect`` path (its outputs written to ``folder``,
    ``source`` and the night's conditions recorded in its report): the report, and every window
    as the event rules saw it, to replay them with other rules."""
    block = int(BLOCK_S * night.sr)
    windows: list[ScoredWindow] = []
    report = run_detection(
        (night.audio[i : i + block] for i in range(0, night.audio.size, block)),
        classifier=classifier,
        out_dir=folder,
        event_settings=event_settings,
        source={**source, **night.conditions},
        on_window=lambda *window: windows.append(window),
    )
    return report, windows


def night_figures(
    classifier: AudioClassifier, clips: list[LoadedClip], *, nights: int, minutes: float, seed: int, out: Path
) -> dict:
    """Build ``nights`` bedroom nights from ``clips``, detect events in each as ``sensing detect``
    does, and score them (per night and in total, and at other cough and snore thresholds:
    :func:`threshold_curve`). Each night's folder ``OUT/nights/night_K`` holds its
    ``truth.csv`` and the detector's outputs."""
    by_label = clips_by_label(clips)
    settings = classifier.metadata.features
    event_settings = default_event_settings(classifier)
    scores = []
    replayable = []
    for index in range(nights):
        folder = make_folder(out / "nights" / f"night_{index}")
        night = build_night(
            by_label, duration_s=minutes * 60, seed=night_seed(seed, index), settings=settings
        )
        write_truth(night.truth, folder / "truth.csv")
        report, windows = detected_night(
            classifier, night, event_settings=event_settings, folder=folder, source={"bedroom_night": index}
        )
        replayable.append((night.truth, windows, night.audio.size / night.sr))
        score = score_night(report["events"], night.truth, duration_s=night.audio.size / night.sr)
        score["conditions"] = night.conditions
        scores.append(score)
        print(
            f"night {index + 1}/{nights}: {score['found_coughs']} of {score['true_coughs']} coughs found, "
            f"{score['false_coughs']} false; snore minutes {score['detected_snore_minutes']} against "
            f"{score['true_snore_minutes']} ({night.conditions['noise_floor']} floor at "
            f"{night.conditions['noise_floor_dbfs']} dBFS, RT60 {night.conditions['room']['rt60_s']} s, "
            f"{night.conditions['room']['distance_m']} m)",
            file=sys.stderr,
        )
    return {
        "minutes": minutes,
        "totals": night_totals(scores),
        "per_night": scores,
        **{
            f"{label}_threshold_curve": threshold_curve(classifier, event_settings, replayable, label)
            for label in CURVE_FIGURES
            if label in event_settings.thresholds
        },
    }


def _has_value(values: dict[Path, str], value: str, path: Path) -> bool:
    """Whether the manifest row of ``path`` holds ``value`` in the held-out column."""
    return values.get(path) == value


def recall_at_fpr(
    classifier: AudioClassifier, positives: list[LoadedClip], negatives: list[LoadedClip], *, fpr: float
) -> dict:
    """Per target label: recall of ``positives`` at the threshold that lets ``fpr`` of ``negatives`` through."""

    def scores(clips):
        return np.array(
            [
                [classifier.classify_audio(c.samples).scores[label] for label in classifier.labels]
                for c in clips
            ]
        ).reshape(len(clips), len(classifier.labels))

    negative_scores, positive_scores = scores(negatives), scores(positives)
    true = np.array([c.record.label for c in positives])
    figures = {}
    for index, label in enumerate(classifier.labels):
        if label == classifier.metadata.negative_label or not np.any(true == label):
            continue
        threshold = threshold_for_fpr(negative_scores[:, index], fpr)
        figures[label] = {
            "clips": int(np.sum(true == label)),
            "threshold": round(threshold, 4),
            "recall": _share(positive_scores[true == label, index] >= threshold),
        }
    return figures


def manifest_column(manifest: Path, column: str) -> dict[Path, str]:
    """Each clip's value in ``column`` of a manifest CSV, by resolved path."""
    with open(manifest, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if column not in (reader.fieldnames or []):
            raise SensingError(
                f"{manifest}: no column '{column}' to hold out "
                f"(columns: {', '.join(reader.fieldnames or [])})"
            )
        return {(manifest.parent / row["path"]).resolve(): row[column].strip() for row in reader}


def holdout_figures(
    run: Path,
    *,
    column: str,
    out: Path,
    epochs: int | None,
    cache: str | None,
    skip_groups: tuple[str, ...] = (),
    prune: AudioPruneSettings | None = None,
) -> dict:
    """Leave-one-out over ``column`` of the run's manifest: for each value with target clips, train
    the run's settings without that value's clips (``OUT/holdout/VALUE/run``) and score them, with the
    new run's test negatives and the value's own negatives, at :data:`HOLDOUT_FPR`. A value whose
    clips all lie in groups starting with one of ``skip_groups`` is not held out.

    With ``prune``, each held-out run is also pruned with those settings (``OUT/holdout/VALUE/pruned``)
    and its ``model_sparse.tflite`` scored on the same clips, so a pruned model's generalisation is
    measured against its own dense base."""
    from training.audio.config import AudioTrainConfig
    from training.audio.train import train_audio
    from training.scale import ScaleSettings

    config = AudioTrainConfig.read(RunFolder(run).config_path)
    manifest = Path(config.data)
    if not manifest.exists():
        raise SensingError(f"{run}: its training data {manifest} is gone; --holdout trains on it again")
    if manifest.is_dir():
        raise SensingError(
            f"--holdout needs a manifest CSV with a '{column}' column; {run} was trained "
            f"on the folder {manifest}"
        )
    values = manifest_column(manifest, column)
    with open(manifest, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    held = {}
    for value in sorted({v for v in values.values() if v}):
        rows_of_value = [row for row in rows if row[column].strip() == value]
        if not {row["label"] for row in rows_of_value} - {config.negative_label}:
            print(f"holdout: '{value}' has no target clips; not held out", file=sys.stderr)
            continue
        if all(any((row.get("group") or "").startswith(p) for p in skip_groups) for row in rows_of_value):
            print(f"holdout: '{value}' lies in skipped groups; not held out", file=sys.stderr)
            continue
        folder = make_folder(out / "holdout" / _safe(value))
        kept = folder / "manifest.csv"
        with atomic_path(kept) as temporary, open(temporary, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                if row[column].strip() != value:
                    writer.writerow({**row, "path": str((manifest.parent / row["path"]).resolve())})
        if not RunFolder(folder / "run").finished():
            print(f"holdout: training without {column}={value}", file=sys.stderr)
            overrides: dict[str, object] = {"data": str(kept), "out": str(folder / "run")}
            if epochs:
                overrides["epochs"] = epochs
            train_audio(
                AudioTrainConfig.read(RunFolder(run).config_path, **overrides), ScaleSettings(cache=cache)
            )
        classifier = AudioClassifier(RunFolder(folder / "run").model)
        sr = classifier.metadata.features.sr
        test_negatives = split_clips(
            folder / "run", split="test", sr=sr, keep=lambda r: r.label == config.negative_label
        )
        own = split_clips_of(manifest, partial(_has_value, values, value), sr=sr)
        negatives = test_negatives + [c for c in own if c.record.label == config.negative_label]
        positives = [c for c in own if c.record.label != config.negative_label]
        recalls = recall_at_fpr(classifier, positives, negatives, fpr=HOLDOUT_FPR)
        held[value] = {"clips": len(own), "negatives": len(negatives), "labels": recalls}
        print(
            f"holdout {column}={value}: "
            + ", ".join(f"{label} recall {row['recall']}" for label, row in recalls.items()),
            file=sys.stderr,
        )
        if prune is not None:
            sparse = AudioClassifier(pruned_holdout_model(folder, prune))
            pruned_recalls = recall_at_fpr(sparse, positives, negatives, fpr=HOLDOUT_FPR)
            held[value]["pruned"] = pruned_recalls
            print(
                f"holdout {column}={value}, pruned to {prune.sparsity:.0%}: "
                + ", ".join(f"{label} recall {row['recall']}" for label, row in pruned_recalls.items()),
                file=sys.stderr,
            )
    return {
        "column": column,
        "fpr": HOLDOUT_FPR,
        **(
            {
                "pruned_sparsity": prune.sparsity,
                "pruning_epochs": prune.epochs,
                "pruning_distill": prune.distill,
            }
            if prune is not None
            else {}
        ),
        "held_out": held,
    }


def pruned_holdout_model(folder: Path, settings: AudioPruneSettings) -> Path:
    """``FOLDER/pruned/model_sparse.tflite``: the held-out run ``FOLDER/run`` pruned with
    ``settings``; a finished pruned run with the same settings is reused."""
    from training.audio.prune import prune_run
    from training.pruning import pruned_with

    pruned = folder / "pruned"
    if not pruned_with(pruned, folder / "run", settings):
        print(f"holdout: pruning {folder / 'run'} to {settings.sparsity:.0%}", file=sys.stderr)
        prune_run(folder / "run", pruned, settings)
    return pruned / SPARSE_MODEL


def split_clips_of(manifest: Path, keep_path: Callable[[Path], bool], *, sr: int) -> list[LoadedClip]:
    """The clips of ``manifest`` whose resolved path passes ``keep_path``, decoded at ``sr``."""
    from training.audio.dataset import load_clips, read_training_clips

    records = [r for r in read_training_clips(manifest) if keep_path(Path(r.path).resolve())]
    clips, _ = load_clips(records, sr=sr, strict=False)
    return clips


def _safe(value: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in value) or "_"


def evaluate(
    run: Path,
    *,
    out: Path,
    model: Path | None = None,
    nights: int = 0,
    minutes: float = 30.0,
    levels: bool = True,
    holdout: str | None = None,
    holdout_epochs: int | None = None,
    skip_groups: tuple[str, ...] = (),
    seed: int = 0,
    cache: str | None = None,
    prune: AudioPruneSettings | None = None,
) -> dict:
    """Run the chosen measurements and write ``evaluation.json``, ``evaluation.md`` and ``evaluation.png``."""
    run, out = Path(run), Path(out)
    if not RunFolder(run).is_run():
        raise SensingError(f"{run}: not a training run folder (no config.json)")
    model = Path(model) if model else RunFolder(run).model
    classifier = AudioClassifier(model)
    make_folder(out)

    def keep(record: ClipRecord) -> bool:
        return not any(record.group.startswith(prefix) for prefix in skip_groups)

    results: dict = {"run": str(run), "model": str(model), "seed": seed, "skip_groups": list(skip_groups)}
    if levels or nights:
        clips = split_clips(run, split="test", keep=keep, sr=classifier.metadata.features.sr)
        if not clips:
            raise SensingError(f"{run}: no test clips left to evaluate")
        results["test_clips"] = len(clips)
        results["test_groups"] = len({c.record.group for c in clips})
        if levels:
            results["level_sweep"] = level_sweep(classifier, clips, seed=seed)
        if nights:
            results["nights"] = night_figures(
                classifier, clips, nights=nights, minutes=minutes, seed=seed, out=out
            )
    if holdout:
        results["holdout"] = holdout_figures(
            run,
            column=holdout,
            out=out,
            epochs=holdout_epochs,
            cache=cache,
            skip_groups=skip_groups,
            prune=prune,
        )
    write_atomically(out / "evaluation.json", json.dumps(results, indent=2) + "\n")
    from training.audio.evaluation_report import plot_evaluation, tables_markdown

    write_atomically(out / "evaluation.md", tables_markdown(results) + "\n")
    results["plot"] = plot_evaluation(results, out / "evaluation.png")
    return results
