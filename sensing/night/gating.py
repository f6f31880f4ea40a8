"""Radar-gated audio events: coughs and snores count only while the sleeper is in bed.

As in Nest Hub's Sleep Sensing, the microphone hears everyone in the room but
the radar knows whether *its* sleeper is there: an audio event counts only
when the radar epoch holding it has a label the gate allows.

- Events are the dicts of a night report's ``report["events"]``
  (:mod:`sensing.audio.events`): ``label`` (``"cough"`` or ``"snore"``), ``start_s``
  and ``end_s`` in seconds from the audio's start, and ``score``.
- Epoch labels are one of :data:`~sensing.radar.recording.EPOCH_LABELS` per
  ``epoch_s`` seconds (30 s by default) from the radar recording's start;
  epoch ``k`` covers radar time ``[k * epoch_s, (k + 1) * epoch_s)``.
- ``offset_s`` is the audio's start in seconds after the radar's start, so
  audio time ``t`` is radar time ``t + offset_s`` (negative when the audio
  started first).
- An event belongs to the epoch holding its midpoint. A midpoint before the
  first epoch or at or after the end of the last one has no radar state, and
  the event is dropped as ``"no radar epoch"``.

:data:`GATES` names the usual settings: ``"in-bed"`` keeps events while the
sleeper is awake or asleep in bed, ``"asleep"`` only while asleep.
:func:`combined_summary` counts the kept events against the night's sleep and
:func:`plot_combined_night` draws both on one timeline. Numpy only; the
picture needs matplotlib (``pip install 'sensing[plot]'``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.events import COUGH, SNORE
from sensing.errors import RadarError, SensingError
from sensing.plotting import pyplot
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.radar.sleep.hypnogram import LEVELS
from sensing.radar.sleep.summary import ASLEEP, label_indices, runs
from sensing.radar.view import LABEL_COLOURS

GATES = {"in-bed": ("awake", "asleep"), "asleep": ("asleep",)}
"""Named gate settings: the epoch labels during which an audio event counts."""
NO_EPOCH = "no radar epoch"
"""``dropped_because`` of an event whose midpoint lies outside the radar's epochs."""
EVENT_COLOURS = {COUGH: "tab:red", SNORE: "tab:blue"}
"""Colour of kept events of each label in :func:`plot_combined_night` (dropped ones are grey)."""
DROPPED_COLOUR = "lightgrey"


