"""Streaming detection over a night: audio blocks in, events and a report out.

:func:`run_detection` pulls mono float32 blocks at the model's sample rate
from any iterator (a file reader, a microphone), runs every window through
the model (:class:`NightDetector`), appends each final event to ``events.csv``
at once (synced, so a power cut loses at most the current window; a full disk
leaves the rows written so far), and writes ``report.json`` and ``report.png``
whole at the end (:mod:`sensing.files`), also when stopped by Ctrl-C or
SIGTERM. Memory does not grow with the length of the night.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.events import COUGH, SNORE, Event, EventSettings, EventTracker, event_thresholds
from sensing.audio.input_checks import InputMonitor
from sensing.audio.streaming import StreamingWindows
from sensing.errors import AudioError, SensingError
from sensing.files import clear_outputs, make_folder, write_atomically, write_error
from sensing.wording import duration, plural

TIMELINE_BIN_S = 10.0
"""Resolution of the probability timeline kept for the report plot, in seconds."""

EVENTS_HEADER = ("label", "start_s", "end_s", "score")

DETECTION_OUTPUTS = ("events.csv", "report.json", "report.png")
"""The files :func:`run_detection` writes into its folder."""


class EventLog:
    """``events.csv``, one row per event, each pushed to the disk at once.

    Each row goes out in one write and is synced, so a power cut or ``kill -9`` leaves
    every row written so far. A failed write (a full disk) cuts the file back to its
    last complete row and raises :class:`~sensing.files.WriteError`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._complete_bytes = 0
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as error:
            raise write_error(path, error) from None
        self._append_row(EVENTS_HEADER)

    def append(self, event: Event) -> None:
        """Write one event row and push it to the disk."""
        row = event.to_dict()
        self._append_row(tuple(row[name] for name in EVENTS_HEADER))

    def _append_row(self, values: tuple[Any, ...]) -> None:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerow(values)
        data = text.getvalue().encode()
        remaining = memoryview(data)
        try:
            while remaining:
                remaining = remaining[os.write(self._fd, remaining) :]
            os.fsync(self._fd)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._complete_bytes)
            raise write_error(self.path, error) from None
        self._complete_bytes += len(data)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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


def default_event_settings(
    classifier: AudioClassifier, overrides: dict[str, float] | None = None
) -> EventSettings:
    """Event rules for the model's cough and snore labels.

    Thresholds are the model's calibrated ones (``UNCALIBRATED_THRESHOLD`` for a
    label without one), with ``overrides`` (label to probability) applied.
    """
    thresholds = event_thresholds(classifier.labels, classifier.metadata.thresholds)
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
        frame_s=settings.n_fft / settings.sr,
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


WindowListener = Callable[[float, dict[str, float], np.ndarray], None]
"""Hears each window as the model scored it: (start_s, probability per label, frame levels in dBFS)."""


class NightDetector:
    """Audio blocks in, final events out: the model's windows, the event rules, and what the
    report keeps besides the events (the probability timeline, the input's health).
    ``on_window`` (optional) hears every window the event rules see, so that the rules can be
    replayed later with other settings."""

    def __init__(
        self,
        classifier: AudioClassifier,
        event_settings: EventSettings,
        on_window: WindowListener | None = None,
    ) -> None:
        settings = classifier.metadata.features
        self.classifier = classifier
        self.windows = StreamingWindows(settings, classifier.frontend)
        self.tracker = tracker_for(classifier, event_settings)
        self.timeline = Timeline(classifier.labels)
        self.monitor = InputMonitor(sr=settings.sr)
        self.events: list[Event] = []
        self.on_window = on_window

    def push(self, block: np.ndarray) -> list[Event]:
        """Take one mono float32 block at the model's rate; returns the events it made final."""
        self.monitor.check(block)
        final = []
        for window in self.windows.push(block):
            probabilities = self.classifier.predict_window(window.features)
            self.timeline.add(window.start_s, probabilities)
            scores = dict(zip(self.classifier.labels, probabilities.tolist()))
            if self.on_window is not None:
                self.on_window(window.start_s, scores, window.frame_db)
            final += self.tracker.update(window.start_s, scores, window.frame_db)
        self.events += final
        return final

    def finish(self) -> list[Event]:
        """The events still open at the end of the audio."""
        final = self.tracker.finish()
        self.events += final
        return final

    @property
    def coughs(self) -> int:
        return sum(event.label == COUGH for event in self.events)


