"""Held-out accuracy of a trained audio model, measured through the runtime.

Usage:
    sensing train audio --data ../shared/data/audio/manifest.csv --out runs/mel
    python benchmarks/audio_heldout.py runs/mel [--split test] [--json OUT.json]

Rebuilds the run's grouped split from its config.json, classifies every clip
of the chosen split with RUN/model.tflite through the TFLite runtime a
Raspberry Pi uses (thresholds embedded in the model), and prints Markdown for
the docs: per-class figures, false positives per negative category, and
recall at a 1% false-positive rate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.audio.evaluate import evaluate_run, figures_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="run folder written by sensing train audio")
    parser.add_argument("--split", default="test", choices=["validation", "test"])
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures = evaluate_run(args.run, split=args.split)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(figures_markdown(figures))


if __name__ == "__main__":
    main()