def gate_events(
    events: Sequence[dict[str, Any]],
    labels: Sequence[str],
    *,
    allowed: Sequence[str],
    epoch_s: float = EPOCH_S,
    offset_s: float = 0.0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split audio events into those the radar gate keeps and those it drops.

    Args:
        events: event dicts with ``label``, ``start_s`` and ``end_s`` (seconds
            from the audio's start, ``end_s >= start_s``), as in ``report["events"]``.
        labels: (epochs,) one of EPOCH_LABELS per radar epoch, in order.
        allowed: epoch labels during which an event is kept, e.g. ``GATES["in-bed"]``.
        epoch_s: length of one epoch in seconds, > 0.
        offset_s: the audio's start in seconds after the radar's start (any finite number).

    Returns:
        (kept, dropped): copies of the events in their given order. Each dropped
        event has the extra key ``"dropped_because"``: the label of its epoch
        (e.g. ``"absent"``) or ``"no radar epoch"``.

    Raises:
        RadarError: an unknown label in ``labels`` or ``allowed``, no epochs,
            no allowed labels, or a bad ``epoch_s`` or ``offset_s``.
        SensingError: an event without finite ``start_s`` <= ``end_s``.
    """
    states = label_indices(labels)
    gate = _allowed_states(allowed)
    _check_times(epoch_s, offset_s)
    kept, dropped = [], []
    for index, event in enumerate(events):
        start_s, end_s = _event_span(event, index)
        epoch = _epoch_of(0.5 * (start_s + end_s) + offset_s, len(states), epoch_s)
        if epoch is not None and states[epoch] in gate:
            kept.append(dict(event))
        else:
            reason = NO_EPOCH if epoch is None else EPOCH_LABELS[states[epoch]]
            dropped.append({**event, "dropped_because": reason})
    return kept, dropped


def combined_summary(
    kept: Sequence[dict[str, Any]],
    labels: Sequence[str],
    *,
    epoch_s: float = EPOCH_S,
    offset_s: float = 0.0,
    audio_duration_s: float | None = None,
) -> dict[str, Any]:
    """Coughs and snoring of the kept events set against the night's sleep.

    Args:
        kept: event dicts (seconds from the audio's start), usually the kept
            list of :func:`gate_events`; labels other than cough and snore are ignored.
        labels: (epochs,) one of EPOCH_LABELS per radar epoch.
        epoch_s: length of one epoch in seconds, > 0.
        offset_s: the audio's start in seconds after the radar's start.
        audio_duration_s: seconds of audio; sleep outside ``[offset_s, offset_s +
            audio_duration_s)`` was not listened to and is left out of the rate.

    Returns:
        A JSON-ready dict:

        - ``coughs``: number of cough events;
        - ``coughs_asleep``: coughs whose midpoint lies in an asleep epoch;
        - ``total_sleep_h``: hours asleep while the audio ran (all asleep epochs
          when ``audio_duration_s`` is None);
        - ``coughs_per_hour_asleep``: ``coughs_asleep / total_sleep_h`` (None: no sleep);
        - ``snore_minutes_asleep``: minutes of snore events inside asleep
          epochs, the exact overlap of each event's ``[start_s, end_s)`` with them;
        - ``snore_episodes_asleep``: snore events that overlap an asleep epoch at all;
        - ``snore_minutes``: minutes of all snore events.

    Raises:
        RadarError: an unknown label, no epochs, or a bad ``epoch_s`` or ``offset_s``.
        SensingError: an event without finite ``start_s`` <= ``end_s``.
    """
    states = label_indices(labels)
    _check_times(epoch_s, offset_s)
    asleep_spans = [
        (start * epoch_s, stop * epoch_s) for value, start, stop in runs(states == ASLEEP) if value
    ]
    heard = (offset_s, math.inf if audio_duration_s is None else offset_s + audio_duration_s)
    total_sleep_h = (
        sum(max(0.0, min(stop, heard[1]) - max(start, heard[0])) for start, stop in asleep_spans) / 3600
    )
    coughs = coughs_asleep = snore_episodes_asleep = 0
    snore_s = snore_asleep_s = 0.0
    for index, event in enumerate(kept):
        start_s, end_s = _event_span(event, index, name="kept")
        if event["label"] == COUGH:
            coughs += 1
            epoch = _epoch_of(0.5 * (start_s + end_s) + offset_s, len(states), epoch_s)
            if epoch is not None and states[epoch] == ASLEEP:
                coughs_asleep += 1
        elif event["label"] == SNORE:
            snore_s += end_s - start_s
            overlap_s = sum(
                max(0.0, min(end_s + offset_s, stop) - max(start_s + offset_s, start))
                for start, stop in asleep_spans
            )
            snore_asleep_s += overlap_s
            if overlap_s > 0:
                snore_episodes_asleep += 1
    return {
        "coughs": coughs,
        "coughs_asleep": coughs_asleep,
        "total_sleep_h": total_sleep_h,
        "coughs_per_hour_asleep": coughs_asleep / total_sleep_h if total_sleep_h > 0 else None,
        "snore_minutes_asleep": snore_asleep_s / 60,
        "snore_episodes_asleep": snore_episodes_asleep,
        "snore_minutes": snore_s / 60,
    }


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
            :func:`gate_events` returns them.
        out_path: the PNG to write; its folder is created when missing.
        epoch_s: length of one epoch in seconds, > 0.
        offset_s: the audio's start in seconds after the radar's start.
        title: the picture's title.

    Raises:
        SensingError: matplotlib is missing, or an event without finite ``start_s`` <= ``end_s``.
        RadarError: an unknown label, no epochs, or a bad ``epoch_s`` or ``offset_s``.
    """
    states = label_indices(labels)
    _check_times(epoch_s, offset_s)
    spans = {
        name: [(event["label"], *_event_span(event, index, name=name)) for index, event in enumerate(events)]
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


def _allowed_states(allowed: Sequence[str]) -> set[int]:
    """Indices into EPOCH_LABELS of the gate's labels."""
    if isinstance(allowed, str):
        raise RadarError(
            f"allowed must be a sequence of labels, got the string {allowed!r} "
            f"(named gates: {', '.join(f'GATES[{name!r}]' for name in GATES)})"
        )
    unknown = [label for label in allowed if label not in EPOCH_LABELS]
    if unknown:
        raise RadarError(
            f"allowed: unknown label(s) {', '.join(map(repr, unknown))}, expected some of "
            f"{', '.join(EPOCH_LABELS)}"
        )
    if len(allowed) == 0:
        raise RadarError("allowed: no labels, so every event would be dropped")
    return {EPOCH_LABELS.index(label) for label in allowed}


def _check_times(epoch_s: float, offset_s: float) -> None:
    if not (isinstance(epoch_s, numbers.Real) and math.isfinite(epoch_s) and epoch_s > 0):
        raise RadarError(f"epoch_s must be a positive number of seconds, got {epoch_s!r}")
    if not (isinstance(offset_s, numbers.Real) and math.isfinite(offset_s)):
        raise RadarError(f"offset_s must be a finite number of seconds, got {offset_s!r}")


def _event_span(event: dict[str, Any], index: int, *, name: str = "events") -> tuple[float, float]:
    """(start_s, end_s) of one event, checked."""
    try:
        label, start_s, end_s = event["label"], float(event["start_s"]), float(event["end_s"])
    except (KeyError, TypeError, ValueError):
        raise SensingError(
            f"{name}[{index}]: {event!r} is not an event (needs label, start_s and end_s in seconds)"
        ) from None
    if not (math.isfinite(start_s) and math.isfinite(end_s) and start_s <= end_s):
        raise SensingError(
            f"{name}[{index}] ({label}): start_s {start_s} and end_s {end_s}, expected "
            f"finite seconds with start_s <= end_s"
        )
    return start_s, end_s


def _epoch_of(radar_s: float, n_epochs: int, epoch_s: float) -> int | None:
    """Index of the epoch holding radar time ``radar_s`` (seconds), or None outside the epochs."""
    if radar_s < 0:
        return None
    epoch = math.floor(radar_s / epoch_s)
    return epoch if epoch < n_epochs else None
