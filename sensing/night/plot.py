"""``night.png``: the hypnogram above the radar-gated audio events, on one timeline.

The title carries the night's answer (coughs heard and counted, snoring, sleep:
:func:`sensing.night.report_text.night_headline`); events the gate did not
count are drawn in grey, and the legend, beside the picture, says why. Time
reads as a person would (:class:`~sensing.plotting.Timeline`: clock time
when the radar's start is known).

Needs matplotlib (``pip install 'sensing[plot]'``).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.events import COUGH, SNORE
from sensing.night.gating import check_times, event_span
from sensing.plotting import Timeline, pyplot, save_figure
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.radar.sleep.hypnogram import LEVELS
from sensing.radar.sleep.summary import ASLEEP, label_indices, runs
from sensing.radar.view import LABEL_COLOURS

EVENT_COLOURS = {COUGH: "tab:red", SNORE: "tab:blue"}
"""Colour of kept events of each label in :func:`plot_combined_night` (dropped ones are grey)."""
DROPPED_COLOUR = "darkgrey"


def plot_combined_night(
    labels: Sequence[str],
    kept: Sequence[dict[str, Any]],
    dropped: Sequence[dict[str, Any]],
    out_path: str | Path,
    *,
    epoch_s: float = EPOCH_S,
    offset_s: float = 0.0,
    title: str = "night",
    start: datetime.datetime | None = None,
    gate_words: str = "while in bed",
) -> Path:
    """Draw the hypnogram above the gated events on one timeline into a PNG; returns its path.

    Time runs across from the radar's start. Top: the epoch labels as a step
    line (asleep lowest, absent highest, as :func:`~sensing.radar.sleep.hypnogram.plot_hypnogram`).
    Bottom: coughs as vertical ticks at their midpoints and snore episodes as
    bars, counted ones in colour and the others in grey, asleep epochs shaded
    behind them.

    Args:
        labels: (epochs,) one of EPOCH_LABELS per radar epoch.
        kept, dropped: event dicts (seconds from the audio's start), as
            :func:`sensing.night.gating.gate_events` returns them.
        out_path: the PNG to write (atomically); its folder is created when missing.
        epoch_s: length of one epoch in seconds, > 0.
        offset_s: the audio's start in seconds after the radar's start.
        title: the picture's title: the night's answer, for a person.
        start: the clock time of the radar's start, or None when unknown.
        gate_words: when events count, in words (``"while in bed"``), for the legend.

    Raises:
        SensingError: matplotlib is missing, or an event without finite ``start_s`` <= ``end_s``.
        RadarError: an unknown label, no epochs, or a bad ``epoch_s`` or ``offset_s``.
        WriteError: the picture cannot be written.
    """
    states = label_indices(labels)
    check_times(epoch_s, offset_s)
    spans = {
        name: [(event["label"], *event_span(event, index, name=name)) for index, event in enumerate(events)]
        for name, events in (("kept", kept), ("dropped", dropped))
    }
    plt = pyplot("the combined night picture")
    heights = np.array([LEVELS[label] for label in EPOCH_LABELS])
    edges_min = np.arange(len(states) + 1) * epoch_s / 60
    figure, (line_axis, event_axis) = plt.subplots(
        2, 1, figsize=(12, 4.4), height_ratios=(3, 2), sharex=True, layout="constrained"
    )
    line_axis.stairs(heights[states], edges_min, baseline=None, color="black", lw=1.2)
    order = sorted(LEVELS, key=lambda label: LEVELS[label])
    line_axis.set(yticks=[LEVELS[label] for label in order], yticklabels=order, ylim=(-0.4, 2.4), title=title)
    for value, first, stop in runs(states == ASLEEP):
        if value:
            event_axis.axvspan(
                edges_min[first], edges_min[stop], color=LABEL_COLOURS["asleep"], alpha=0.12, lw=0
            )
    _draw_events(event_axis, spans, offset_s)
    times_min = [edges_min[0], edges_min[-1]] + [
        (time_s + offset_s) / 60 for events in spans.values() for _, *times in events for time_s in times
    ]
    margin_min = 0.01 * (max(times_min) - min(times_min))  # so ticks on the edges stay visible
    event_axis.set(yticks=[0, 1], yticklabels=[COUGH, SNORE], ylim=(-0.6, 1.6))
    Timeline(length_min=float(edges_min[-1]), start=start).apply(
        event_axis, min(times_min) - margin_min, max(times_min) + margin_min
    )
    handles = [
        plt.Line2D([], [], color=EVENT_COLOURS[COUGH], lw=1.2, label=f"cough, counted ({gate_words})"),
        plt.Rectangle((0, 0), 1, 1, color=EVENT_COLOURS[SNORE], label=f"snoring, counted ({gate_words})"),
        plt.Rectangle((0, 0), 1, 1, color=DROPPED_COLOUR, label="heard, not counted"),
        plt.Rectangle((0, 0), 1, 1, color=LABEL_COLOURS["asleep"], alpha=0.12, label="asleep"),
    ]
    event_axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return save_figure(plt, figure, out_path)


def _draw_events(axis: Any, spans: dict[str, list[tuple[str, float, float]]], offset_s: float) -> None:
    """Coughs as ticks (row 0) and snoring as bars (row 1), x in minutes from the radar's start;
    counted ones in colour drawn over the others in grey."""
    rows = {COUGH: 0, SNORE: 1}
    for name in ("dropped", "kept"):
        for label, start_s, end_s in spans[name]:
            if label not in rows:
                continue
            colour = EVENT_COLOURS[label] if name == "kept" else DROPPED_COLOUR
            start_min, end_min = (start_s + offset_s) / 60, (end_s + offset_s) / 60
            if label == COUGH:
                axis.vlines(0.5 * (start_min + end_min), -0.3, 0.3, color=colour, lw=1.2)
            else:
                axis.broken_barh([(start_min, end_min - start_min)], (rows[SNORE] - 0.3, 0.6), color=colour)
