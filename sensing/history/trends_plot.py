"""``trends.png``: the history at a glance, one panel per question, nights along the x axis.

Coughs a night, snoring minutes a night, sleep (hours asleep and sleep efficiency) and when
each night's recording started (regular bedtimes line up); the weekly means are drawn over
the nights as steps. A panel whose figure no night measured says so instead of drawing.
Needs matplotlib (``pip install 'sensing[plot]'``); written atomically.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from sensing.history.nights import NightRecord
from sensing.history.weekly import Week
from sensing.plotting import pyplot, save_figure

COUGH_COLOUR = "tab:red"
SNORE_COLOUR = "tab:blue"
SLEEP_COLOUR = "tab:purple"


def _weekly_steps(axis: Any, weeks: list[Week], attribute: str, scale: float, colour: str) -> None:
    """The weekly means of ``attribute`` as a line over each week's seven days."""
    label = "weekly mean"
    for week in weeks:
        value = getattr(week, attribute)
        if value is None:
            continue
        start = datetime.datetime.combine(week.monday, datetime.time()) - datetime.timedelta(hours=12)
        axis.plot([start, start + datetime.timedelta(days=7)], [value * scale] * 2, color=colour, lw=2,
                  alpha=0.6, label=label)  # fmt: skip
        label = "_"


def _bars(axis: Any, nights: list[NightRecord], values: list[float | None], colour: str, what: str) -> bool:
    """Bars of the nights that measured ``values``; False (and a note) when none did."""
    days = [n.night_of for n, v in zip(nights, values) if v is not None]
    if not days:
        axis.text(0.5, 0.5, f"no night measured {what}", transform=axis.transAxes, ha="center", va="center")
        return False
    axis.bar(days, [v for v in values if v is not None], width=0.7, color=colour, label="night")
    return True


def plot_trends(nights: list[NightRecord], weeks: list[Week], path: str | Path) -> Path:
    """Draw the history's trends into ``path`` (PNG); returns it.

    Raises:
        SensingError: matplotlib is missing.
        WriteError: the picture cannot be written.
    """
    plt = pyplot("trends.png")
    figure, (coughs, snoring, sleep, bedtime) = plt.subplots(4, 1, figsize=(11, 9), sharex=True)
    try:
        first, last = nights[0].night_of, nights[-1].night_of
        figure.suptitle(
            f"{len(nights)} nights, {first.isoformat()} to {last.isoformat()}: coughs, snoring and sleep"
        )
        if _bars(coughs, nights, [n.coughs for n in nights], COUGH_COLOUR, "coughs"):
            _weekly_steps(coughs, weeks, "coughs_per_night", 1.0, COUGH_COLOUR)
        coughs.set_ylabel("coughs a night")
        if _bars(snoring, nights, [n.snore_minutes for n in nights], SNORE_COLOUR, "snoring"):
            _weekly_steps(snoring, weeks, "snore_minutes_per_night", 1.0, SNORE_COLOUR)
        snoring.set_ylabel("snoring, min")
        asleep = [None if n.total_sleep_min is None else n.total_sleep_min / 60 for n in nights]
        if _bars(sleep, nights, asleep, SLEEP_COLOUR, "sleep (radar)"):
            _weekly_steps(sleep, weeks, "total_sleep_min_per_night", 1 / 60, SLEEP_COLOUR)
            efficiency = sleep.twinx()
            measured = [(n.night_of, n.sleep_efficiency) for n in nights if n.sleep_efficiency is not None]
            efficiency.plot([day for day, _ in measured], [100 * value for _, value in measured],
                            "o-", color="black", ms=3, lw=1, label="efficiency")  # fmt: skip
            efficiency.set(ylim=(0, 105), ylabel="efficiency, %")
        sleep.set_ylabel("asleep, h")
        started = [(n.night_of, n.start_time) for n in nights if n.start_time is not None]
        if started:
            clock = [_evening_hours(start) for _, start in started]
            bedtime.plot([day for day, _ in started], clock, "o", color="black", ms=4)
            bedtime.set_yticks(range(18, 31, 2), [f"{h % 24:02d}:00" for h in range(18, 31, 2)])
        else:
            bedtime.text(0.5, 0.5, "no night's start is known (--start-time)", transform=bedtime.transAxes,
                         ha="center", va="center")  # fmt: skip
        bedtime.set_ylabel("started at")
        for axis in (coughs, snoring, sleep, bedtime):
            axis.grid(alpha=0.3)
            handles, _ = axis.get_legend_handles_labels()
            if handles:
                axis.legend(loc="upper left", bbox_to_anchor=(1.06, 1.0), fontsize=8)
        bedtime.set_xlim(
            datetime.datetime.combine(first, datetime.time()) - datetime.timedelta(days=1),
            datetime.datetime.combine(last, datetime.time()) + datetime.timedelta(days=1),
        )
        figure.autofmt_xdate()
        figure.tight_layout()
    except BaseException:
        plt.close(figure)
        raise
    return save_figure(plt, figure, path)


def _evening_hours(start_time: str) -> float:
    """A start's clock time in hours from midnight before it, after-midnight starts as 24-30."""
    moment = datetime.datetime.fromisoformat(start_time)
    hours = moment.hour + moment.minute / 60
    return hours + 24 if hours < 12 else hours
