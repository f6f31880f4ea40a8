"""Numbers as people read them in the printed summaries and the pictures' titles (audio, radar
and night alike).

Reports (``report.json``) keep the exact numbers; what is printed is rounded
for reading: ``105.7 per hour``, ``1 min``, ``6 h 12 min``, ``1 episode``, ``23:10``.
"""

from __future__ import annotations

import datetime
import math


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"no episodes"``, ``"1 episode"``, ``"3 episodes"``; ``many`` for an irregular plural."""
    return f"{count or 'no'} {word if count == 1 else many or word + 's'}"


def duration(seconds: float) -> str:
    """A duration for reading: ``"0.8 s"``, ``"30 s"``, ``"17 min"``, ``"6 h 12 min"``, ``"7 h"``."""
    if not math.isfinite(seconds):
        return f"{seconds} s"
    if abs(seconds) >= 3_600_000:  # beyond a thousand hours, the minutes say nothing
        return f"{seconds / 3600:.3g} h"
    if 0 < abs(seconds) < 59.5:
        return f"{round(seconds, 1):g} s" if abs(seconds) < 9.95 else f"{math.floor(seconds + 0.5)} s"
    whole = math.floor(seconds / 60 + 0.5)
    hours, rest = divmod(abs(whole), 60)
    sign = "-" if whole < 0 else ""
    if hours == 0:
        return f"{sign}{rest} min"
    return f"{sign}{hours} h" + (f" {rest} min" if rest else "")


def clock(start: datetime.datetime, offset_s: float) -> str:
    """The clock time ``offset_s`` seconds after ``start``, as ``"23:10"``."""
    return (start + datetime.timedelta(seconds=offset_s)).strftime("%H:%M")


def per_hour(value: float) -> str:
    """A rate per hour with one decimal: ``"105.7"``."""
    return f"{value:.1f}"
