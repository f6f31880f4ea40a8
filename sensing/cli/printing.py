"""What the ``sensing`` commands print about a night: a few lines each, the files named."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _minutes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} min"


def print_audio_night(report: dict[str, Any], out: Path) -> None:
    """``sensing detect``'s report (``report.json`` of :func:`sensing.audio.night.detect_night`)."""
    print(
        f"{report['duration_s'] / 60:.1f} min of audio in {report['processing_s']:.1f} s "
        f"(real-time factor {report['real_time_factor'] or 'n/a'}) on {report['model']['backend']}"
    )
    if report["stopped_by"]:
        print(f"stopped early: {report['stopped_by']}")
    print(
        f"coughs: {report['cough_count']}   snore: {report['snore_minutes']:.1f} min in "
        f"{report['snore_episodes']} episodes"
    )
    for warning in report["input_warnings"]:
        print(f"warning: {warning}")
    print(f"report: {out / 'report.json'}" + (f", {report['plot']}" if report.get("plot") else ""))
    print(f"events: {out / 'events.csv'}")


def print_sleep_summary(summary: dict[str, Any]) -> None:
    """The sleep summary of a night in a few lines."""
    if summary["note"]:
        print(f"note: {summary['note']}")
    efficiency = summary["sleep_efficiency"]
    rate = summary["breathing_rate_bpm"]
    print(
        f"time in bed {_minutes(summary['time_in_bed_min'])}, total sleep "
        f"{_minutes(summary['total_sleep_min'])}, "
        f"sleep efficiency {'n/a' if efficiency is None else f'{efficiency:.0%}'}"
    )
    print(
        f"sleep onset latency {_minutes(summary['sleep_onset_latency_min'])}, wake after sleep onset "
        f"{_minutes(summary['wake_after_sleep_onset_min'])}, {summary['awakenings']} awakening(s), "
        f"breathing {'n/a' if rate is None else f'{rate:.1f}/min'} asleep"
    )


def print_combined_night(report: dict[str, Any], out: Path) -> None:
    """``sensing night``'s report: the sleep summary, then the gated audio events."""
    print_sleep_summary(report["sleep"])
    figures = report["combined"]
    per_hour = figures["coughs_per_hour_asleep"]
    print(
        f"gate '{report['gate']}': kept {report['events_kept']} audio events, dropped "
        f"{report['events_dropped']} {report['dropped_by_state'] or ''}".rstrip()
    )
    print(
        f"coughs: {figures['coughs']} ({figures['coughs_asleep']} asleep, "
        f"{'n/a' if per_hour is None else f'{per_hour:.1f}'} per hour of sleep); snoring: "
        f"{figures['snore_minutes_asleep']:.1f} min while asleep in {figures['snore_episodes_asleep']} "
        f"episode(s)"
    )
    print(
        f"report: {out / 'report.json'}"
        + (f", {report['plot']}" if report.get("plot") else "")
        + f"; events: {out / 'events.csv'}; sleep: {out / 'sleep'}; audio: {out / 'audio'}"
    )
