"""Print a training run's held-out figures as Markdown, for the README.

Usage:
    sensing train audio --data ../shared/data/audio/manifest.csv --out runs/mel
    python benchmarks/audio_run_report.py runs/mel

Reads RUN/metrics.json and RUN/config.json; prints the test-group figures
(groups never seen in training or threshold calibration), the false
positives per negative category, and the run's wall time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _format(value) -> str:
    return "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def report(run: Path) -> str:
    metrics = json.loads((run / "metrics.json").read_text())
    config = json.loads((run / "config.json").read_text())
    test, negative_label = metrics["test"], metrics["negative_label"]
    lines = [f"Run `{config.get('command', '')}`: {config['epochs']} epochs, seed {config['seed']}, "
             f"best epoch {metrics['best_epoch']}, "
             f"{metrics['history'][-1]['seconds'] / 60:.1f} min of training.",
             "",
             f"Test split: {test['clips']} clips from {metrics['splits']['test']['groups']} groups "
             "never seen in training or calibration.",
             "",
             "| label | clips | precision | recall | F1 | ROC AUC | recall at 1% FPR |",
             "|---|---|---|---|---|---|---|"]
    recall_at_fpr = test.get("negatives", {}).get("recall_at_1%_fpr", {})
    for label, figures in test["per_class"].items():
        if label == negative_label:
            continue
        lines.append(f"| {label} | {figures['clips']} | {_format(figures['precision'])} | "
                     f"{_format(figures['recall'])} | {_format(figures['f1'])} | "
                     f"{_format(figures['roc_auc'])} | "
                     f"{_format(recall_at_fpr.get(label, {}).get('recall'))} |")
    if "negatives" in test:
        negatives = test["negatives"]
        lines += ["",
                  f"False positives: {negatives['false_positives']} of {negatives['clips']} negative "
                  f"clips ({negatives['false_positive_rate']:.1%}), "
                  f"{negatives['false_positives_per_hour']} per hour of negative audio "
                  f"({negatives['hours']} h). Thresholds calibrated on validation groups for "
                  f"{config['target_fpr']:.0%}: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in metrics["thresholds"].items()) + ".",
                  "",
                  "| negative category | clips | false positives |",
                  "|---|---|---|"]
        for category, figures in sorted(negatives["per_category"].items(),
                                        key=lambda item: -item[1]["false_positives"]):
            lines.append(f"| {category} | {figures['clips']} | {figures['false_positives']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder written by sensing train audio")
    print(report(parser.parse_args().run))


if __name__ == "__main__":
    main()
