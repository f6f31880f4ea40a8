"""Streaming detection over a night: audio blocks in, events and a report out.

:func:`run_detection` pulls mono float32 blocks at the model's sample rate
from any iterator (a file reader, a microphone), runs every window through
the model, appends each final event to ``events.csv`` at once (flushed and
synced, so a power cut loses at most the current window), and writes
``report.json`` and ``report.png`` at the end, also when stopped by Ctrl-C or
SIGTERM. Memory does not grow with the length of the night.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.events import COUGH, SNORE, Event, EventSettings, EventTracker
from sensing.audio.input_checks import InputMonitor
from sensing.audio.streaming import StreamingWindows
from sensing.errors import SensingError

TIMELINE_BIN_S = 10.0
"""Resolution of the probability timeline kept for the report plot, in seconds."""

EVENTS_HEADER = ("label", "start_s", "end_s", "score")


class EventLog:
    """``events.csv``, appended one row per event and synced to disk at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = open(path, "w", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(EVENTS_HEADER)
        self._sync()

    def append(self, event: Event) -> None:
        """Write one event row and push it to the disk."""
        row = event.to_dict()
        self._writer.writerow([row[name] for name in EVENTS_HEADER])
        self._sync()

    def _sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()


class Timeline:
    """Highest probability of each label per ``TIMELINE_BIN_S`` bin: (bins, labels)."""

    def __init__(self, labels: tuple[str, ...]) -> None:
        self.labels = labels
        self._bins: list[np.ndarray] = []

    def add(self, start_s: float, probabilities: np.ndarray) -> None:
        """Fold in one window: its start (s) and its (labels,) probabilities."""
        index = int(start_s // TIMELINE_BIN_S)
        while len(self._bins) <= index:
            self._bins.append(np.zeros(len(self.labels), dtype=np.float32))
        np.maximum(self._bins[index], probabilities, out=self._bins[index])

    def array(self) -> np.ndarray:
        return np.array(self._bins).reshape(-1, len(self.labels))


UNCALIBRATED_THRESHOLD = 0.5
"""Window threshold for a target label that the model has no calibrated threshold for."""


def default_event_settings(
    classifier: AudioClassifier, overrides: dict[str, float] | None = None
) -> EventSettings:
    """Event rules for the model's cough and snore labels.

    Thresholds are the model's calibrated ones (``UNCALIBRATED_THRESHOLD`` for a
    label without one), with ``overrides`` (label to probability) applied.
    """
    thresholds = {
        label: classifier.metadata.thresholds.get(label, UNCALIBRATED_THRESHOLD)
        for label in classifier.labels
        if label in (COUGH, SNORE)
    }
    if not thresholds:
        raise SensingError(
            f"{classifier.model_path}: labels {', '.join(classifier.labels)}; "
            f"night detection needs a '{COUGH}' or '{SNORE}' label"
        )
    for label, value in (overrides or {}).items():
        if label not in thresholds:
            raise SensingError(
                f"--threshold {label}: the model's target labels are {', '.join(sorted(thresholds))}"
            )
        if not 0 <= value <= 1:
            raise SensingError(f"--threshold {label}={value}: a probability is between 0 and 1")
        thresholds[label] = value
    return EventSettings(thresholds=thresholds)


def tracker_for(classifier: AudioClassifier, event_settings: EventSettings) -> EventTracker:
    """An event tracker timed to the model's windows and frames."""
    settings = classifier.metadata.features
    return EventTracker(
        event_settings,
        window_s=settings.window_s,
        hop_s=settings.window_hop_samples / settings.sr,
        frame_hop_s=settings.hop_length / settings.sr,
    )


def summarise(events: list[Event], *, duration_s: float) -> dict[str, Any]:
    """Night totals and per-hour figures from the final events."""
    coughs = [e for e in events if e.label == COUGH]
    snores = [e for e in events if e.label == SNORE]
    hours = max(1, int(np.ceil(duration_s / 3600)))
    per_hour = []
    for hour in range(hours):
        start, end = hour * 3600, (hour + 1) * 3600
        snore_s = sum(max(0.0, min(e.end_s, end) - max(e.start_s, start)) for e in snores)
        per_hour.append(
            {
                "hour": hour,
                "cough_count": sum(start <= e.start_s < end for e in coughs),
                "snore_minutes": round(snore_s / 60, 2),
            }
        )
    return {
        "duration_s": round(duration_s, 3),
        "cough_count": len(coughs),
        "snore_minutes": round(sum(e.end_s - e.start_s for e in snores) / 60, 2),
        "snore_episodes": len(snores),
        "per_hour": per_hour,
        "events": [e.to_dict() for e in sorted(events, key=lambda e: e.start_s)],
    }


def run_detection(
    blocks: Iterable[np.ndarray],
    *,
    classifier: AudioClassifier,
    out_dir: str | Path,
    event_settings: EventSettings,
    source: dict[str, Any],
    progress_every_s: float | None = None,
    stop_requested: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Detect events in a stream of audio blocks and write the night's outputs.

    Args:
        blocks: mono float32 arrays at ``classifier.metadata.features.sr`` Hz.
        classifier: the model.
        out_dir: folder for ``events.csv``, ``report.json``, ``report.png``.
        event_settings: thresholds and event rules.
        source: what the audio came from (written into the report).
        progress_every_s: print a progress line to stderr every this many
            seconds of audio (None: quiet).
        stop_requested: checked between blocks; True ends the run in order
            (a signal handler sets it). Ctrl-C raised as KeyboardInterrupt and
            an unreadable block also end the run with the report written.

    Returns:
        The report written to ``report.json``, plus ``plot``: the path of
        ``report.png``, or None without matplotlib.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = classifier.metadata.features
    windows = StreamingWindows(settings, classifier.frontend)
    tracker = tracker_for(classifier, event_settings)
    labels = classifier.labels
    timeline = Timeline(labels)
    monitor = InputMonitor(sr=settings.sr)
    log = EventLog(out_dir / "events.csv")
    events: list[Event] = []
    started = time.monotonic()
    next_progress = progress_every_s
    stopped_by = None
    try:
        for block in blocks:
            if stop_requested is not None and stop_requested():
                stopped_by = "stopped"
                break
            monitor.check(block)
            for window in windows.push(block):
                probabilities = classifier.predict_window(window.features)
                timeline.add(window.start_s, probabilities)
                for event in tracker.update(
                    window.start_s, dict(zip(labels, probabilities.tolist())), window.frame_db
                ):
                    events.append(event)
                    log.append(event)
            if (
                next_progress is not None
                and progress_every_s is not None
                and windows.seconds_pushed >= next_progress
            ):
                print(
                    f"processed {windows.seconds_pushed / 60:.1f} min of audio; "
                    f"{sum(e.label == COUGH for e in events)} coughs so far",
                    file=sys.stderr,
                )
                next_progress += progress_every_s
    except KeyboardInterrupt:
        stopped_by = "interrupted"
    except SensingError as error:
        stopped_by = f"error: {error}"
        print(f"error: {error}; writing the report for the audio before it", file=sys.stderr)
    finally:
        for event in tracker.finish():
            events.append(event)
            log.append(event)
        log.close()
    elapsed = time.monotonic() - started
    report = summarise(events, duration_s=windows.seconds_pushed)
    report.update(
        {
            "stopped_by": stopped_by,
            "processing_s": round(elapsed, 2),
            "real_time_factor": (
                round(windows.seconds_pushed / elapsed, 1)
                if elapsed > 0 and windows.seconds_pushed > 0
                else None
            ),
            "source": source,
            "input_warnings": monitor.warnings(),
            "model": {
                "path": str(classifier.model_path),
                "backend": classifier.backend,
                "labels": list(labels),
            },
            "feature_settings": settings.to_dict(),
            "event_settings": event_settings.to_dict(),
        }
    )
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    from sensing.audio.report_plot import plot_night

    report["plot"] = plot_night(
        report, timeline.array(), labels, out_dir / "report.png", bin_s=TIMELINE_BIN_S
    )
    return report