def _consume(
    blocks: Iterable[np.ndarray],
    detector: NightDetector,
    log: EventLog,
    *,
    progress_every_s: float | None,
    stop_requested: Callable[[], bool] | None,
    on_event: Callable[[Event], None] | None,
) -> str | None:
    """Run every block through ``detector``, appending each final event to ``log``.

    Returns how the run ended early (``"stopped"``, ``"interrupted"``, ``"error: ..."``
    for audio that cannot be read on), or None at the end of the audio. A
    :class:`~sensing.files.WriteError` is not caught: the run cannot go on.
    """
    stopped_by = None
    next_progress = progress_every_s
    try:
        for block in blocks:
            if stop_requested is not None and stop_requested():
                stopped_by = "stopped"
                break
            for event in detector.push(block):
                log.append(event)
                if on_event is not None:
                    on_event(event)
            seconds = detector.windows.seconds_pushed
            if next_progress is not None and progress_every_s is not None and seconds >= next_progress:
                print(
                    f"processed {duration(seconds)} of audio; {plural(detector.coughs, 'cough')} so far",
                    file=sys.stderr,
                )
                next_progress += progress_every_s
    except KeyboardInterrupt:
        stopped_by = "interrupted"
    except AudioError as error:
        stopped_by = f"error: {error}"
        print(f"error: {error}; writing the report for the audio before it", file=sys.stderr)
    for event in detector.finish():
        log.append(event)
        if on_event is not None:
            on_event(event)
    return stopped_by


def run_detection(
    blocks: Iterable[np.ndarray],
    *,
    classifier: AudioClassifier,
    out_dir: str | Path,
    event_settings: EventSettings,
    source: dict[str, Any],
    input_warnings: Sequence[str] = (),
    start_time: datetime.datetime | None = None,
    progress_every_s: float | None = None,
    stop_requested: Callable[[], bool] | None = None,
    on_event: Callable[[Event], None] | None = None,
    on_window: WindowListener | None = None,
) -> dict[str, Any]:
    """Detect events in a stream of audio blocks and write the night's outputs.

    An earlier run's outputs in ``out_dir`` are removed first, so the folder never
    mixes two runs; the caller holds the folder's lock
    (:func:`sensing.files.locked_output_folder`). ``events.csv`` grows as events
    become final; ``report.json`` and ``report.png`` are written whole at the end.

    Args:
        blocks: mono float32 arrays at ``classifier.metadata.features.sr`` Hz.
        classifier: the model.
        out_dir: folder for :data:`DETECTION_OUTPUTS`.
        event_settings: thresholds and event rules.
        source: what the audio came from (written into the report).
        input_warnings: what was found wrong with the input before the run (a file cut
            short); reported first in the report's ``input_warnings``.
        start_time: the clock time the audio started, when known (the plot's axis).
        progress_every_s: print a progress line to stderr every this many
            seconds of audio (None: quiet).
        stop_requested: checked between blocks; True ends the run in order
            (a signal handler sets it). Ctrl-C raised as KeyboardInterrupt and
            an unreadable block also end the run with the report written.
        on_event: called with each event as soon as it is final (after its row is written).
        on_window: called with each window the event rules see (:data:`WindowListener`).

    Returns:
        The report written to ``report.json``, plus ``plot``: the path of
        ``report.png``, or None without matplotlib.

    Raises:
        WriteError: an output cannot be written (``events.csv`` keeps its complete rows).
    """
    out_dir = make_folder(out_dir)
    clear_outputs(out_dir, DETECTION_OUTPUTS)
    detector = NightDetector(classifier, event_settings, on_window)
    started = time.monotonic()
    with EventLog(out_dir / "events.csv") as log:
        stopped_by = _consume(
            blocks,
            detector,
            log,
            progress_every_s=progress_every_s,
            stop_requested=stop_requested,
            on_event=on_event,
        )
    elapsed = time.monotonic() - started
    seconds = detector.windows.seconds_pushed
    report = summarise(detector.events, duration_s=seconds)
    report.update(
        {
            "start_time": None if start_time is None else start_time.isoformat(timespec="seconds"),
            "stopped_by": stopped_by,
            "processing_s": round(elapsed, 2),
            "real_time_factor": round(seconds / elapsed, 1) if elapsed > 0 and seconds > 0 else None,
            "source": source,
            "input_warnings": [*input_warnings, *detector.monitor.warnings()],
            "model": {
                "path": str(classifier.model_path),
                "backend": classifier.backend,
                "labels": list(classifier.labels),
            },
            "feature_settings": classifier.metadata.features.to_dict(),
            "event_settings": event_settings.to_dict(),
        }
    )
    write_atomically(out_dir / "report.json", json.dumps(report, indent=2) + "\n")
    from sensing.audio.report_plot import plot_night

    report["plot"] = plot_night(
        report, detector.timeline.array(), classifier.labels, out_dir / "report.png", bin_s=TIMELINE_BIN_S
    )
    return report
