"""The bedtime window: when tonight's night starts and ends on the local clock.

A window from ``bedtime`` to ``wake`` crosses midnight when wake comes earlier on the clock
(22:00 to 08:00); otherwise it lies within one day (a day sleeper's 09:00 to 17:00). Times
are naive local datetimes, as a bedside clock shows them.
"""

from __future__ import annotations

import dataclasses
import datetime


@dataclasses.dataclass(frozen=True)
class Window:
    """One night's span: ``start`` (bedtime) to ``end`` (wake time), local clock."""

    start: datetime.datetime
    end: datetime.datetime

    def holds(self, moment: datetime.datetime) -> bool:
        """Whether ``moment`` lies within the window."""
        return self.start <= moment < self.end


def _length(bedtime: datetime.time, wake: datetime.time) -> datetime.timedelta:
    day = datetime.date(2000, 1, 1)
    length = datetime.datetime.combine(day, wake) - datetime.datetime.combine(day, bedtime)
    return length if length > datetime.timedelta(0) else length + datetime.timedelta(days=1)


def current_or_next(now: datetime.datetime, bedtime: datetime.time, wake: datetime.time) -> Window:
    """The window that holds ``now``, else the next one to start."""
    length = _length(bedtime, wake)
    for days_back in (1, 0):
        start = datetime.datetime.combine(now.date() - datetime.timedelta(days=days_back), bedtime)
        if now < start + length:
            return Window(start, start + length)
    start = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), bedtime)
    return Window(start, start + length)
