"""Progress lines on stderr for long work (loading thousands of clips, training epochs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Reports ``done/total`` for a named task on stderr.

    On a terminal it redraws one line; elsewhere (logs, CI) it prints a line
    every ``every_fraction`` of the work so a log stays short.
    """

    def __init__(
        self, task: str, total: int, *, every_fraction: float = 0.1, stream: TextIO | None = None
    ) -> None:
        self.task = task
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.step = max(1, int(self.total * every_fraction))
        self.started = time.monotonic()
        self.done = 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.interactive:
            self.stream.write(f"\r{self.task}: {self.done}/{self.total}")
            self.stream.flush()
        elif self.done % self.step == 0 or self.done == self.total:
            self._write_line()

    def finish(self, summary: str = "") -> None:
        if self.interactive:
            self.stream.write("\r")
        elapsed = time.monotonic() - self.started
        self.stream.write(
            f"{self.task}: {self.done}/{self.total} in {elapsed:.1f} s"
            + (f"; {summary}" if summary else "")
            + "\n"
        )
        self.stream.flush()

    def _write_line(self) -> None:
        self.stream.write(f"{self.task}: {self.done}/{self.total}\n")
        self.stream.flush()
