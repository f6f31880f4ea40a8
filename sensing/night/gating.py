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
:func:`combined_summary` counts the kept events against the night's sleep;
:func:`sensing.night.plot.plot_combined_night` draws both on one timeline.
:func:`check_overlap` says when the audio and the radar barely share any time
(figures from a few minutes of overlap are not a night's) and refuses when they
share none.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from sensing.audio.events import COUGH, SNORE
from sensing.errors import RadarError, SensingError
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.radar.sleep.summary import ASLEEP, label_indices, runs
from sensing.wording import duration

GATES = {"in-bed": ("awake", "asleep"), "asleep": ("asleep",)}
"""Named gate settings: the epoch labels during which an audio event counts."""
NO_EPOCH = "no radar epoch"
"""``dropped_because`` of an event whose midpoint lies outside the radar's epochs."""
MIN_AUDIO_OVERLAP = 0.9
"""Least share of the audio that should lie within the radar's epochs; below it, a warning."""


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
    check_times(epoch_s, offset_s)
    kept, dropped = [], []
    for index, event in enumerate(events):
        start_s, end_s = event_span(event, index)
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
    check_times(epoch_s, offset_s)
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
        start_s, end_s = event_span(event, index, name="kept")
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


def check_times(epoch_s: float, offset_s: float) -> None:
    if not (isinstance(epoch_s, numbers.Real) and math.isfinite(epoch_s) and epoch_s > 0):
        raise RadarError(f"epoch_s must be a positive number of seconds, got {epoch_s!r}")
    if not (isinstance(offset_s, numbers.Real) and math.isfinite(offset_s)):
        raise RadarError(f"offset_s must be a finite number of seconds, got {offset_s!r}")


def event_span(event: dict[str, Any], index: int, *, name: str = "events") -> tuple[float, float]:
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


def audio_overlap_s(*, offset_s: float, audio_s: float, radar_s: float) -> float:
    """Seconds of audio ``[offset_s, offset_s + audio_s)`` inside the radar's ``[0, radar_s)``."""
    return max(0.0, min(offset_s + audio_s, radar_s) - max(offset_s, 0.0))


def check_overlap(*, offset_s: float, audio_s: float, radar_s: float) -> str | None:
    """A warning when less than :data:`MIN_AUDIO_OVERLAP` of the audio lies within the radar night.

    Args:
        offset_s: the audio's start in seconds after the radar's start.
        audio_s: seconds of audio (> 0).
        radar_s: seconds of whole radar epochs.

    Returns:
        None when the audio lies (nearly) within the radar night, else the warning.

    Raises:
        SensingError: no audio lies within the radar night, so nothing could be counted.
    """
    overlap_s = audio_overlap_s(offset_s=offset_s, audio_s=audio_s, radar_s=radar_s)
    when = (
        f"starting {duration(offset_s)} after the radar's start"
        if offset_s >= 0
        else f"starting {duration(-offset_s)} before the radar's start"
    )
    audio = f"the audio ({duration(audio_s)}, {when})"
    if overlap_s <= 0:
        raise SensingError(
            f"{audio} does not overlap the {duration(radar_s)} of the radar night, so no "
            f"cough or snore could be counted; check the audio offset (--audio-offset-s)"
        )
    if overlap_s >= MIN_AUDIO_OVERLAP * audio_s:
        return None
    return (
        f"only {overlap_s / audio_s:.0%} of {audio} overlaps the radar night "
        f"({duration(overlap_s)} of it); coughs and snoring outside it are not counted, "
        f"and the figures describe that part alone"
    )
