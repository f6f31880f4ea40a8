"""A night's audio report (``sensing detect``'s ``report.json``) in words for a person.

:func:`night_answer` is the night's answer in a few words (``report.png``'s title);
:func:`detect_lines` is what ``sensing detect`` prints. Numbers are rounded for
reading (``105.7 per hour``, ``17 min``, ``6 h 12 min``, ``1 episode``); the report
keeps them as numbers.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from sensing.wording import clock, duration, plural


def start_time(report: dict[str, Any]) -> datetime.datetime | None:
    """When the recording started (the report's ``start_time``), or None when not known."""
    text = report.get("start_time")
    return None if text is None else datetime.datetime.fromisoformat(text)


def snoring_text(report: dict[str, Any]) -> str:
    """``"12 min of snoring in 2 episodes"``, or ``"no snoring"``."""
    if report["snore_episodes"] == 0:
        return "no snoring"
    return f"{duration(report['snore_minutes'] * 60)} of snoring in {plural(report['snore_episodes'], 'episode')}"


def night_answer(report: dict[str, Any]) -> str:
    """``"8 coughs, 12 min of snoring in 2 episodes in 7 h 40 min (23:10-06:50)"``."""
    span = duration(report["duration_s"])
    start = start_time(report)
    if start is not None:
        span += f" ({clock(start, 0)}-{clock(start, report['duration_s'])})"
    return f"{plural(report['cough_count'], 'cough')}, {snoring_text(report)} in {span}"


def _coughs_line(report: dict[str, Any]) -> str:
    """``"coughs: 8 (10.4 per hour)"``; the rate only for an hour of audio or more."""
    hours = report["duration_s"] / 3600
    rate = f" ({report['cough_count'] / hours:.1f} per hour)" if hours >= 1 and report["cough_count"] else ""
    return f"coughs: {report['cough_count']}{rate}"


def _snoring_line(report: dict[str, Any]) -> str:
    """``"snoring: 12 min in 2 episodes"``, or ``"snoring: none"``."""
    if report["snore_episodes"] == 0:
        return "snoring: none"
    return (
        f"snoring: {duration(report['snore_minutes'] * 60)} in {plural(report['snore_episodes'], 'episode')}"
    )


def _speed_line(report: dict[str, Any]) -> str:
    """``"10 min of audio in 0.9 s (680 times real time) on ai_edge_litert"``."""
    factor = report["real_time_factor"]
    speed = f" ({factor:.0f} times real time)" if factor else ""
    return (
        f"{duration(report['duration_s'])} of audio in {report['processing_s']:.1f} s{speed} "
        f"on {report['model']['backend']}"
    )


def detect_lines(report: dict[str, Any], out: Path) -> list[str]:
    """What ``sensing detect`` prints: speed, how it stopped, the answer, warnings, the files."""
    lines = [_speed_line(report)]
    if report["stopped_by"]:
        why = "at the error above" if report["stopped_by"].startswith("error") else "when asked to"
        lines.append(f"stopped early {why}: the figures cover the first {duration(report['duration_s'])}")
    lines += [_coughs_line(report), _snoring_line(report)]
    lines += [f"warning: {warning}" for warning in report["input_warnings"]]
    plot = f", {report['plot']}" if report.get("plot") else ""
    lines += [f"report: {out / 'report.json'}{plot}", f"events: {out / 'events.csv'}"]
    return lines
