"""From per-window probabilities to events: individual coughs and snore episodes.

Windows (``window_s`` long, every ``hop_s``) whose probability for a label is
at or above that label's threshold are *active*. Active windows of one label
whose starts are at most ``hop_s + merge_gap_s`` apart form a *region*, from the
first window's start to the last window's end.

- Coughs are counted one by one inside a cough region, on the frame level in the
  cough band (:data:`sensing.audio.features.ONSET_BAND_HZ`), with hysteresis
  around the region's background level (a low percentile of its frames): a cough
  starts where the level rises ``cough_rise_db`` above the background, or as far
  above its lowest point since the last rise when coughs follow each other before
  the level has fallen back (a bout in a reverberant room), and lasts until it
  falls back below ``cough_release_db`` above the background. A rise less than
  ``cough_separation_s`` after the previous cough's start (a cough's voiced tail
  after its burst) belongs to that cough. So a bout of three coughs counts three,
  and the room's noise, which never rises that far above itself, counts none. A
  region without such a rise has no cough shape and is dropped. A cough region
  is counted and closed once it spans ``cough_region_max_s`` (a bout longer
  than that goes on in a new region), so counting needs bounded memory, as on
  a microcontroller, whose event logic (``sensing export firmware``) is the same.
- Snores form episodes: snore regions at most ``snore_episode_gap_s`` apart
  join one episode, and an episode needs ``snore_min_regions`` regions and
  ``snore_min_episode_s`` seconds, so one stray snore-like sound is no episode.

:class:`EventTracker` takes windows one at a time and hands back each event as
soon as it is final, so a live run can append it to a file at once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sensing.errors import SensingError

COUGH = "cough"
SNORE = "snore"


UNCALIBRATED_THRESHOLD = 0.5
"""Window threshold for a target label that the model has no calibrated threshold for."""


def event_thresholds(labels: list[str] | tuple[str, ...], calibrated: dict[str, float]) -> dict[str, float]:
    """The window thresholds of the event labels (cough, snore) among a model's ``labels``:
    the model's ``calibrated`` ones, :data:`UNCALIBRATED_THRESHOLD` where it has none."""
    return {
        label: calibrated.get(label, UNCALIBRATED_THRESHOLD) for label in labels if label in (COUGH, SNORE)
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class EventSettings:
    """Rules that turn window probabilities into events (times in seconds, levels in dB).

    Attributes:
        thresholds: per label, the window probability at or above which a window is active.
        merge_gap_s: active windows of one label closer than this (beyond the
            window hop) belong to one region.
        cough_rise_db: a cough starts where the frame level rises this far above the
            region's background level.
        cough_release_db: a cough ends where the level falls back below this far
            above the background (below ``cough_rise_db``: the hysteresis).
        cough_separation_s: shortest time between the starts of two counted coughs;
            a rise sooner than this continues the cough before it.
        cough_region_max_s: longest cough region; a window that would stretch a
            region beyond this starts a new one (the old one is counted).
        snore_episode_gap_s: snore regions closer than this join one episode.
        snore_min_regions: fewest snore regions in an episode.
        snore_min_episode_s: shortest episode.
    """

    thresholds: dict[str, float]
    merge_gap_s: float = 0.5
    cough_rise_db: float = 8.0
    cough_release_db: float = 4.0
    cough_separation_s: float = 0.3
    cough_region_max_s: float = 10.0
    snore_episode_gap_s: float = 20.0
    snore_min_regions: int = 3
    snore_min_episode_s: float = 8.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Event:
    """A detected event: one cough, or one snore episode. Times in seconds."""

    label: str
    start_s: float
    end_s: float
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "score": round(self.score, 4),
        }


@dataclasses.dataclass
class _Region:
    """An open run of active windows of one label (times in seconds).

    Only cough regions keep their frame levels (``frame_times_s`` and
    ``frame_db``, one (frames,) array per window), to count coughs when the
    region closes; a cough region lasts seconds, so this stays small.
    """

    start_s: float
    last_start_s: float
    score: float
    frame_times_s: list[np.ndarray]
    frame_db: list[np.ndarray]
    counted_until_s: float = -np.inf
    previous_cough_s: float = -np.inf


