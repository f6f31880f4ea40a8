"""``report.png``: the night at a glance.

The title is the night's answer (coughs, snoring, how long). Top: the highest cough
and snore probability per 10 s, with snore episodes shaded and each cough marked.
Below: coughs, then snoring minutes, per bin, the bin chosen from the night's length
(:func:`bin_seconds`: minutes for a short recording, hours for a whole night). All share one time
axis (:class:`sensing.plotting.Timeline`, in minutes): clock time when the start is known
(``--start-time``, a live run), else minutes or ``h:mm`` since the start. Legends sit beside the
panels, never on the data.
Needs matplotlib (``pip install 'sensing[plot]'``); without it the report is written
without the picture and says so. The PNG is written atomically (:mod:`sensing.files`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.events import COUGH, SNORE
from sensing.audio.report_text import night_answer, start_time
from sensing.plotting import Timeline, save_figure

BIN_CHOICES_S = (60.0, 300.0, 900.0, 3600.0)
"""Widths (s) the bottom panels' bins may take: the narrowest that gives at most
:data:`MOST_BINS` bins (5 minutes for an hour or two, hours for a whole night)."""
MOST_BINS = 24

COLOURS = {COUGH: "tab:red", SNORE: "tab:blue"}


def bin_seconds(duration_s: float) -> float:
    """Width (s) of the bottom panels' bins for a night of ``duration_s`` seconds."""
    for width_s in BIN_CHOICES_S:
        if duration_s <= MOST_BINS * width_s:
            return width_s
    return BIN_CHOICES_S[-1]


def per_bin(
    events: list[dict[str, Any]], *, duration_s: float, bin_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Coughs and snoring minutes in each ``bin_s``-second bin of the night: two (bins,) arrays."""
    n_bins = max(1, int(np.ceil(duration_s / bin_s)))
    coughs = np.zeros(n_bins)
    snore_min = np.zeros(n_bins)
    edges = np.arange(n_bins + 1) * bin_s
    for event in events:
        if event["label"] == COUGH:
            coughs[min(int(event["start_s"] // bin_s), n_bins - 1)] += 1
        elif event["label"] == SNORE:
            overlap = np.minimum(edges[1:], event["end_s"]) - np.maximum(edges[:-1], event["start_s"])
            snore_min += np.clip(overlap, 0, None) / 60
    return coughs, snore_min


def _draw_probabilities(
    top: Any, report: dict[str, Any], timeline: np.ndarray, labels: tuple[str, ...], bin_s: float
) -> None:
    thresholds = report["event_settings"]["thresholds"]
    times_min = np.arange(len(timeline)) * bin_s / 60
    for label in (SNORE, COUGH):
        if label in labels and len(timeline):
            top.plot(
                times_min,
                timeline[:, labels.index(label)],
                color=COLOURS[label],
                lw=0.8,
                label=f"{label} probability (highest per {bin_s:.0f} s)",
            )
        if label in thresholds:
            top.axhline(thresholds[label], color=COLOURS[label], ls="--", lw=0.8, label=f"{label} threshold")
    for event in report["events"]:
        if event["label"] == SNORE:
            top.axvspan(event["start_s"] / 60, event["end_s"] / 60, color=COLOURS[SNORE], alpha=0.15, lw=0)
    cough_min = [e["start_s"] / 60 for e in report["events"] if e["label"] == COUGH]
    top.plot(cough_min, np.full(len(cough_min), 1.04), "v", color=COLOURS[COUGH], ms=5, label="counted cough")
    top.set(ylim=(0, 1.1), ylabel="probability")
    top.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        title="snore episodes shaded",
        title_fontsize=8,
    )
    top.grid(alpha=0.3)


def _draw_bins(coughs_axis: Any, snoring_axis: Any, report: dict[str, Any]) -> None:
    """Coughs, and snoring minutes, per bin of :func:`bin_seconds`: one bar per bin on each axis."""
    bin_s = bin_seconds(report["duration_s"])
    coughs, snore_min = per_bin(report["events"], duration_s=report["duration_s"], bin_s=bin_s)
    starts_min = np.arange(coughs.size) * bin_s / 60
    bin_name = {60.0: "minute", 3600.0: "hour"}.get(bin_s, f"{bin_s / 60:.0f} min")
    for axis, values, label, colour in (
        (coughs_axis, coughs, f"coughs per {bin_name}", COLOURS[COUGH]),
        (snoring_axis, snore_min, f"snoring minutes per {bin_name}", COLOURS[SNORE]),
    ):
        axis.bar(starts_min, values, width=bin_s / 60 * 0.9, align="edge", color=colour, label=label)
        axis.set(ylim=(0, max(1.0, float(values.max())) * 1.2))
        axis.set_ylabel(label.split(" per ")[0], fontsize=9)
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        axis.grid(alpha=0.3, axis="y")


def plot_night(
    report: dict[str, Any], timeline: np.ndarray, labels: tuple[str, ...], path: str | Path, *, bin_s: float
) -> str | None:
    """Draw the night; returns the PNG's path, or None when matplotlib is missing.

    ``timeline`` is (bins, labels): the highest probability of each label in
    each ``bin_s`` seconds of the night.

    Raises:
        WriteError: the PNG cannot be written (nothing is left at ``path``).
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
    duration_s = max(float(report["duration_s"]), 1.0)
    figure, (top, coughs, snoring) = plt.subplots(
        3, 1, figsize=(13, 7), height_ratios=(2.2, 1, 1), sharex=True
    )
    bottom = snoring
    try:
        _draw_probabilities(top, report, timeline, labels, bin_s)
        _draw_bins(coughs, snoring, report)
        Timeline(duration_s / 60, start_time(report)).apply(bottom, 0.0, duration_s / 60)
        figure.suptitle(night_answer(report))
        figure.tight_layout()
    except BaseException:
        plt.close(figure)
        raise
    return str(save_figure(plt, figure, path))
