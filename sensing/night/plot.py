"""``night.png``: the hypnogram above the radar-gated audio events, on one timeline.

Needs matplotlib (``pip install 'sensing[plot]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.events import COUGH, SNORE
from sensing.night.gating import check_times, event_span
from sensing.plotting import pyplot
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.radar.sleep.hypnogram import LEVELS
from sensing.radar.sleep.summary import ASLEEP, label_indices, runs
from sensing.radar.view import LABEL_COLOURS

EVENT_COLOURS = {COUGH: "tab:red", SNORE: "tab:blue"}
"""Colour of kept events of each label in :func:`plot_combined_night` (dropped ones are grey)."""
DROPPED_COLOUR = "lightgrey"


def plot_combined_night(
    labels: Sequence[str],
    kept: Sequence[dict[str, Any]],
    dropped: Sequence[dict[str, Any]],
    out_path: str | Path,
    *,
    epoch_s: float = EPOCH_S,
    offset_s: float = 0.0,
    title: str = "night",
) -> Path:
    """Draw the hypnogram above the gated events on one timeline into a PNG; returns its path.

    Time runs across in hours from the radar's start. Top: the epoch labels as a
    step line (asleep lowest, absent highest, as :func:`~sensing.radar.sleep.hypnogram.plot_hypnogram`).
    Bottom: coughs as vertical ticks at their midpoints and snore episodes as
    bars, kept ones in colour and dropped ones in light grey, asleep epochs
    shaded behind them.

    Args:
        labels: (epochs,) one of EPOCH_LABELS per radar epoch.
        kept, dropped: event dicts (seconds from the audio's start), as
            :func:`sensing.night.gating.gate_events` returns them.
        out_path: the PNG to write; its folder is created when missing.
        epoch_s: length of one epoch in seconds, > 0.
        offset_s: the audio's start in seconds after the radar's start.
        title: the picture's title.

    Raises:
        SensingError: matplotlib is missing, or an event without finite ``start_s`` <= ``end_s``.
        RadarError: an unknown label, no epochs, or a bad ``epoch_s`` or ``offset_s``.
    """
    states = label_indices(labels)
    check_times(epoch_s, offset_s)
    spans = {
        name: [(event["label"], *event_span(event, index, name=name)) for index, event in enumerate(events)]
        for name, events in (("kept", kept), ("dropped", dropped))
    }
    plt = pyplot("the combined night picture")
    heights = np.array([LEVELS[label] for label in EPOCH_LABELS])
    edges_h = np.arange(len(states) + 1) * epoch_s / 3600
    figure, (line_axis, event_axis) = plt.subplots(
        2, 1, figsize=(12, 4), height_ratios=(3, 2), sharex=True, layout="constrained"
    )
    line_axis.stairs(heights[states], edges_h, baseline=None, color="black", lw=1.2)
    order = sorted(LEVELS, key=lambda label: LEVELS[label])
    line_axis.set(
        yticks=[LEVELS[label] for label in order],
        yticklabels=order,
        ylim=(-0.4, 2.4),
        title=f"{title}: {len(kept)} events kept, {len(dropped)} dropped by the radar gate",
    )
    for value, start, stop in runs(states == ASLEEP):
        if value:
            event_axis.axvspan(edges_h[start], edges_h[stop], color=LABEL_COLOURS["asleep"], alpha=0.12, lw=0)
    rows = {COUGH: 0, SNORE: 1}
    for name in ("dropped", "kept"):  # kept drawn on top
        for label, start_s, end_s in spans[name]:
            if label not in rows:
                continue
            colour = EVENT_COLOURS[label] if name == "kept" else DROPPED_COLOUR
            start_h, end_h = (start_s + offset_s) / 3600, (end_s + offset_s) / 3600
            if label == COUGH:
                middle_h = 0.5 * (start_h + end_h)
                event_axis.vlines(middle_h, rows[COUGH] - 0.3, rows[COUGH] + 0.3, color=colour, lw=1.2)
            else:
                event_axis.broken_barh([(start_h, end_h - start_h)], (rows[SNORE] - 0.3, 0.6), color=colour)
    times_h = [edges_h[0], edges_h[-1]] + [
        (time_s + offset_s) / 3600 for events in spans.values() for _, *times in events for time_s in times
    ]
    margin_h = 0.01 * (max(times_h) - min(times_h))  # so ticks on the edges stay visible
    event_axis.set(
        yticks=list(rows.values()),
        yticklabels=list(rows),
        ylim=(-0.6, 1.6),
        xlim=(min(times_h) - margin_h, max(times_h) + margin_h),
        xlabel="hours from the radar's start",
    )
    handles = [
        plt.Line2D([], [], color=EVENT_COLOURS[COUGH], lw=1.2, label="cough (kept)"),
        plt.Rectangle((0, 0), 1, 1, color=EVENT_COLOURS[SNORE], label="snore (kept)"),
        plt.Rectangle((0, 0), 1, 1, color=DROPPED_COLOUR, label="dropped by the gate"),
        plt.Rectangle((0, 0), 1, 1, color=LABEL_COLOURS["asleep"], alpha=0.12, label="asleep"),
    ]
    event_axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_path, dpi=100)
    plt.close(figure)
    return out_path
