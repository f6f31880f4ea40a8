"""The standard sleep summary of one night from its epoch labels.

Each epoch (30 s by default) is ``absent``, ``awake`` or ``asleep``
(:data:`~sensing.radar.recording.EPOCH_LABELS`). Times are minutes; offsets
are minutes from the start of the first epoch. With ``E`` the epoch length in
minutes and epochs numbered from 0:

- **in-bed period**: from the start of the first epoch that is not absent to
  the end of the last one. ``bedtime_min`` is its start, ``rise_time_min`` its
  end. This is the radar's "lights off" to "lights on".
- **time in bed (TIB)**: the length of the in-bed period, absent epochs inside
  it included, as polysomnography counts lights off to lights on whatever
  happens between (a trip to the bathroom is scored as wake, not removed).
  ``absent_in_bed_min`` says how much of it was spent out of bed, for those
  who want TIB without it.
- **total sleep time (TST)**: asleep epochs times ``E``, over the whole night.
- **sleep onset**: the first epoch of the first run of ``onset_epochs``
  consecutive asleep epochs (default 1: the first asleep epoch, as AASM
  scoring defines sleep onset by the first epoch of any sleep).
  ``sleep_onset_min`` is its start.
- **sleep onset latency (SOL)**: from bedtime to sleep onset.
- **final awakening**: the end of the last asleep epoch, ``wake_time_min``.
- **wake after sleep onset (WASO)**: epochs between sleep onset and the final
  awakening that are not asleep, times ``E``: awake epochs and absent ones,
  since a person out of bed in the middle of the night is awake (as
  polysomnography scores it). Wake after the final awakening is not WASO.
- **awakenings**: maximal runs of epochs that are not asleep (awake, absent,
  or both in turn: getting up to the bathroom is one awakening) between sleep
  onset and the final awakening, at least ``min_awakening_epochs`` long
  (default 1: every 30 s epoch of wake, as PSG scoring counts them).
- **sleep efficiency (SE)**: TST / TIB, a fraction from 0 to 1 (not percent).
- **breathing rate**: the median of the given per-epoch rates over asleep
  epochs, breaths per minute; epochs without a rate (None or NaN) are left
  out. The median, so a few epochs of motion do not move it.

With ``onset_epochs`` 1, TIB = SOL + TST + WASO + the wake after the final
awakening.

Nights without sleep: when nobody is ever in bed, TIB and TST are 0, SE,
SOL, WASO and every offset are None, and ``note`` says so. When someone is in
bed but never asleep, TST and SE are 0, SOL, WASO and ``wake_time_min`` are
None. Numpy only.

:func:`headline` and :func:`summary_lines` put a summary in words for a person
(rounded minutes, clock times when the start is known); the summary itself
keeps the exact numbers.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from sensing.errors import RadarError
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.wording import clock, duration, plural

ABSENT, AWAKE, ASLEEP = (EPOCH_LABELS.index(label) for label in ("absent", "awake", "asleep"))
"""Index of each label in :data:`~sensing.radar.recording.EPOCH_LABELS`."""


def label_indices(labels: Sequence[str], *, name: str = "labels") -> np.ndarray:
    """(epochs,) int indices into :data:`EPOCH_LABELS` of ``labels``.

    Raises:
        RadarError: no epochs, or a label that is not one of EPOCH_LABELS
            (the message names ``name``, the epoch and the label).
    """
    if isinstance(labels, str):
        raise RadarError(f"{name} must be a sequence of labels, got the string {labels!r}")
    if len(labels) == 0:
        raise RadarError(f"{name}: no epochs")
    lookup = {label: index for index, label in enumerate(EPOCH_LABELS)}
    indices = np.empty(len(labels), dtype=np.int64)
    for epoch, label in enumerate(labels):
        if label not in lookup:
            raise RadarError(
                f"{name}: epoch {epoch} has label {label!r}, expected one of {', '.join(EPOCH_LABELS)}"
            )
        indices[epoch] = lookup[label]
    return indices


def runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal values in a 1-d array, as (value, start, stop) with stop exclusive."""
    if len(values) == 0:
        return []
    starts = np.concatenate([[0], np.flatnonzero(values[1:] != values[:-1]) + 1])
    stops = np.concatenate([starts[1:], [len(values)]])
    return [(values[start].item(), int(start), int(stop)) for start, stop in zip(starts, stops)]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SleepSummary:
    """The sleep summary of one night (definitions in the module docstring).

    Attributes:
        epochs: number of epochs.
        epoch_s: length of one epoch in seconds.
        recording_min: length of the recording.
        bedtime_min, rise_time_min: start and end of the in-bed period (None: never in bed).
        sleep_onset_min: start of sleep onset (None: no sleep onset).
        wake_time_min: the final awakening, end of the last asleep epoch (None: no sleep onset).
        time_in_bed_min: TIB, absent epochs inside the in-bed period included.
        absent_in_bed_min: minutes of TIB spent absent.
        total_sleep_min: TST.
        sleep_onset_latency_min: SOL (None: no sleep onset).
        wake_after_sleep_onset_min: WASO (None: no sleep onset).
        sleep_efficiency: TST / TIB from 0 to 1 (None: never in bed).
        awakenings: number of awakenings.
        breathing_rate_bpm: median breathing rate over asleep epochs in breaths per minute
            (None: no rates given, or none for an asleep epoch).
        note: why fields are None ("" for an ordinary night).
    """

    epochs: int
    epoch_s: float
    recording_min: float
    bedtime_min: float | None
    rise_time_min: float | None
    sleep_onset_min: float | None
    wake_time_min: float | None
    time_in_bed_min: float
    absent_in_bed_min: float
    total_sleep_min: float
    sleep_onset_latency_min: float | None
    wake_after_sleep_onset_min: float | None
    sleep_efficiency: float | None
    awakenings: int
    breathing_rate_bpm: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Every field by name: numbers, None or the note (JSON-ready)."""
        return dataclasses.asdict(self)


def summarise_night(
    labels: Sequence[str],
    *,
    epoch_s: float = EPOCH_S,
    breathing_rate_per_epoch: Sequence[float | None] | None = None,
    onset_epochs: int = 1,
    min_awakening_epochs: int = 1,
) -> SleepSummary:
    """The sleep summary of a night of epoch labels.

    Args:
        labels: (epochs,) one of EPOCH_LABELS per epoch, in order.
        epoch_s: length of one epoch in seconds, > 0.
        breathing_rate_per_epoch: (epochs,) breaths per minute per epoch, None or
            NaN where unknown (as :func:`~sensing.radar.breathing.breathing_per_epoch`
            gives); default no breathing rate.
        onset_epochs: consecutive asleep epochs that make sleep onset, >= 1.
        min_awakening_epochs: shortest run of wake counted as an awakening, >= 1.

    Raises:
        RadarError: no epochs, an unknown label, a bad parameter, or breathing
            rates of another length than the labels.
    """
    states = label_indices(labels)
    if not (isinstance(epoch_s, numbers.Real) and math.isfinite(epoch_s) and epoch_s > 0):
        raise RadarError(f"epoch_s must be a positive number of seconds, got {epoch_s!r}")
    _check_count("onset_epochs", onset_epochs)
    _check_count("min_awakening_epochs", min_awakening_epochs)
    rates = _rates(breathing_rate_per_epoch, len(states))
    epoch_min = epoch_s / 60.0
    asleep = states == ASLEEP
    common = {
        "epochs": len(states),
        "epoch_s": float(epoch_s),
        "recording_min": len(states) * epoch_min,
        "total_sleep_min": int(asleep.sum()) * epoch_min,
    }
    present = np.flatnonzero(states != ABSENT)
    if present.size == 0:
        return SleepSummary(
            **common,
            bedtime_min=None,
            rise_time_min=None,
            sleep_onset_min=None,
            wake_time_min=None,
            time_in_bed_min=0.0,
            absent_in_bed_min=0.0,
            sleep_onset_latency_min=None,
            wake_after_sleep_onset_min=None,
            sleep_efficiency=None,
            awakenings=0,
            breathing_rate_bpm=None,
            note="never in bed: every epoch is absent",
        )
    bed_start, bed_stop = int(present[0]), int(present[-1]) + 1
    time_in_bed_min = (bed_stop - bed_start) * epoch_min
    common.update(
        bedtime_min=bed_start * epoch_min,
        rise_time_min=bed_stop * epoch_min,
        time_in_bed_min=time_in_bed_min,
        absent_in_bed_min=int((states[bed_start:bed_stop] == ABSENT).sum()) * epoch_min,
        sleep_efficiency=common["total_sleep_min"] / time_in_bed_min,
        breathing_rate_bpm=_median_rate(rates, asleep),
    )
    onset = _sleep_onset(asleep, onset_epochs)
    if onset is None:
        return SleepSummary(
            **common,
            sleep_onset_min=None,
            wake_time_min=None,
            sleep_onset_latency_min=None,
            wake_after_sleep_onset_min=None,
            awakenings=0,
            note=f"no sleep onset: no run of {onset_epochs} asleep epoch(s)",
        )
    final = int(np.flatnonzero(asleep)[-1]) + 1
    wake_runs = [
        (start, stop)
        for value, start, stop in runs(asleep[onset:final])
        if not value and stop - start >= min_awakening_epochs
    ]
    return SleepSummary(
        **common,
        sleep_onset_min=onset * epoch_min,
        wake_time_min=final * epoch_min,
        sleep_onset_latency_min=(onset - bed_start) * epoch_min,
        wake_after_sleep_onset_min=int((~asleep[onset:final]).sum()) * epoch_min,
        awakenings=len(wake_runs),
        note="",
    )


def _check_count(name: str, value: object) -> None:
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 1):
        raise RadarError(f"{name} must be an integer >= 1 (epochs), got {value!r}")


def _rates(rates: Sequence[float | None] | None, n_epochs: int) -> np.ndarray | None:
    """(epochs,) float breathing rates with NaN where unknown, or None when none were given."""
    if rates is None:
        return None
    if len(rates) != n_epochs:
        raise RadarError(
            f"breathing_rate_per_epoch has {len(rates)} values for {n_epochs} epochs "
            f"(one per epoch, None where unknown)"
        )
    values = np.full(n_epochs, np.nan)
    for epoch, rate in enumerate(rates):
        if rate is None:
            continue
        if not isinstance(rate, numbers.Real) or isinstance(rate, (bool, np.bool_)):
            raise RadarError(
                f"breathing_rate_per_epoch: epoch {epoch} has {rate!r}, expected breaths per minute or None"
            )
        values[epoch] = rate
    return values


def _median_rate(rates: np.ndarray | None, asleep: np.ndarray) -> float | None:
    if rates is None:
        return None
    known = rates[asleep & np.isfinite(rates)]
    return float(np.median(known)) if known.size else None


def _sleep_onset(asleep: np.ndarray, onset_epochs: int) -> int | None:
    """Index of the first epoch of the first run of ``onset_epochs`` asleep epochs, or None."""
    for value, start, stop in runs(asleep):
        if value and stop - start >= onset_epochs:
            return start
    return None


def headline(summary: SleepSummary) -> str:
    """The night's answer in one line: ``"slept 6 h 12 min of 7 h 40 min in bed (81%), 3 awakenings"``."""
    if summary.bedtime_min is None:
        return f"nobody in bed in the {duration(60 * summary.recording_min)} recorded"
    in_bed = duration(60 * summary.time_in_bed_min)
    if summary.sleep_onset_min is None:
        return f"in bed {in_bed}, no sleep"
    efficiency = "" if summary.sleep_efficiency is None else f" ({summary.sleep_efficiency:.0%})"
    return (
        f"slept {duration(60 * summary.total_sleep_min)} of {in_bed} in bed{efficiency}, "
        f"{plural(summary.awakenings, 'awakening')}"
    )


