"""``report.png``: the night at a glance.

Top: the highest cough and snore probability per 10 s over the night, with
snore episodes shaded and each cough marked. Bottom: coughs and snore minutes
per hour. Needs matplotlib (``pip install 'sensing[plot]'``); without it the
report is written without the picture and says so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.events import COUGH, SNORE


def plot_night(
    report: dict[str, Any], timeline: np.ndarray, labels: tuple[str, ...], path: str | Path, *, bin_s: float
) -> str | None:
    """Draw the night; returns the PNG's path, or None when matplotlib is missing.

    ``timeline`` is (bins, labels): the highest probability of each label in
    each ``bin_s`` seconds of the night.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            "report.png skipped: matplotlib is not installed (pip install 'sensing[plot]')", file=sys.stderr
        )
        return None
    unit_s, unit = (3600, "hours") if report["duration_s"] >= 7200 else (60, "minutes")
    times = np.arange(len(timeline)) * bin_s / unit_s
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), height_ratios=(2, 1))
    colours = {COUGH: "tab:red", SNORE: "tab:blue"}
    thresholds = report["event_settings"]["thresholds"]
    for label in (SNORE, COUGH):
        if label in labels and len(timeline):
            top.plot(
                times,
                timeline[:, labels.index(label)],
                color=colours[label],
                lw=0.8,
                label=f"{label} probability (max per {bin_s:.0f} s)",
            )
        if label in thresholds:
            top.axhline(thresholds[label], color=colours[label], ls="--", lw=0.8, label=f"{label} threshold")
    for event in report["events"]:
        if event["label"] == SNORE:
            top.axvspan(
                event["start_s"] / unit_s, event["end_s"] / unit_s, color=colours[SNORE], alpha=0.15, lw=0
            )
    cough_times = [e["start_s"] / unit_s for e in report["events"] if e["label"] == COUGH]
    top.plot(
        cough_times, np.full(len(cough_times), 1.04), "v", color=colours[COUGH], ms=5, label="counted cough"
    )
    top.set(
        xlim=(0, max(report["duration_s"] / unit_s, 1e-3)),
        ylim=(0, 1.1),
        xlabel=f"{unit} since start (snore episodes shaded)",
        ylabel="probability",
        title=f"{report['cough_count']} coughs, {report['snore_minutes']:.1f} snore minutes "
        f"in {report['snore_episodes']} episodes, "
        f"{report['duration_s'] / 3600:.2f} h recorded",
    )
    top.legend(loc="center right", fontsize=8, framealpha=0.9)
    top.grid(alpha=0.3)
    per_hour = report["per_hour"]
    x = np.array([row["hour"] for row in per_hour])
    bottom.bar(
        x - 0.2, [row["cough_count"] for row in per_hour], width=0.4, color=colours[COUGH], label="coughs"
    )
    twin = bottom.twinx()
    twin.bar(
        x + 0.2,
        [row["snore_minutes"] for row in per_hour],
        width=0.4,
        color=colours[SNORE],
        label="snore minutes",
    )
    bottom.set(xlabel="hour of the night", ylabel="coughs", xticks=x)
    twin.set_ylabel("snore minutes")
    bottom.legend(loc="upper left", fontsize=8)
    twin.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return str(path)
