"""Tables and a plot of ``sensing evaluate``'s results (:mod:`training.audio.bedside_evaluation`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sensing.plotting import pyplot
from sensing.wording import plural
from training.plots import save_figure

TABLE_COUGH_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
"""The replayed cough thresholds ``evaluation.md`` shows (beside the model's own)."""


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
                "| snore minutes (true) | snore minutes (detected) | snore minutes error |"
            ),
            "|---|---|---|---|---|---|---|",
            (
                f"| {_cell(totals['cough_recall'])} | {_cell(totals['cough_precision'])} | "
                f"{_cell(totals['false_coughs_per_hour'])} | {totals['detected_coughs']} "
                f"({totals['true_coughs']}) | {_cell(totals['true_snore_minutes'])} | "
                f"{_cell(totals['detected_snore_minutes'])} | {_cell(totals['snore_minutes_error'])} |"
            ),
            "",
            "| cough level above the noise floor | true coughs | found | recall |",
            "|---|---|---|---|",
        ]
        for name, row in totals["cough_recall_by_level"].items():
            lines.append(f"| {name} | {row['true']} | {row['found']} | {_cell(row['recall'])} |")
        curve = nights.get("cough_threshold_curve")
        if curve:
            lines += [
                "",
                (
                    "The same nights at other cough thresholds (the event rules replayed on the same "
                    "windows; `evaluation.json` holds every 0.01):"
                ),
                "",
                "| cough threshold | cough recall | cough precision | false coughs per hour |",
                "|---|---|---|---|",
            ]
            for row in curve:
                if not (row["model_threshold"] or row["threshold"] in TABLE_COUGH_THRESHOLDS):
                    continue
                own = " (the model's)" if row["model_threshold"] else ""
                lines.append(
                    f"| {row['threshold']:.3f}{own} | {_cell(row['cough_recall'])} | "
                    f"{_cell(row['cough_precision'])} | {_cell(row['false_coughs_per_hour'])} |"
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
    if results.get("nights", {}).get("cough_threshold_curve"):
        panels.insert(panels.index("nights") + 1, "cough_curve")
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
        elif name == "cough_curve":
            _plot_cough_curve(axis, results["nights"]["cough_threshold_curve"])
            continue
        elif name == "nights":
            rows = results[name]["totals"]["cough_recall_by_level"]
            axis.bar(list(rows), [row["recall"] or 0.0 for row in rows.values()], color="tab:red")
            totals = results[name]["totals"]
            axis.set_title(
                f"nights: cough recall by level\n(precision {_cell(totals['cough_precision'])}, "
                f"snore minutes error {_cell(totals['snore_minutes_error'])})",
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


def _plot_cough_curve(axis: Any, curve: list[dict]) -> None:
    """Night cough recall against false coughs per hour over the replayed thresholds, the
    model's own marked."""
    rows = [row for row in curve if row["cough_recall"] is not None]
    axis.plot(
        [row["false_coughs_per_hour"] for row in rows], [row["cough_recall"] for row in rows], color="tab:red"
    )
    for row in rows:
        if row["model_threshold"]:
            axis.plot(row["false_coughs_per_hour"], row["cough_recall"], "o", color="black")
            axis.annotate(
                f"model's threshold {row['threshold']:.3f}",
                (row["false_coughs_per_hour"], row["cough_recall"]),
                textcoords="offset points",
                xytext=(6, -12),
                fontsize=7,
            )
    axis.set_xlabel("false coughs per hour")
    axis.set_ylabel("cough recall")
    axis.set_ylim(0, 1.05)
    axis.grid(alpha=0.3)
    axis.set_title("nights: cough threshold traded", fontsize=9)