def summary_lines(summary: SleepSummary, *, start: datetime.datetime | None = None) -> list[str]:
    """The sleep summary in a few lines for a person: the :func:`headline`, then the details.

    ``start``: the clock time of the recording's start; with it the in-bed period
    and sleep onset are given as clock times.
    """
    lines = [headline(summary)]
    if summary.bedtime_min is None or summary.rise_time_min is None:
        return lines
    if start is not None:
        lines.append(
            f"in bed {clock(start, 60 * summary.bedtime_min)} to {clock(start, 60 * summary.rise_time_min)}"
            + (
                ""
                if summary.sleep_onset_min is None
                else f", asleep at {clock(start, 60 * summary.sleep_onset_min)}"
            )
        )
    if summary.sleep_onset_latency_min is not None and summary.wake_after_sleep_onset_min is not None:
        lines.append(
            f"fell asleep after {duration(60 * summary.sleep_onset_latency_min)} in bed; awake "
            f"{duration(60 * summary.wake_after_sleep_onset_min)} after falling asleep"
        )
    if summary.absent_in_bed_min:
        lines.append(f"out of bed {duration(60 * summary.absent_in_bed_min)} during the night")
    if summary.breathing_rate_bpm is not None:
        lines.append(f"breathing {summary.breathing_rate_bpm:.0f} times a minute while asleep")
    return lines
