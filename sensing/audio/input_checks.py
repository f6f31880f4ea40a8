"""Watching a long recording for clipping and dead silence while it streams past.

Neither stops the night: both are reported in ``report.json`` so a user can
fix the microphone gain or cabling before the next night.
"""

from __future__ import annotations

import numpy as np

from sensing.audio.reading import SILENCE_PEAK

CLIP_LEVEL = 0.999
"""Absolute sample value (full scale = 1) from which a sample counts as clipped."""

CLIPPED_SHARE_WARNING = 0.001
"""Share of clipped samples above which the report warns."""

SILENCE_WARNING_S = 60.0
"""Digital silence longer than this (seconds) is reported."""


class InputMonitor:
    """Counts clipped samples and finds stretches of silence in mono blocks at ``sr`` Hz."""

    def __init__(self, *, sr: int) -> None:
        self.sr = sr
        self.samples = 0
        self.clipped = 0
        self._silent_since: float | None = None
        self.silences: list[tuple[float, float]] = []

    def check(self, block: np.ndarray) -> None:
        start_s = self.samples / self.sr
        self.samples += block.size
        self.clipped += int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL))
        silent = block.size > 0 and float(np.max(np.abs(block))) < SILENCE_PEAK
        if silent and self._silent_since is None:
            self._silent_since = start_s
        elif not silent and self._silent_since is not None:
            self._end_silence(start_s)

    def _end_silence(self, end_s: float) -> None:
        since = self._silent_since
        if since is not None and end_s - since >= SILENCE_WARNING_S:
            self.silences.append((round(since, 1), round(end_s, 1)))
        self._silent_since = None

    def warnings(self) -> list[str]:
        """Readable warnings for the report (empty when the input looked fine)."""
        if self._silent_since is not None:
            self._end_silence(self.samples / self.sr)
        found = []
        if self.samples and self.clipped / self.samples > CLIPPED_SHARE_WARNING:
            found.append(
                f"{self.clipped / self.samples:.2%} of samples are clipped "
                f"(|x| >= {CLIP_LEVEL}); lower the input gain"
            )
        for start, end in self.silences:
            found.append(
                f"digital silence from {start:.0f} s to {end:.0f} s; check the microphone and its cable"
            )
        return found
