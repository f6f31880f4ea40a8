"""``sensing sleep``: a radar night through the sleep classifier to epochs, a summary and a hypnogram.

The chain: find the sleeper's range (:func:`~sensing.radar.sleep.input.sleeper_centre`,
unless given), stream the recording into one tensor per 30 s epoch, classify
each epoch, smooth the night with the model's HMM, estimate the breathing rate
in each epoch at the sleeper's range (:func:`breathing_bins`), and summarise
(:func:`~sensing.radar.sleep.summary.summarise_night`).

Outputs (:func:`write_sleep_outputs`):

- ``epochs.csv``: ``start_s,label,p_absent,p_awake,p_asleep``, one row per
  whole 30 s epoch; ``label`` is the smoothed label, the probabilities are the
  classifier's own;
- ``report.json``: the sleep summary, the sleeper's range and how it was
  found, the model and its runtime, and the processing time;
- ``hypnogram.png``: the smoothed labels over the classifier's probabilities,
  the night's answer in its title.

Each is written atomically (:mod:`sensing.files`): a failed run leaves no part of a file.

:class:`SleepStream` does the same epoch by epoch for frames that arrive
live; :func:`score_recording` uses it on a file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import SensingError
from sensing.files import WriteError, make_folder, write_atomically
from sensing.progress import Progress
from sensing.radar.breathing import breathing_per_epoch
from sensing.radar.processing import CHUNK_S, TensorStream, check_duration
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S, RadarConfig, Recording
from sensing.radar.sleep.input import (
    SLEEPER_HALF_WIDTH_M,
    SleeperRange,
    model_input,
    sleeper_centre,
)
from sensing.radar.sleep.model import SleepClassifier
from sensing.radar.sleep.smoothing import smooth_epochs
from sensing.radar.sleep.summary import SleepSummary, headline, summarise_night

EPOCH_COLUMNS = ("start_s", "label", *(f"p_{label}" for label in EPOCH_LABELS))
"""Columns of ``epochs.csv``."""
SLEEP_OUTPUTS = ("epochs.csv", "report.json", "hypnogram.png")
"""The files :func:`write_sleep_outputs` writes (an earlier run's are cleared with
:func:`sensing.files.clear_outputs` before a new run)."""


class SleepStream:
    """Per-epoch probabilities from radar frames arriving chunk by chunk.

    >>> stream = SleepStream(classifier, config, n_bins=100, centre_m=0.9)
    >>> for frames in chunks: stream.feed(frames)     # (frames, rx, bins) complex
    >>> probabilities = stream.finish()               # (epochs, 3)

    An epoch's probabilities are known about 63 s after it ends (the tensor's
    context); :attr:`probabilities` holds those known so far.
    """

    def __init__(
        self,
        classifier: SleepClassifier,
        config: RadarConfig,
        *,
        n_bins: int,
        centre_m: float,
        source: str = "radar",
    ) -> None:
        self.classifier = classifier
        self._tensors = TensorStream(
            config, classifier.features, n_bins=n_bins, centre_m=centre_m, source=source
        )
        self.probabilities: list[np.ndarray] = []
        self.frames_fed = 0

    def _classify(self, ready: list[tuple[int, np.ndarray]]) -> None:
        settings = self.classifier.features
        for _, tensor in ready:
            self.probabilities.append(self.classifier.predict(model_input(tensor, settings)))

    def feed(self, frames: np.ndarray) -> None:
        """Process (frames, rx, bins) raw frames."""
        self.frames_fed += len(frames)
        self._classify(self._tensors.feed(frames))

    def finish(self) -> np.ndarray:
        """(epochs, 3) float32 probabilities of every whole epoch fed."""
        self._classify(self._tensors.finish())
        return np.array(self.probabilities, dtype=np.float32).reshape(-1, len(EPOCH_LABELS))


@dataclasses.dataclass
class NightScore:
    """A scored night.

    Attributes:
        probabilities: (epochs, 3) classifier outputs in the order of EPOCH_LABELS.
        labels: (epochs,) smoothed labels.
        breathing_rate_bpm: (epochs,) confident breathing rate per epoch, None elsewhere.
        summary: the sleep summary.
        sleeper: the range the night was scored at and how it was found (None when given).
        centre_m: that range, m.
        processing_s: wall-clock seconds.
    """

    probabilities: np.ndarray
    labels: list[str]
    breathing_rate_bpm: list[float | None]
    summary: SleepSummary
    sleeper: SleeperRange | None
    centre_m: float
    processing_s: float


def summarise_scores(
    probabilities: np.ndarray, classifier: SleepClassifier, breathing_rate_bpm: list[float | None] | None
) -> tuple[list[str], SleepSummary]:
    """Smoothed labels and the sleep summary of a night's probabilities."""
    if len(probabilities) == 0:
        raise SensingError("no whole 30 s epoch to score")
    labels = smooth_epochs(probabilities, classifier.metadata.smoothing)
    return labels, summarise_night(labels, breathing_rate_per_epoch=breathing_rate_bpm)


