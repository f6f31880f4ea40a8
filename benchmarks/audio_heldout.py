"""Held-out accuracy of a trained audio model, measured through the runtime.

Usage:
    sensing train audio --data ../shared/data/audio/manifest.csv --out runs/mel
    python benchmarks/audio_heldout.py runs/mel [--split test] [--json OUT.json]

Rebuilds the run's grouped split from its config.json (same data, seed and
fractions give the same split), classifies every clip of the chosen split
with RUN/model.tflite through ``sensing.classifier`` (the TFLite runtime a
Raspberry Pi uses, thresholds embedded in the model), and prints Markdown for
the README: per-class figures, false positives per negative category, and
recall at a 1% false-positive rate.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sensing.classifier import AudioClassifier
from sensing.clips import read_clip_list
from training.dataset import load_clips
from training.metrics import clip_metrics
from training.splits import grouped_split


def evaluate(run: Path, split: str) -> tuple[dict, dict]:
    """(figures, config) for ``split`` of ``run``."""
    config = json.loads((run / "config.json").read_text())
    classifier = AudioClassifier(run / "model.tflite")
    clips, _ = load_clips(read_clip_list(config["data"]), sr=classifier.metadata.features.sr,
                          strict=False)
    indices = grouped_split([c.record for c in clips], fractions=tuple(config["split_fractions"]),
                            seed=config["seed"])[split]
    chosen = [clips[i] for i in indices]
    started = time.monotonic()
    results = [classifier.classify_audio(clip.samples) for clip in chosen]
    seconds = time.monotonic() - started
    labels = classifier.labels
    figures = clip_metrics(
        labels=labels, true=[c.record.label for c in chosen], predicted=[r.label for r in results],
        scores=np.array([[r.scores[label] for label in labels] for r in results]),
        negative_label=classifier.metadata.negative_label,
        categories=[c.record.category for c in chosen],
        durations_s=np.array([c.samples.size / classifier.metadata.features.sr for c in chosen]))
    figures["groups"] = len({c.record.group for c in chosen})
    figures["classify_seconds"] = round(seconds, 1)
    figures["audio_seconds"] = round(float(sum(r.duration_s for r in results)), 1)
    figures["backend"] = classifier.backend
    return figures, config


def _format(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(figures: dict, config: dict, split: str) -> str:
    lines = [f"{split} split: {figures['clips']} clips from {figures['groups']} groups never seen in "
             f"training or threshold calibration; model run on {figures['backend']} "
             f"({figures['audio_seconds']} s of audio in {figures['classify_seconds']} s).",
             "",
             "| label | clips | precision | recall | F1 | ROC AUC | recall at 1% FPR |",
             "|---|---|---|---|---|---|---|"]
    negatives = figures.get("negatives", {})
    recall_at_fpr = negatives.get("recall_at_1%_fpr", {})
    for label, row in figures["per_class"].items():
        if label in recall_at_fpr:
            lines.append(f"| {label} | {row['clips']} | {_format(row['precision'])} | "
                         f"{_format(row['recall'])} | {_format(row['f1'])} | "
                         f"{_format(row['roc_auc'])} | {_format(recall_at_fpr[label]['recall'])} |")
    if negatives:
        lines += ["",
                  f"False positives: {negatives['false_positives']} of {negatives['clips']} negative "
                  f"clips ({negatives['false_positive_rate']:.1%}), "
                  f"{negatives['false_positives_per_hour']} per hour of negative audio "
                  f"({negatives['hours']} h); thresholds calibrated on the validation groups for "
                  f"{config['target_fpr']:.0%}.",
                  "",
                  "| negative category | clips | false positives |",
                  "|---|---|---|"]
        for category, row in sorted(negatives["per_category"].items(),
                                    key=lambda item: (-item[1]["false_positives"], item[0])):
            lines.append(f"| {category} | {row['clips']} | {row['false_positives']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder written by sensing train audio")
    parser.add_argument("--split", default="test", choices=["validation", "test"])
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures, config = evaluate(args.run, args.split)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(markdown(figures, config, args.split))


if __name__ == "__main__":
    main()
