"""One finished night, as the history keeps it, read from its folder's ``report.json``.

Three kinds of folder hold a night: ``sensing detect``'s (audio only: coughs and
snoring), ``sensing sleep``'s (radar only: time in bed, sleep) and ``sensing night``'s
(both, audio counted while the sleeper is in bed). :func:`read_night` tells them apart by
the report's keys and keeps the figures a history compares across nights; what a kind does
not measure is None.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

from sensing.errors import SensingError

EVENING_SHIFT = datetime.timedelta(hours=12)
"""A night is dated by its evening: a start before noon belongs to the night before."""


@dataclasses.dataclass(frozen=True)
class NightRecord:
    """The figures of one night (minutes, counts; None where the night's kind has no such figure).

    Attributes:
        folder: the night folder, resolved.
        kind: ``detect``, ``sleep`` or ``night``.
        night_of: the evening the night began (from ``start_time``; else the report's
            modification time, when the recording's clock is unknown).
        start_time: ISO 8601 start of the recording, or None when unknown.
        duration_min: minutes of audio (or of radar, for a sleep folder).
        coughs: coughs counted (in bed, for a ``night`` folder).
        coughs_per_hour_asleep: coughs while asleep per hour of sleep (``night`` only).
        snore_minutes: minutes of snoring (while asleep, for a ``night`` folder).
        snore_episodes: snoring episodes (while asleep, for a ``night`` folder).
        time_in_bed_min, total_sleep_min, sleep_efficiency: the sleep summary (radar).
        model: the audio or sleep model the night was scored with.
        fingerprint: SHA-256 of ``report.json``: the same night imported twice is one night.
        bedtime, wake_time: ISO 8601 clock times the sleeper went to bed and got up (radar,
            with the recording's start known), else None.
    """

    folder: str
    kind: str
    night_of: datetime.date
    start_time: str | None
    duration_min: float
    coughs: int | None
    coughs_per_hour_asleep: float | None
    snore_minutes: float | None
    snore_episodes: int | None
    time_in_bed_min: float | None
    total_sleep_min: float | None
    sleep_efficiency: float | None
    model: str
    fingerprint: str
    bedtime: str | None = None
    wake_time: str | None = None


def _night_of(start_time: str | None, report_path: Path) -> datetime.date:
    if start_time is not None:
        return (datetime.datetime.fromisoformat(start_time) - EVENING_SHIFT).date()
    modified = datetime.datetime.fromtimestamp(report_path.stat().st_mtime)
    return (modified - EVENING_SHIFT).date()


def _sleep_figures(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "time_in_bed_min": summary["time_in_bed_min"],
        "total_sleep_min": summary["total_sleep_min"],
        "sleep_efficiency": summary["sleep_efficiency"],
        "_bedtime_min": summary["bedtime_min"],
        "_rise_time_min": summary["rise_time_min"],
    }


def _clock(start_time: str | None, minutes: float | None) -> str | None:
    """The clock time ``minutes`` after ``start_time``, when both are known."""
    if start_time is None or minutes is None:
        return None
    moment = datetime.datetime.fromisoformat(start_time) + datetime.timedelta(minutes=minutes)
    return moment.isoformat(timespec="minutes")


def _figures(report: dict[str, Any]) -> dict[str, Any]:
    """The kind and figures of a report, by the keys each command writes."""
    if "combined" in report and "sleep" in report:
        combined = report["combined"]
        return {
            "kind": "night",
            "duration_min": report["audio_overlap"]["audio_s"] / 60,
            "coughs": combined["coughs"],
            "coughs_per_hour_asleep": combined["coughs_per_hour_asleep"],
            "snore_minutes": combined["snore_minutes_asleep"],
            "snore_episodes": combined["snore_episodes_asleep"],
            **_sleep_figures(report["sleep"]),
            "model": json.dumps({"audio": report["audio"]["model"], "sleep": report["radar"]["model"]}),
        }
    if "cough_count" in report:
        return {
            "kind": "detect",
            "duration_min": report["duration_s"] / 60,
            "coughs": report["cough_count"],
            "coughs_per_hour_asleep": None,
            "snore_minutes": report["snore_minutes"],
            "snore_episodes": report["snore_episodes"],
            "time_in_bed_min": None,
            "total_sleep_min": None,
            "sleep_efficiency": None,
            "model": json.dumps(report["model"]),
        }
    if "summary" in report and "labels_count" in report:
        return {
            "kind": "sleep",
            "duration_min": report["summary"]["recording_min"],
            "coughs": None,
            "coughs_per_hour_asleep": None,
            "snore_minutes": None,
            "snore_episodes": None,
            **_sleep_figures(report["summary"]),
            "model": json.dumps(report["model"]),
        }
    raise SensingError("not a report of sensing detect, sleep or night")


def read_night(folder: str | Path) -> NightRecord:
    """The night in ``folder`` (a folder that ``sensing detect``, ``sleep`` or ``night`` wrote).

    Raises:
        SensingError: no readable ``report.json``, or one of another kind; the message names it.
    """
    report_path = Path(folder).resolve() / "report.json"
    try:
        data = report_path.read_bytes()
        report = json.loads(data)
        figures = _figures(report)
    except FileNotFoundError:
        raise SensingError(f"{report_path}: not found; is {folder} a night folder?") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SensingError(f"{report_path}: not valid JSON (cut short or damaged?)") from None
    except (KeyError, TypeError) as error:
        raise SensingError(f"{report_path}: a report without {error} (from another version?)") from None
    except SensingError as error:
        raise SensingError(f"{report_path}: {error}") from None
    start_time = report.get("start_time")
    bedtime_min, rise_time_min = figures.pop("_bedtime_min", None), figures.pop("_rise_time_min", None)
    return NightRecord(
        folder=str(report_path.parent),
        night_of=_night_of(start_time, report_path),
        start_time=start_time,
        fingerprint=hashlib.sha256(data).hexdigest(),
        bedtime=_clock(start_time, bedtime_min),
        wake_time=_clock(start_time, rise_time_min),
        **figures,
    )
