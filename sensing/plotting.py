"""What the toolkit's pictures share: matplotlib imported only when a picture is drawn, a time
axis people read, and saving a PNG safely.

:class:`Timeline` labels a picture's time axis, whose values are minutes from
the recording's start: clock time when the start is known (``23:30``, ``00:00``),
else minutes for a recording under about an hour and hours and minutes
(``1:30``) for a longer one, with ticks on round values, never fractions of an
hour. :func:`save_figure` writes a figure through :func:`sensing.files.atomic_path`,
so a full disk leaves the previous picture or none.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from pathlib import Path
from typing import Any

from sensing.errors import SensingError
from sensing.files import atomic_path, make_folder
from sensing.wording import clock


def pyplot(picture: str) -> Any:
    """``matplotlib.pyplot`` on the Agg backend (files, no display).

    Raises:
        SensingError: matplotlib is missing; the message names ``picture``
            (what was to be drawn) and the extra to install.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SensingError(f"{picture}: needs matplotlib: pip install 'sensing[plot]'") from None
    return plt


SHORT_MIN = 75.0
"""Longest recording, in minutes, whose axis reads in minutes when no clock time is known."""
TICK_STEPS_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440)
"""Spacings of the time ticks in minutes; the smallest that gives at most :data:`MAX_TICKS` is used."""
MAX_TICKS = 10


@dataclasses.dataclass(frozen=True)
class Timeline:
    """How a time axis reads; positions on it are minutes from the recording's start.

    Attributes:
        length_min: the recording's length in minutes (> 0).
        start: the clock time of the recording's start, or None when unknown.
    """

    length_min: float
    start: datetime.datetime | None = None

    @property
    def label(self) -> str:
        if self.start is not None:
            return "clock time"
        if self.length_min <= SHORT_MIN:
            return "minutes from the start"
        return "hours:minutes from the start"

    def tick_text(self, minutes: float) -> str:
        """The text of a tick at ``minutes`` from the start."""
        if self.start is not None:
            return clock(self.start, 60 * minutes)
        if self.length_min <= SHORT_MIN:
            return f"{minutes:g}"
        whole = round(minutes)
        hours, rest = divmod(abs(whole), 60)
        return f"{'-' if whole < 0 else ''}{hours}:{rest:02d}"

    def ticks(self, low_min: float, high_min: float) -> list[float]:
        """Tick positions from ``low_min`` to ``high_min``: round clock times, or round offsets."""
        span = max(high_min - low_min, 1e-9)
        step = next((s for s in TICK_STEPS_MIN if span / s <= MAX_TICKS), TICK_STEPS_MIN[-1])
        shift = 0.0
        if self.start is not None:  # ticks on round clock times
            of_day = self.start.hour * 60 + self.start.minute + self.start.second / 60
            shift = math.ceil(of_day / step) * step - of_day
        first = math.ceil((low_min - shift) / step) * step + shift
        count = math.floor((high_min - first) / step + 1e-9) + 1
        return [first + index * step for index in range(max(count, 0))]

    def apply(self, axis: Any, low_min: float, high_min: float) -> None:
        """Set ``axis``'s x limits, ticks, tick texts and label (axes sharing x follow)."""
        from matplotlib.ticker import FixedLocator, FuncFormatter

        axis.set_xlim(low_min, high_min)
        axis.xaxis.set_major_locator(FixedLocator(self.ticks(low_min, high_min)))
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: self.tick_text(value)))
        axis.set_xlabel(self.label)


def save_figure(plt: Any, figure: Any, path: str | Path) -> Path:
    """Write ``figure`` as a PNG at ``path`` (its folder created), atomically, and close it.

    Raises:
        WriteError: the picture cannot be written (a full disk); no file is left behind.
    """
    path = Path(path)
    make_folder(path.parent)
    try:
        with atomic_path(path) as partial:
            figure.savefig(partial, dpi=100)
    finally:
        plt.close(figure)
    return path
