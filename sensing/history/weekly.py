"""Weekly summaries of the night history: totals and means per week (Monday to Sunday).

A week's means are over the nights that measured the figure (a ``sleep`` night has no
coughs, a ``detect`` night no sleep), and its change is against the week before it in the
history, when that week has the figure too.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable

from sensing.history.nights import NightRecord


@dataclasses.dataclass(frozen=True)
class Week:
    """One week of nights.

    Attributes:
        monday: the week's first day.
        nights: how many nights were recorded in it.
        coughs: total coughs over the nights that count them (None: no such night).
        coughs_per_night: their mean per night.
        coughs_per_hour_asleep: mean coughs per hour of sleep (nights with radar and audio).
        snore_minutes_per_night: mean minutes of snoring a night.
        total_sleep_min_per_night: mean minutes asleep a night (radar nights).
        sleep_efficiency: mean sleep efficiency (radar nights), 0-1.
    """

    monday: datetime.date
    nights: int
    coughs: int | None
    coughs_per_night: float | None
    coughs_per_hour_asleep: float | None
    snore_minutes_per_night: float | None
    total_sleep_min_per_night: float | None
    sleep_efficiency: float | None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def weeks(nights: Iterable[NightRecord]) -> list[Week]:
    """The weeks of ``nights``, oldest first."""
    by_week: dict[datetime.date, list[NightRecord]] = {}
    for night in nights:
        monday = night.night_of - datetime.timedelta(days=night.night_of.weekday())
        by_week.setdefault(monday, []).append(night)
    summaries = []
    for monday in sorted(by_week):
        group = by_week[monday]
        coughs = [n.coughs for n in group if n.coughs is not None]
        summaries.append(
            Week(
                monday=monday,
                nights=len(group),
                coughs=sum(coughs) if coughs else None,
                coughs_per_night=_mean([float(c) for c in coughs]),
                coughs_per_hour_asleep=_mean(
                    [n.coughs_per_hour_asleep for n in group if n.coughs_per_hour_asleep is not None]
                ),
                snore_minutes_per_night=_mean(
                    [n.snore_minutes for n in group if n.snore_minutes is not None]
                ),
                total_sleep_min_per_night=_mean(
                    [n.total_sleep_min for n in group if n.total_sleep_min is not None]
                ),
                sleep_efficiency=_mean([n.sleep_efficiency for n in group if n.sleep_efficiency is not None]),
            )
        )
    return summaries


def change(current: float | None, previous: float | None) -> float | None:
    """``current - previous`` where both are known."""
    return None if current is None or previous is None else current - previous
