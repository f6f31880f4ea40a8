"""``sensing night``: radar and audio of one night together, audio events gated by the sleep state.

As in Nest Hub's Sleep Sensing, coughs and snoring count only while the
radar says the sleeper is in bed (gate ``in-bed``: awake or asleep) or asleep
(gate ``asleep``); a partner's cough while the sleeper is out of the room,
or the television before bed, is left out. The outputs in OUT:

- ``sleep/``: the radar night (``epochs.csv``, ``report.json``, ``hypnogram.png``);
- ``audio/``: every audio event before gating (``events.csv``, ``report.json``, ``report.png``);
- ``events.csv``: the audio events with ``kept`` (1 or 0) and why dropped;
- ``report.json``: the sleep summary, the gate, and the combined figures
  (coughs, coughs per hour of sleep, snore minutes while asleep);
- ``night.png``: hypnogram, coughs and snore episodes on one timeline.

Two ways in: :func:`night_from_files` (a radar recording and an audio file
of the same night; ``offset_s`` when the audio started later) and
:func:`live_night` (audio blocks, from the microphone or any generator, and a
:class:`RadarSource` whose frames arrive in step with the audio;
:func:`live_night_from_microphone` sets it up for ``sensing night --mic``). Times
are seconds from the radar's start.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.detect import default_event_settings, run_detection
from sensing.audio.night import default_model_path, detect_night
from sensing.errors import SensingError
from sensing.folders import output_folder
from sensing.night.gating import (
    GATES,
    combined_summary,
    gate_events,
)
from sensing.night.plot import plot_combined_night
from sensing.radar.recording import EPOCH_S, RadarConfig, Recording
from sensing.radar.sleep.model import SleepClassifier
from sensing.radar.sleep.scoring import (
    NightScore,
    SleepStream,
    score_recording,
    summarise_scores,
    write_sleep_outputs,
)

EVENT_COLUMNS = ("label", "start_s", "end_s", "score", "kept", "dropped_because")
"""Columns of the combined ``events.csv`` (times in seconds of audio)."""


@dataclasses.dataclass
class RadarSource:
    """Radar frames as they arrive.

    Attributes:
        config: the radar's :class:`~sensing.radar.recording.RadarConfig`.
        n_bins: range bins per frame.
        chunks: (frames, rx, bins) complex arrays, in order.
        name: what the frames come from, for the report.
    """

    config: RadarConfig
    n_bins: int
    chunks: Iterator[np.ndarray]
    name: str

    def close(self) -> None:
        """Release the source (a generator's ``finally`` runs)."""
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def replay_radar(path: str | Path, *, chunk_s: float = 1.0) -> RadarSource:
    """A recording's frames as a :class:`RadarSource`, ``chunk_s`` seconds at a time.

    Stands in for a radar driver: a live loop pulls its frames in step with
    the audio, so with a microphone it plays back in real time. The file is
    opened again when the first frames are pulled and closed with the source.
    """
    with Recording(path) as recording:
        config, n_bins = recording.config, recording.n_bins
    frames_per_chunk = max(1, round(chunk_s * config.frame_rate_hz))

    def chunks() -> Iterator[np.ndarray]:
        with Recording(path) as recording:
            for _, frames in recording.chunks(frames_per_chunk):
                yield frames

    return RadarSource(config=config, n_bins=n_bins, chunks=chunks(), name=str(path))


def _check_gate(gate: str) -> tuple[str, ...]:
    if gate not in GATES:
        raise SensingError(f"unknown gate {gate!r}; choose one of {', '.join(GATES)}")
    return GATES[gate]


def _check_offset(offset_s: float) -> None:
    if not (isinstance(offset_s, (int, float)) and math.isfinite(offset_s)):
        raise SensingError(f"the audio offset must be a finite number of seconds, got {offset_s!r}")


def combine(
    score: NightScore,
    sleep_report: dict[str, Any],
    audio_report: dict[str, Any],
    out_dir: Path,
    *,
    gate: str,
    offset_s: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Gate the audio events by the sleep labels and write the combined outputs; returns the report.

    ``extra`` is added to the report as it is.
    """
    allowed = _check_gate(gate)
    kept, dropped = gate_events(audio_report["events"], score.labels, allowed=allowed, offset_s=offset_s)
    figures = combined_summary(
        kept, score.labels, offset_s=offset_s, audio_duration_s=audio_report["duration_s"]
    )
    with open(out_dir / "events.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EVENT_COLUMNS)
        rows = [(event, 1) for event in kept] + [(event, 0) for event in dropped]
        for event, is_kept in sorted(rows, key=lambda row: row[0]["start_s"]):
            writer.writerow(
                [
                    event["label"],
                    f"{event['start_s']:.3f}",
                    f"{event['end_s']:.3f}",
                    f"{event['score']:.4f}",
                    is_kept,
                    event.get("dropped_because", ""),
                ]
            )
    report = {
        "gate": gate,
        "allowed_states": list(allowed),
        "audio_offset_s": offset_s,
        "sleep": sleep_report["summary"],
        "combined": figures,
        "events_kept": len(kept),
        "events_dropped": len(dropped),
        "dropped_by_state": {
            reason: sum(e["dropped_because"] == reason for e in dropped)
            for reason in sorted({e["dropped_because"] for e in dropped})
        },
        "audio_before_gating": {
            "cough_count": audio_report["cough_count"],
            "snore_minutes": audio_report["snore_minutes"],
        },
        "audio_stopped_by": audio_report["stopped_by"],
        "radar": {key: sleep_report[key] for key in ("recording", "sleeper_range_m", "model")},
        "audio": {"source": audio_report["source"], "model": audio_report["model"]},
        **(extra or {}),
    }
    try:
        report["plot"] = str(
            plot_combined_night(
                score.labels,
                kept,
                dropped,
                out_dir / "night.png",
                offset_s=offset_s,
                title=f"night (gate: {gate})",
            )
        )
    except SensingError as error:
        report["plot"] = None
        print(f"note: no night picture ({error})", file=sys.stderr)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def night_from_files(
    audio_path: str | Path,
    radar_path: str | Path,
    *,
    out_dir: str | Path,
    audio_model: str | Path | None = None,
    sleep_model: str | Path | None = None,
    gate: str = "in-bed",
    offset_s: float = 0.0,
    threads: int | None = None,
    centre_m: float | None = None,
) -> dict[str, Any]:
    """Score the radar night, detect audio events, gate them; returns the combined report.

    Args:
        audio_path: the night's audio (any length, rate and channels).
        radar_path: the night's ``.npz`` radar recording.
        out_dir: the folder for the outputs (module docstring).
        audio_model, sleep_model: ``.tflite`` models (default: the bundled ones).
        gate: ``in-bed`` or ``asleep``.
        offset_s: seconds from the radar's start to the audio's start.
        threads: inference threads.
        centre_m: the sleeper's range in metres (default: calibration).
    """
    _check_gate(gate)
    _check_offset(offset_s)
    out_dir = output_folder(out_dir)
    classifier = SleepClassifier(sleep_model, num_threads=threads)
    score = score_recording(radar_path, classifier, centre_m=centre_m)
    sleep_report = write_sleep_outputs(score, classifier, out_dir / "sleep", source=str(radar_path))
    audio_report = detect_night(
        audio_path, out_dir=out_dir / "audio", model_path=audio_model, threads=threads
    )
    return combine(score, sleep_report, audio_report, out_dir, gate=gate, offset_s=offset_s)


class _InStep:
    """Passes audio blocks on, first feeding the radar frames of the same span to a :class:`SleepStream`.

    The audio stops when the radar ends (``radar_ended_s`` says when) or a
    radar error occurs (kept in ``error``, raised once the audio report is written).
    """

    def __init__(self, radar: RadarSource, stream: SleepStream, *, sr: int) -> None:
        self.radar, self.stream, self.sr = radar, stream, sr
        self.radar_ended_s: float | None = None
        self.error: SensingError | None = None

    def blocks(self, audio_blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        audio_s, radar_frames = 0.0, 0
        rate = self.radar.config.frame_rate_hz
        for block in audio_blocks:
            audio_s += len(block) / self.sr
            while radar_frames < audio_s * rate:
                frames = next(self.radar.chunks, None)
                if frames is None:
                    self.radar_ended_s = radar_frames / rate
                    return
                try:
                    self.stream.feed(frames)
                except SensingError as error:
                    self.error = error
                    return
                radar_frames += len(frames)
            yield block


def live_night(
    audio_blocks: Iterable[np.ndarray],
    radar: RadarSource,
    *,
    out_dir: str | Path,
    centre_m: float,
    audio_model: str | Path | None = None,
    sleep_model: str | Path | None = None,
    gate: str = "in-bed",
    source: dict[str, Any] | None = None,
    threads: int | None = None,
    stop_requested: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Run audio and radar together as they arrive; returns the combined report.

    Args:
        audio_blocks: mono float32 blocks at the audio model's rate (the
            microphone's, or generated ones).
        radar: radar frames arriving alongside; taken in step with the audio,
            and closed at the end.
        out_dir: the folder for the outputs.
        centre_m: the sleeper's range in metres (from ``sensing radar calibrate``
            on a setup recording).
        audio_model, sleep_model, gate, threads: as :func:`night_from_files`.
        source: what the audio comes from, for the report.
        stop_requested: checked between audio blocks; True ends the night in order.

    The night ends when the audio ends, the radar ends (the report's
    ``radar_ended_s``) or a stop is requested; the report is then written.
    Radar frames not yet reached when the audio ends are left unread, so the
    last two epochs are scored without their full 150 s of context.
    Breathing rates are not estimated live.

    Raises:
        SensingError: a model cannot be loaded, a radar frame is malformed (the
            audio report is written first), or the radar gave no whole epoch.
    """
    try:
        _check_gate(gate)
        out_dir = output_folder(out_dir)
        classifier = SleepClassifier(sleep_model, num_threads=threads)
        stream = SleepStream(
            classifier, radar.config, n_bins=radar.n_bins, centre_m=centre_m, source=radar.name
        )
        audio = AudioClassifier(audio_model or default_model_path(), num_threads=threads)
        in_step = _InStep(radar, stream, sr=audio.metadata.features.sr)
        audio_report = run_detection(
            in_step.blocks(audio_blocks),
            classifier=audio,
            out_dir=out_dir / "audio",
            event_settings=default_event_settings(audio, None),
            source=source or {"audio": "live"},
            stop_requested=stop_requested,
        )
    finally:
        radar.close()
    if in_step.error is not None:
        raise SensingError(f"{radar.name}: {in_step.error}; the audio report is in {out_dir / 'audio'}")
    probabilities = stream.finish()
    if len(probabilities) == 0:
        seconds = stream.frames_fed / radar.config.frame_rate_hz
        raise SensingError(
            f"{radar.name}: the radar gave {seconds:.1f} s, less than one whole {EPOCH_S:g} s "
            f"epoch; the audio report is in {out_dir / 'audio'}"
        )
    labels, summary = summarise_scores(probabilities, classifier, None)
    score = NightScore(
        probabilities=probabilities,
        labels=labels,
        breathing_rate_bpm=[None] * len(labels),
        summary=summary,
        sleeper=None,
        centre_m=centre_m,
        processing_s=audio_report["processing_s"],
    )
    sleep_report = write_sleep_outputs(score, classifier, out_dir / "sleep", source=radar.name)
    return combine(
        score,
        sleep_report,
        audio_report,
        out_dir,
        gate=gate,
        offset_s=0.0,
        extra={"radar_ended_s": in_step.radar_ended_s},
    )


def live_night_from_microphone(
    radar_path: str | Path,
    *,
    out_dir: str | Path,
    device: str | None = None,
    centre_m: float | None = None,
    audio_model: str | Path | None = None,
    sleep_model: str | Path | None = None,
    gate: str = "in-bed",
    threads: int | None = None,
) -> dict[str, Any]:
    """``sensing night --mic``: the microphone live, with the radar recording replayed in step.

    Captures ``device`` (default: the default input) at the audio model's rate
    until Ctrl-C or SIGTERM (or the radar ends), then writes the night as
    :func:`live_night`. With ``centre_m`` None the sleeper's range is found by
    calibration on the recording's first minutes (said on stderr).
    """
    from sensing.audio.microphone import microphone_blocks
    from sensing.audio.model_file import read_metadata
    from sensing.audio.night import StopOnSignal
    from sensing.radar.sleep.input import sleeper_centre
    from sensing.radar.sleep.model import default_sleep_model, read_sleep_metadata

    if centre_m is None:
        settings = read_sleep_metadata(sleep_model or default_sleep_model()).features
        with Recording(radar_path) as recording:
            sleeper = sleeper_centre(recording, settings)
        centre_m = sleeper.centre_m
        print(f"sleeper's range: {centre_m:.2f} m ({sleeper.how})", file=sys.stderr)
    sr = read_metadata(audio_model or default_model_path()).features.sr
    with StopOnSignal() as stop:
        return live_night(
            microphone_blocks(sr=sr, device=device),
            replay_radar(radar_path),
            out_dir=out_dir,
            centre_m=centre_m,
            audio_model=audio_model,
            sleep_model=sleep_model,
            gate=gate,
            source={"microphone": device or "default input"},
            threads=threads,
            stop_requested=lambda: stop.requested,
        )