def breathing_bins(recording: Recording, sleeper: SleeperRange | None, centre_m: float) -> list[int]:
    """The range bins the breathing rate is read from: the calibrated body, else the sleeper band.

    The sleeper band is ``centre_m +- SLEEPER_HALF_WIDTH_M``; a radar too coarse to
    have a bin there gets its nearest bin.
    """
    if sleeper is not None and sleeper.calibration.found:
        return list(sleeper.calibration.bins)
    ranges = recording.config.range_m(recording.n_bins)
    inside = np.flatnonzero(np.abs(ranges - centre_m) <= SLEEPER_HALF_WIDTH_M)
    return inside.tolist() if inside.size else [int(np.argmin(np.abs(ranges - centre_m)))]


def score_recording(
    path: str | Path, classifier: SleepClassifier, *, centre_m: float | None = None, progress: bool = True
) -> NightScore:
    """Score a whole recording (see the module docstring), reading it in chunks.

    Args:
        path: a ``.npz`` recording.
        classifier: the sleep model.
        centre_m: the sleeper's range, m; None finds it by calibration.
        progress: print progress lines to stderr.

    Raises:
        RadarError: a malformed recording, one shorter than one epoch, or a
            range outside it.
    """
    started = time.monotonic()
    settings = classifier.features
    with Recording(path) as recording:
        check_duration(recording, settings)
        sleeper = None if centre_m is not None else sleeper_centre(recording, settings)
        centre = centre_m if sleeper is None else sleeper.centre_m
        assert centre is not None  # given, or found by sleeper_centre
        if sleeper is not None and progress:
            print(
                f"sleeper's range: {centre:.2f} m ({sleeper.how}: {sleeper.calibration.reason})",
                file=sys.stderr,
            )
        stream = SleepStream(
            classifier, recording.config, n_bins=recording.n_bins, centre_m=centre, source=str(recording.path)
        )
        n_epochs = math.floor(recording.duration_s / EPOCH_S + 1e-9)
        meter = Progress("sleep epochs", n_epochs) if progress else None
        for _, frames in recording.chunks(max(1, round(CHUNK_S * recording.config.frame_rate_hz))):
            known = len(stream.probabilities)
            stream.feed(frames)
            if meter is not None and len(stream.probabilities) > known:
                meter.advance(len(stream.probabilities) - known)
        probabilities = stream.finish()
        estimates = breathing_per_epoch(recording, bins=breathing_bins(recording, sleeper, centre))
    if meter is not None:
        meter.advance(len(probabilities) - meter.done)
        meter.finish()
    rates = [float(e.rate_per_min) if e.confident else None for e in estimates]
    labels, summary = summarise_scores(probabilities, classifier, rates)
    return NightScore(
        probabilities=probabilities,
        labels=labels,
        breathing_rate_bpm=rates,
        summary=summary,
        sleeper=sleeper,
        centre_m=float(centre),
        processing_s=time.monotonic() - started,
    )


def write_epochs_csv(path: Path, labels: list[str], probabilities: np.ndarray) -> Path:
    """``epochs.csv`` with the columns of :data:`EPOCH_COLUMNS`, written atomically."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(EPOCH_COLUMNS)
    for index, (label, row) in enumerate(zip(labels, probabilities)):
        writer.writerow([f"{index * EPOCH_S:g}", label, *(f"{value:.4f}" for value in row)])
    return write_atomically(path, text.getvalue())


def sleep_report(
    score: NightScore, classifier: SleepClassifier, *, source: str, start: datetime.datetime | None = None
) -> dict[str, Any]:
    """The JSON-ready report of a scored night (``start_time``: ISO 8601 or None)."""
    sleeper = score.sleeper
    return {
        "recording": source,
        "start_time": None if start is None else start.isoformat(),
        "summary": score.summary.to_dict(),
        "sleeper_range_m": round(score.centre_m, 3),
        "sleeper_range_found_by": "given" if sleeper is None else sleeper.how,
        "calibration": None if sleeper is None else sleeper.calibration.reason,
        "labels_count": {label: score.labels.count(label) for label in EPOCH_LABELS},
        "model": {"path": str(classifier.model_path), "backend": classifier.backend},
        "processing_s": round(score.processing_s, 2),
    }


def write_sleep_outputs(
    score: NightScore,
    classifier: SleepClassifier,
    out_dir: str | Path,
    *,
    source: str,
    start: datetime.datetime | None = None,
) -> dict[str, Any]:
    """Write :data:`SLEEP_OUTPUTS` into ``out_dir``; returns the report.

    ``start``: the clock time of the recording's start (the hypnogram's axis), or None.

    Raises:
        WriteError: a file cannot be written (a full disk); no part of it is left.
    """
    out_dir = make_folder(out_dir)
    write_epochs_csv(out_dir / "epochs.csv", score.labels, score.probabilities)
    report = sleep_report(score, classifier, source=source, start=start)
    try:
        from sensing.radar.sleep.hypnogram import plot_hypnogram

        plot_hypnogram(
            score.labels,
            out_dir / "hypnogram.png",
            probabilities=score.probabilities,
            title=headline(score.summary),
            start=start,
        )
        report["plot"] = str(out_dir / "hypnogram.png")
    except WriteError:
        raise
    except SensingError as error:  # matplotlib is not installed: the numbers are written without it
        report["plot"] = None
        print(f"note: no hypnogram ({error})", file=sys.stderr)
    write_atomically(out_dir / "report.json", json.dumps(report, indent=2) + "\n")
    return report