@dataclasses.dataclass(frozen=True)
class _CoughCarry:
    """What a cough region cut at ``cough_region_max_s`` hands to the region that goes on:
    its frames are counted up to ``counted_until_s`` (the next region starts there), and its
    last cough started at ``previous_cough_s`` (a rise sooner after it continues that cough)."""

    counted_until_s: float
    previous_cough_s: float


@dataclasses.dataclass(frozen=True)
class _SnoreRegion:
    start_s: float
    end_s: float
    score: float


FRAME_GRID_TOLERANCE_S = 1e-6
"""Frame times lie on a grid (every 10 ms); two of them this close are the same moment, so a
rise exactly ``cough_separation_s`` after a cough is a new cough whatever the float rounding."""

BACKGROUND_PERCENTILE = 25.0
"""Percentile of a cough region's frame levels taken as its background: a bout leaves
quiet gaps between its coughs, so a quarter of the frames or more are background."""


def count_coughs(
    times_s: np.ndarray,
    level_db: np.ndarray,
    *,
    rise_db: float,
    release_db: float,
    separation_s: float,
    frame_s: float,
    previous_cough_s: float = -np.inf,
) -> list[tuple[float, float]]:
    """The (start_s, end_s) of each cough in a frame-level trace; see the module docstring.

    Args:
        times_s: (frames,) increasing frame start times in seconds.
        level_db: (frames,) frame levels in dBFS.
        rise_db: a cough starts at this many dB above the background.
        release_db: a cough ends below this many dB above the background.
        separation_s: a rise sooner than this after a cough's start continues it.
        frame_s: the length of a frame in seconds (a cough ends where its last loud frame does).
        previous_cough_s: start of the last cough counted before this trace, when it goes on
            from a region cut at ``cough_region_max_s``.
    """
    if level_db.size == 0:
        return []
    background_db = float(np.percentile(level_db, BACKGROUND_PERCENTILE))
    coughs: list[tuple[float, float]] = []
    loud = False
    dip_db = np.inf  # the lowest level since the last rise, while loud
    last_start_s = previous_cough_s
    for time_s, level in zip(times_s.tolist(), level_db.tolist()):
        rises = False
        if loud and level < background_db + release_db:
            loud = False
        elif loud and level >= dip_db + rise_db:  # rises again before falling back
            rises, dip_db = True, level
        elif not loud and level >= background_db + rise_db:
            rises, loud, dip_db = True, True, level
        if rises and time_s - last_start_s >= separation_s - FRAME_GRID_TOLERANCE_S:
            coughs.append((time_s, time_s + frame_s))
            last_start_s = time_s
        if loud:
            dip_db = min(dip_db, level)
            if coughs:
                coughs[-1] = (coughs[-1][0], time_s + frame_s)
    return coughs


