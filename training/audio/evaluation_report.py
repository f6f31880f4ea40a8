"""Tables and a plot of ``sensing evaluate``'s results (:mod:`training.audio.bedside_evaluation`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sensing.plotting import pyplot
from sensing.wording import plural
from training.audio.bedroom_nights import CURVE_FIGURES
from training.plots import save_figure

TABLE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
"""The replayed cough and snore thresholds ``evaluation.md`` shows (beside the model's own)."""

CURVE_WORDS = {
    "cough": ("cough recall", "cough precision", "false coughs per hour", "tab:red"),
    "snore": (
        "snore recall (minutes)",
        "snore precision (minutes)",
        "false snore minutes per hour",
        "tab:blue",
    ),
}
"""Per event label, the titles of a threshold curve's recall, precision and false rate, and its colour."""


def _shown(path: str) -> str:
    """``path`` relative to the working folder when it lies inside it."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _cell(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _recall_keys(rows: dict) -> list[str]:
    first = next(iter(rows.values()))
    return [key for key in first if key.endswith("_recall")]


def tables_markdown(results: dict) -> str:
    """The results as Markdown: one table per measurement that was run."""
    lines = [
        f"Model `{_shown(results['model'])}`, test groups of `{_shown(results['run'])}`"
        + (
            f" ({plural(results['test_clips'], 'clip')} from {plural(results['test_groups'], 'group')})"
            if "test_clips" in results
            else ""
        )
        + "."
    ]
    sweep = results.get("level_sweep")
    if sweep:
        keys = _recall_keys(sweep["levels"])
        lines += [
            "",
            f"Level sweep: each clip peak-normalised, over pink noise at {sweep['floor_dbfs']:g} dBFS RMS.",
            "",
            "| clip peak | "
            + " | ".join(k.replace("_", " ") for k in keys)
            + " | false positives on negatives |",
            "|---" * (len(keys) + 2) + "|",
        ]
        for level, row in sweep["levels"].items():
            lines.append(
                f"| {level} | "
                + " | ".join(_cell(row[k]) for k in keys)
                + f" | {_cell(row.get('false_positive_rate'))} |"
            )
    nights = results.get("nights")
    if nights:
        totals = nights["totals"]
        lines += [
            "",
            (
                f"Bedroom nights: {totals['nights']} nights of {nights['minutes']:g} minutes "
                f"({totals['hours']} h), {totals['true_coughs']} true coughs."
            ),
            "",
            (
                "| cough recall | cough precision | false coughs per hour | coughs counted (true) "
                "| snore minutes (true) | snore minutes (detected) | snore minutes error "
                "| snore recall (minutes) | snore precision | false snore minutes per hour |"
            ),
            "|---|---|---|---|---|---|---|---|---|---|",
            (
                f"| {_cell(totals['cough_recall'])} | {_cell(totals['cough_precision'])} | "
                f"{_cell(totals['false_coughs_per_hour'])} | {totals['detected_coughs']} "
                f"({totals['true_coughs']}) | {_cell(totals['true_snore_minutes'])} | "
                f"{_cell(totals['detected_snore_minutes'])} | {_cell(totals['snore_minutes_error'])} | "
                f"{_cell(totals.get('snore_recall'))} | {_cell(totals.get('snore_precision'))} | "
                f"{_cell(totals.get('false_snore_minutes_per_hour'))} |"
            ),
            "",
            "| cough level above the noise floor | true coughs | found | recall |",
            "|---|---|---|---|",
        ]
        for name, row in totals["cough_recall_by_level"].items():
            lines.append(f"| {name} | {row['true']} | {row['found']} | {_cell(row['recall'])} |")
        for label, (recall, precision, rate, _) in CURVE_WORDS.items():
            curve = nights.get(f"{label}_threshold_curve")
            if not curve:
                continue
            lines += [
                "",
                (
                    f"The same nights at other {label} thresholds (the event rules replayed on the same "
                    "windows; `evaluation.json` holds every 0.01):"
                ),
                "",
                f"| {label} threshold | {recall} | {precision} | {rate} |",
                "|---|---|---|---|",
            ]
            for row in curve:
                if not (row["model_threshold"] or row["threshold"] in TABLE_THRESHOLDS):
                    continue
                own = " (the model's)" if row["model_threshold"] else ""
                lines.append(
                    f"| {row['threshold']:.3f}{own} | "
                    + " | ".join(_cell(row[key]) for key in CURVE_FIGURES[label])
                    + " |"
                )
    holdout = results.get("holdout")
    if holdout and holdout["held_out"]:
        lines += [
            "",
            (
                f"Leave one {holdout['column']} out: recall at {holdout['fpr']:.0%} false positives "
                f"(a model trained without that {holdout['column']})."
            ),
            "",
        ]
        sparsity = holdout.get("pruned_sparsity")
        if sparsity is None:
            lines += [f"| held-out {holdout['column']} | label | clips | recall |", "|---|---|---|---|"]
        else:
            lines += [
                f"| held-out {holdout['column']} | label | clips | recall | pruned {sparsity:.0%}: recall |",
                "|---|---|---|---|---|",
            ]
        for value, row in holdout["held_out"].items():
            for label, figures in row["labels"].items():
                pruned = "" if sparsity is None else f" {_cell(row['pruned'][label]['recall'])} |"
                lines.append(
                    f"| {value} | {label} | {figures['clips']} | {_cell(figures['recall'])} |{pruned}"
                )
    return "\n".join(lines)


def plot_evaluation(results: dict, path: Path) -> Path | None:
    """Bars of each measurement that was run, side by side; None when nothing was measured."""
    panels = [name for name in ("level_sweep", "nights", "holdout") if results.get(name)]
    for label in reversed(CURVE_WORDS):
        if results.get("nights", {}).get(f"{label}_threshold_curve"):
            panels.insert(panels.index("nights") + 1, f"{label}_curve")
    if not panels:
        return None
    plt = pyplot("evaluation plot")
    figure, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for axis, name in zip(axes[0], panels):
        if name == "level_sweep":
            rows = results[name]["levels"]
            keys = _recall_keys(rows) + ["false_positive_rate"]
            width = 0.8 / len(keys)
            for i, key in enumerate(keys):
                values = [rows[level].get(key) or 0.0 for level in rows]
                axis.bar(
                    [x + i * width for x in range(len(rows))], values, width, label=key.replace("_", " ")
                )
            axis.set_xticks([x + width * (len(keys) - 1) / 2 for x in range(len(rows))], list(rows))
            axis.set_title("clips at each peak level")
        elif name.endswith("_curve"):
            label = name.removesuffix("_curve")
            _plot_curve(axis, label, results["nights"][f"{label}_threshold_curve"])
            continue
        elif name == "nights":
            rows = results[name]["totals"]["cough_recall_by_level"]
            axis.bar(list(rows), [row["recall"] or 0.0 for row in rows.values()], color="tab:red")
            totals = results[name]["totals"]
            axis.set_title(
                f"nights: cough recall by level\n(precision {_cell(totals['cough_precision'])}, "
                f"snore minutes error {_cell(totals['snore_minutes_error'])}, "
                f"snore recall {_cell(totals.get('snore_recall'))})",
                fontsize=9,
            )
            axis.set_xlabel("dB above the noise floor")
        else:
            held = results[name]["held_out"]
            sparsity = results[name].get("pruned_sparsity")
            names = [(value, label) for value, row in held.items() for label in row["labels"]]
            width = 0.8 if sparsity is None else 0.4
            axis.bar(
                [x for x in range(len(names))],
                [held[value]["labels"][label]["recall"] or 0.0 for value, label in names],
                width,
                color="tab:green",
                label="dense",
            )
            if sparsity is not None:
                axis.bar(
                    [x + width for x in range(len(names))],
                    [held[value]["pruned"][label]["recall"] or 0.0 for value, label in names],
                    width,
                    color="tab:olive",
                    label=f"pruned {sparsity:.0%}",
                )
                axis.legend(fontsize=7)
            axis.set_xticks(
                [x + (width / 2 if sparsity is not None else 0) for x in range(len(names))],
                [f"{value}\n{label}" for value, label in names],
            )
            axis.set_title(
                f"leave one {results[name]['column']} out: recall at {results[name]['fpr']:.0%} FPR",
                fontsize=9,
            )
        axis.set_ylim(0, 1.05)
        axis.grid(axis="y", alpha=0.3)
    if panels[0] == "level_sweep":
        axes[0][0].set_ylim(0, 1.3)
        axes[0][0].legend(fontsize=7, loc="upper center", ncol=3)
    return save_figure(figure, path, dpi=110)


def _plot_curve(axis: Any, label: str, curve: list[dict]) -> None:
    """Night recall of ``label`` against its false rate over the replayed thresholds, the model's
    own marked."""
    recall, rate = CURVE_FIGURES[label][0], CURVE_FIGURES[label][2]
    recall_words, _, rate_words, colour = CURVE_WORDS[label]
    rows = [row for row in curve if row[recall] is not None]
    axis.plot([row[rate] for row in rows], [row[recall] for row in rows], color=colour)
    for row in rows:
        if row["model_threshold"]:
            axis.plot(row[rate], row[recall], "o", color="black")
            axis.annotate(
                f"model's threshold {row['threshold']:.3f}",
                (row[rate], row[recall]),
                textcoords="offset points",
                xytext=(6, -12),
                fontsize=7,
            )
    axis.set_xlabel(rate_words)
    axis.set_ylabel(recall_words)
    axis.set_ylim(0, 1.05)
    axis.grid(alpha=0.3)
    axis.set_title(f"nights: {label} threshold traded", fontsize=9)
