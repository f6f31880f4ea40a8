"""``trends.png``: the history at a glance, one panel per question, nights along the x axis.

Coughs per hour asleep (or a night, without radar), snoring minutes a night, sleep (hours
asleep and sleep efficiency) and bedtime and wake time (or when each recording started,
without radar): regular nights line up. The weekly means are drawn over the nights as steps. A panel whose figure no night measured says so instead of drawing.
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
        if any(n.coughs_per_hour_asleep is not None for n in nights):  # radar and audio: per hour asleep
            _bars(coughs, nights, [n.coughs_per_hour_asleep for n in nights], COUGH_COLOUR, "coughs")
            _weekly_steps(coughs, weeks, "coughs_per_hour_asleep", 1.0, COUGH_COLOUR)
            coughs.set_ylabel("coughs per hour asleep")
        else:
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
        _draw_times(bedtime, nights)
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


def _draw_times(axis: Any, nights: list[NightRecord]) -> None:
    """Bedtime and wake time (radar nights with a known start), else when each recording started."""
    series = [
        ("bedtime", "o", [(n.night_of, n.bedtime) for n in nights if n.bedtime is not None]),
        ("wake time", "s", [(n.night_of, n.wake_time) for n in nights if n.wake_time is not None]),
    ]
    if not series[0][2]:
        series = [("recording started", "o", [(n.night_of, n.start_time) for n in nights if n.start_time])]
    drawn = False
    for label, marker, points in series:
        if points:
            axis.plot([day for day, _ in points], [_evening_hours(t) for _, t in points if t], marker,
                      color="black", ms=4, mfc="white" if label == "wake time" else "black", label=label)  # fmt: skip
            drawn = True
    if not drawn:
        axis.text(0.5, 0.5, "no night's start is known (--start-time)", transform=axis.transAxes,
                  ha="center", va="center")  # fmt: skip
    axis.set_yticks(range(18, 37, 3), [f"{h % 24:02d}:00" for h in range(18, 37, 3)])
    axis.set_ylabel("clock time")


def _evening_hours(start_time: str) -> float:
    """A clock time in hours from the evening's midnight: 18:00 is 18, 07:00 the next morning 31."""
    moment = datetime.datetime.fromisoformat(start_time)
    hours = moment.hour + moment.minute / 60
    return hours + 24 if hours < 15 else hours