class EventTracker:
    """Feeds on windows in time order; returns events as they become final.

    Args:
        settings: the event rules.
        window_s: model window length in seconds.
        hop_s: time between window starts in seconds.
        frame_hop_s: time between frames in seconds.
        frame_s: length of one frame in seconds.
    """

    def __init__(
        self, settings: EventSettings, *, window_s: float, hop_s: float, frame_hop_s: float, frame_s: float
    ) -> None:
        self.settings = settings
        self.window_s = window_s
        self.hop_s = hop_s
        self.frame_hop_s = frame_hop_s
        self.frame_s = frame_s
        unknown = set(settings.thresholds) - {COUGH, SNORE}
        if unknown:
            raise SensingError(f"events are defined for {COUGH} and {SNORE}, not {sorted(unknown)}")
        self._regions: dict[str, _Region | None] = {label: None for label in settings.thresholds}
        self._episode: list[_SnoreRegion] = []
        self._cough_carry: _CoughCarry | None = None

    def update(self, start_s: float, probabilities: dict[str, float], frame_db: np.ndarray) -> list[Event]:
        """Take one window and return the events it made final.

        Args:
            start_s: the window's start in seconds; windows come in time order.
            probabilities: per label, the window's probability.
            frame_db: (window frames,) frame levels in dBFS.
        """
        closed: list[Event] = []
        for label, region in self._regions.items():
            if region is None:
                continue
            if start_s - region.last_start_s > self.hop_s + self.settings.merge_gap_s:
                closed += self._close(label)
            elif self._too_long(label, region, start_s, probabilities):
                closed += self._close(label, cut=True)
        closed += self._close_episode_if_over(start_s)
        frame_times = start_s + np.arange(frame_db.size) * self.frame_hop_s
        for label, threshold in self.settings.thresholds.items():
            if probabilities[label] < threshold:
                continue
            region = self._regions[label]
            if region is None:
                region = self._regions[label] = _Region(start_s, start_s, 0.0, [], [])
                if label == COUGH and self._cough_carry is not None:
                    region.counted_until_s = self._cough_carry.counted_until_s
                    region.previous_cough_s = self._cough_carry.previous_cough_s
                    self._cough_carry = None
            region.last_start_s = start_s
            region.score = max(region.score, probabilities[label])
            if label == COUGH:
                region.frame_times_s.append(frame_times)
                region.frame_db.append(frame_db)
        return closed

    def _too_long(self, label: str, region: _Region, start_s: float, probabilities: dict[str, float]) -> bool:
        """Whether the window at ``start_s`` joins the cough ``region`` and would stretch it
        beyond ``cough_region_max_s``."""
        return (
            label == COUGH
            and probabilities[label] >= self.settings.thresholds[label]
            and start_s + self.window_s - region.start_s
            > self.settings.cough_region_max_s + FRAME_GRID_TOLERANCE_S
        )

    def finish(self) -> list[Event]:
        """Close everything still open at the end of the stream."""
        closed: list[Event] = []
        for label, region in self._regions.items():
            if region is not None:
                closed += self._close(label)
        return closed + self._close_episode()

    def _close(self, label: str, *, cut: bool = False) -> list[Event]:
        """Close ``label``'s region; ``cut``: a cough region cut at ``cough_region_max_s``,
        which the next window's region goes on from."""
        region = self._regions[label]
        assert region is not None, f"no open {label} region to close"
        self._regions[label] = None
        if label == COUGH:
            coughs = self._coughs(region)
            self._cough_carry = None
            if cut:
                last_frame_s = max(float(times[-1]) for times in region.frame_times_s)
                previous = coughs[-1].start_s if coughs else region.previous_cough_s
                self._cough_carry = _CoughCarry(last_frame_s + self.frame_hop_s / 2, previous)
            return coughs
        self._episode.append(_SnoreRegion(region.start_s, region.last_start_s + self.window_s, region.score))
        return []

    def _coughs(self, region: _Region) -> list[Event]:
        times = np.concatenate(region.frame_times_s)
        levels = np.concatenate(region.frame_db)
        order = np.argsort(times, kind="stable")
        times, levels = times[order], levels[order]
        unique = np.r_[True, np.diff(times) > self.frame_hop_s / 2]  # windows overlap
        unique &= times > region.counted_until_s  # frames a cut region before it counted
        coughs = count_coughs(
            times[unique],
            levels[unique],
            rise_db=self.settings.cough_rise_db,
            release_db=self.settings.cough_release_db,
            separation_s=self.settings.cough_separation_s,
            frame_s=self.frame_s,
            previous_cough_s=region.previous_cough_s,
        )
        return [Event(COUGH, start, end, region.score) for start, end in coughs]

    def _close_episode_if_over(self, now_s: float) -> list[Event]:
        """Close the snore episode when no snore region is open and the gap is too long."""
        if (
            self._episode
            and self._regions.get(SNORE) is None
            and now_s - self._episode[-1].end_s > self.settings.snore_episode_gap_s
        ):
            return self._close_episode()
        return []

    def _close_episode(self) -> list[Event]:
        regions, self._episode = self._episode, []
        if len(regions) < self.settings.snore_min_regions:
            return []
        start, end = regions[0].start_s, regions[-1].end_s
        if end - start < self.settings.snore_min_episode_s:
            return []
        return [Event(SNORE, start, end, max(r.score for r in regions))]
