"""A combined night's report (``sensing night``'s ``report.json``) in words for a person.

:func:`night_headline` is ``night.png``'s title; :func:`night_lines` is what
``sensing night`` prints. Both say how many coughs were heard and how many
counted, so the audio report's count (every cough heard) and the night's (those
while in bed or asleep) never disagree without a reason given.
"""

from __future__ import annotations

import datetime
from typing import Any

from sensing.night.gating import NO_EPOCH
from sensing.radar.sleep.summary import SleepSummary, headline, summary_lines
from sensing.wording import duration, per_hour, plural

GATE_WORDS = {"in-bed": "while in bed", "asleep": "while asleep"}
"""What each gate of :data:`sensing.night.gating.GATES` keeps, in words."""
DROPPED_WORDS = {"absent": "while out of bed", "awake": "while awake", NO_EPOCH: "outside the radar night"}
"""Why an event was not counted (its ``dropped_because``), in words."""


def coughs_text(report: dict[str, Any]) -> str:
    """``"12 coughs heard, 9 while in bed"`` (or ``"..., all while in bed"``)."""
    heard, kept = report["coughs_heard"], report["combined"]["coughs"]
    gate = GATE_WORDS[report["gate"]]
    if heard == 0:
        return "no coughs heard"
    if kept == heard:
        return f"{plural(heard, 'cough')} heard, {'all' if heard > 1 else 'it'} {gate}"
    return f"{plural(heard, 'cough')} heard, {kept} {gate}"


def snoring_text(report: dict[str, Any]) -> str:
    """``"34 min of snoring while asleep"``."""
    minutes = report["combined"]["snore_minutes_asleep"]
    return f"{duration(60 * minutes)} of snoring while asleep" if minutes > 0 else "no snoring while asleep"


def night_headline(report: dict[str, Any]) -> str:
    """``night.png``'s title: the coughs and snoring, then the sleep, then how little of the audio
    the radar night covers when that is what the figures rest on."""
    lines = [f"{coughs_text(report)}; {snoring_text(report)}", headline(SleepSummary(**report["sleep"]))]
    if report["warnings"]:
        overlap = report["audio_overlap"]
        lines.append(
            f"(only {overlap['overlap_s'] / overlap['audio_s']:.0%} of the audio overlaps the radar night)"
        )
    return "\n".join(lines)


def _dropped_text(dropped: dict[str, int]) -> str:
    """``"3 not counted: 2 while out of bed, 1 outside the radar night"``, or ``""``."""
    total = sum(dropped.values())
    if total == 0:
        return ""
    reasons = ", ".join(f"{count} {DROPPED_WORDS.get(reason, reason)}" for reason, count in dropped.items())
    return f" ({total} not counted: {reasons})"


def _coughs_line(report: dict[str, Any]) -> str:
    figures = report["combined"]
    heard = report["coughs_heard"]
    if heard == 0:
        return "coughs: none heard"
    line = (
        f"coughs: {heard} heard, {figures['coughs']} {GATE_WORDS[report['gate']]}"
        f"{_dropped_text(report['coughs_dropped_by_state'])}"
    )
    if figures["coughs_per_hour_asleep"] is not None:
        line += (
            f"; {figures['coughs_asleep']} while asleep, {per_hour(figures['coughs_per_hour_asleep'])} "
            f"per hour of sleep (over {duration(3600 * figures['total_sleep_h'])} of sleep heard)"
        )
    return line


def _snoring_line(report: dict[str, Any]) -> str:
    figures = report["combined"]
    heard_min = report["audio_before_gating"]["snore_minutes"]
    if heard_min <= 0:
        return "snoring: none heard"
    if figures["snore_minutes_asleep"] <= 0:
        return f"snoring: none while asleep ({duration(60 * heard_min)} heard in all)"
    return (
        f"snoring: {duration(60 * figures['snore_minutes_asleep'])} while asleep in "
        f"{plural(figures['snore_episodes_asleep'], 'episode')} ({duration(60 * heard_min)} heard in all)"
    )


def night_lines(report: dict[str, Any]) -> list[str]:
    """What ``sensing night`` prints: the sleep (with clock times when the report's ``start_time``
    is known), the coughs and the snoring. Warnings are the report's ``warnings``, which
    :func:`sensing.night.run.combine` has already printed on stderr."""
    start = None if report["start_time"] is None else datetime.datetime.fromisoformat(report["start_time"])
    lines = summary_lines(SleepSummary(**report["sleep"]), start=start)
    return [*lines, _coughs_line(report), _snoring_line(report)]
