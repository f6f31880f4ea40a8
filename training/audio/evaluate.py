"""Held-out figures of a finished run, measured through the runtime's TFLite path.

Rebuilds the run's grouped split from its ``config.json`` (same data, seed and
fractions give the same split) and classifies the clips of one split with the
run's ``model.tflite`` through :class:`sensing.audio.classifier.AudioClassifier`,
exactly as ``sensing classify`` would on a Raspberry Pi.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.clips import ClipRecord
from sensing.run_folder import MODEL, RunFolder
from sensing.wording import plural
from training.audio.config import AudioTrainConfig
from training.audio.dataset import LoadedClip, load_clips, read_training_clips
from training.audio.metrics import clip_metrics
from training.audio.splits import grouped_split


def split_clips(
    run: str | Path, *, split: str, keep: Callable[[ClipRecord], bool] | None = None, sr: int
) -> list[LoadedClip]:
    """The clips of ``split`` of a finished run, rebuilt from its ``config.json``, in split order."""
    config = AudioTrainConfig.read(RunFolder(run).config_path)
    clips, _ = load_clips(read_training_clips(config.data), sr=sr, strict=False)
    indices = grouped_split(
        [c.record for c in clips], fractions=config.split_fractions, seed=config.group_split_seed
    )[split]
    return [clips[i] for i in indices if keep is None or keep(clips[i].record)]


def evaluate_run(
    run: str | Path,
    *,
    split: str = "test",
    keep: Callable[[ClipRecord], bool] | None = None,
    model_file: str = MODEL,
) -> dict:
    """Clip-level figures (see :func:`training.audio.metrics.clip_metrics`) for ``split`` of ``run``.

    Args:
        run: a run folder written by ``sensing train audio``.
        split: ``validation`` or ``test``.
        keep: only clips for which this returns True are scored (for example
            only real recordings when synthetic ones were mixed in).
        model_file: which exported file of the run to score (``model_int8.tflite``...).
    """
    run = Path(run)
    config = RunFolder(run).config()
    classifier = AudioClassifier(run / model_file)
    chosen = split_clips(run, split=split, keep=keep, sr=classifier.metadata.features.sr)
    started = time.monotonic()
    results = [classifier.classify_audio(clip.samples) for clip in chosen]
    seconds = time.monotonic() - started
    labels = classifier.labels
    figures = clip_metrics(
        labels=labels,
        true=[c.record.label for c in chosen],
        predicted=[r.label for r in results],
        scores=np.array([[r.scores[label] for label in labels] for r in results]),
        negative_label=classifier.metadata.negative_label,
        categories=[c.record.category for c in chosen],
        durations_s=np.array([c.samples.size / classifier.metadata.features.sr for c in chosen]),
    )
    figures.update(
        {
            "split": split,
            "groups": len({c.record.group for c in chosen}),
            "classify_seconds": round(seconds, 1),
            "audio_seconds": round(float(sum(r.duration_s for r in results)), 1),
            "backend": classifier.backend,
            "target_fpr": config["target_fpr"],
            "thresholds": classifier.metadata.thresholds,
            "decisions": [r.label for r in results],
        }
    )
    return figures


def _format(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def figures_markdown(figures: dict) -> str:
    """The figures as Markdown tables, for a README or a model card."""
    unseen = (
        "never seen in training or threshold calibration"
        if figures["split"] == "test"
        else "never seen in training (the thresholds were calibrated on them)"
    )
    lines = [
        (
            f"{figures['split']} split: {plural(figures['clips'], 'clip')} from {plural(figures['groups'], 'group')} "
            f"{unseen}; model run on {figures['backend']} "
            f"({figures['audio_seconds']} s of audio in {figures['classify_seconds']} s)."
        ),
        "",
        "| label | clips | precision | recall | F1 | ROC AUC | recall at 1% FPR |",
        "|---|---|---|---|---|---|---|",
    ]
    negatives = figures.get("negatives", {})
    recall_at_fpr = negatives.get("recall_at_1%_fpr", {})
    for label, row in figures["per_class"].items():
        if label in recall_at_fpr:
            lines.append(
                f"| {label} | {row['clips']} | {_format(row['precision'])} | "
                f"{_format(row['recall'])} | {_format(row['f1'])} | "
                f"{_format(row['roc_auc'])} | {_format(recall_at_fpr[label]['recall'])} |"
            )
    if negatives:
        lines += [
            "",
            (
                f"False positives: {negatives['false_positives']} of {negatives['clips']} negative "
                f"clips ({negatives['false_positive_rate']:.1%}), "
                f"{negatives['false_positives_per_hour']:.1f} per hour of negative audio "
                f"({negatives['hours']} h); thresholds calibrated on the validation groups for "
                f"{figures['target_fpr']:.0%}."
            ),
            "",
            "| negative category | clips | false positives |",
            "|---|---|---|",
        ]
        categories = negatives["per_category"]
        for category, row in sorted(
            categories.items(), key=lambda item: (-item[1]["false_positives"], item[0])
        ):
            if row["false_positives"]:
                lines.append(f"| {category} | {row['clips']} | {row['false_positives']} |")
        clean = {name: row for name, row in categories.items() if not row["false_positives"]}
        lines.append(
            f"| the other {len(clean)} categories ({', '.join(sorted(clean))}) | "
            f"{sum(row['clips'] for row in clean.values())} | 0 |"
        )
    return "\n".join(lines)
