"""Compare ``sensing evaluate`` results of several models on the same test groups and nights.

Each model is given as ``NAME=EVAL_DIR`` (a folder ``sensing evaluate --levels --nights N`` wrote);
``--reference NAME`` names the one the others are measured against. Per model it prints the
nights' cough recall, precision and false coughs per hour at the model's own threshold, its cough
recall at the reference's false-cough rate (read off its replayed threshold curve, linear between
the thresholds 0.01 apart), snore minutes, the share of true snore minutes found and the false
snore minutes per hour at its own threshold, clip recall at -6 and -46 dBFS and the worst level's
false-positive rate. (Snoring is not read at the reference's false rate: the nights' everyday
sounds make almost no snore episodes at any threshold, so that rate sits near zero, where a few
seconds of false snoring move the recall read off the curve by many points.) Names written
``GROUP/MEMBER`` (e.g. ``pruned/seed1``) also get a row per group: the mean of its members and, in
brackets, their lowest and highest value (``-`` where a member lacks the figure)::

    python benchmarks/compare_evaluations.py --reference dense/s0 \\
        dense/s0=runs/fine/dense_s0 pruned/s0=runs/fine/p80_s0_own pruned/s1=runs/fine/p80_s0f1_own
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

COLUMNS = (
    ("cough_recall", "nights: cough recall"),
    ("cough_precision", "precision"),
    ("false_coughs_per_hour", "false coughs per h"),
    ("recall_at_reference_rate", "cough recall at the reference's false rate"),
    ("snore_minutes", "snore min"),
    ("snore_recall", "snore recall (min)"),
    ("false_snore_minutes_per_hour", "false snore min per h"),
    ("cough_-6", "cough -6 dBFS"),
    ("cough_-46", "cough -46 dBFS"),
    ("snore_-6", "snore -6 dBFS"),
    ("snore_-46", "snore -46 dBFS"),
    ("worst_false_positive_rate", "false positives (worst level)"),
)


def recall_at_false_rate(curve: list[dict], false_per_hour: float) -> float:
    """Night cough recall at ``false_per_hour`` false coughs per hour along a replayed threshold
    curve (``evaluation.json``'s ``nights.cough_threshold_curve``), linear between its points; the
    recall of the nearest end beyond them."""
    points: dict[float, float] = {}
    for row in curve:
        if row["cough_recall"] is not None:
            rate = row["false_coughs_per_hour"]
            points[rate] = max(points.get(rate, 0.0), row["cough_recall"])
    rates = np.array(sorted(points))
    recalls = np.maximum.accumulate([points[rate] for rate in rates])
    return float(np.interp(false_per_hour, rates, recalls))


def figures(evaluation: dict, reference_rate: float) -> dict[str, float | None]:
    """The compared figures of one ``evaluation.json`` (snoring in time None for one written
    before the nights' snoring was scored in time)."""
    nights = evaluation["nights"]
    totals = nights["totals"]
    levels = evaluation["level_sweep"]["levels"]
    return {
        "cough_recall": totals["cough_recall"],
        "cough_precision": totals["cough_precision"],
        "false_coughs_per_hour": totals["false_coughs_per_hour"],
        "recall_at_reference_rate": recall_at_false_rate(nights["cough_threshold_curve"], reference_rate),
        "snore_minutes": totals["detected_snore_minutes"],
        "snore_recall": totals.get("snore_recall"),
        "false_snore_minutes_per_hour": totals.get("false_snore_minutes_per_hour"),
        "cough_-6": levels["-6 dBFS"]["cough_recall"],
        "cough_-46": levels["-46 dBFS"]["cough_recall"],
        "snore_-6": levels["-6 dBFS"]["snore_recall"],
        "snore_-46": levels["-46 dBFS"]["snore_recall"],
        "worst_false_positive_rate": max(row["false_positive_rate"] for row in levels.values()),
    }


def _cell(values: list[float | None]) -> str:
    known = [value for value in values if value is not None]
    if not known or len(known) < len(values):
        return "-"
    if len(known) == 1:
        return f"{known[0]:.3g}"
    return f"{np.mean(known):.3g} ({min(known):.3g}-{max(known):.3g})"


def markdown(rows: dict[str, dict[str, float | None]], reference: str) -> str:
    """One row per model and one per ``GROUP/`` of several models."""
    groups: dict[str, list[str]] = {}
    for name in rows:
        if "/" in name:
            groups.setdefault(name.split("/")[0], []).append(name)
    lines = [
        f"Reference: {reference} ({rows[reference]['false_coughs_per_hour']:g} false coughs per hour on the nights)",
        "",
        "| model | " + " | ".join(title for _, title in COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(_cell([row[key]]) for key, _ in COLUMNS) + " |")
    for group, members in groups.items():
        if len(members) > 1:
            lines.append(
                f"| {group}: mean ({len(members)}) | "
                + " | ".join(_cell([rows[m][key] for m in members]) for key, _ in COLUMNS)
                + " |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", metavar="NAME=EVAL_DIR")
    parser.add_argument(
        "--reference", required=True, metavar="NAME", help="the model the others are measured against"
    )
    args = parser.parse_args()
    folders = {}
    for item in args.models:
        name, _, folder = item.partition("=")
        if not folder:
            sys.exit(f"error: {item}: give NAME=EVAL_DIR")
        path = Path(folder) / "evaluation.json"
        if not path.is_file():
            sys.exit(f"error: {path}: not found (run sensing evaluate --levels --nights N --out {folder})")
        folders[name] = json.loads(path.read_text())
    if args.reference not in folders:
        sys.exit(f"error: --reference {args.reference}: not one of {', '.join(folders)}")
    missing = [
        name
        for name, evaluation in folders.items()
        if not (evaluation.get("nights") and evaluation.get("level_sweep"))
    ]
    if missing:
        sys.exit(f"error: {', '.join(missing)}: evaluated without --levels and --nights")
    rate = folders[args.reference]["nights"]["totals"]["false_coughs_per_hour"]
    print(markdown({name: figures(evaluation, rate) for name, evaluation in folders.items()}, args.reference))


if __name__ == "__main__":
    main()
