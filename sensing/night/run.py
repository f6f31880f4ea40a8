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

A run holds the folder's lock (:func:`sensing.files.locked_output_folder`), first
clears an earlier run's outputs, and writes every file atomically. When less
than 90% of the audio lies within the radar night the report's ``warnings``
say so (and stderr); audio that lies wholly outside it is refused.

Two ways in: :func:`night_from_files` (a radar recording and an audio file
of the same night, the radar as ``.npz`` or Acconeer ``.h5``; ``offset_s`` when
the audio started later) and
:func:`live_night` (audio blocks, from the microphone or any generator, and a
:class:`RadarSource` whose frames arrive in step with the audio;
:func:`live_night_from_microphone` sets it up for ``sensing night --mic``). Times
are seconds from the radar's start.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime
import io
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.detect import default_event_settings, run_detection
from sensing.audio.events import Event
from sensing.audio.model_file import read_metadata
from sensing.audio.night import SAVED_AUDIO, default_model_path, detect_night, saved_blocks
from sensing.audio.stream import open_audio_stream
from sensing.audio.wav_recorder import WavRecorder
from sensing.errors import SensingError
from sensing.files import WriteError, clear_outputs, locked_output_folder, make_folder, write_atomically
from sensing.night.gating import (
    GATES,
    audio_overlap_s,
    check_overlap,
    combined_summary,
    gate_events,
)
from sensing.night.plot import plot_combined_night
from sensing.night.report_text import GATE_WORDS, night_headline
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S, RadarConfig, Recording
from sensing.radar.sleep.model import SleepClassifier
from sensing.radar.sleep.scoring import (
    SLEEP_OUTPUTS,
    NightScore,
    SleepStream,
    score_recording,
    summarise_scores,
    write_sleep_outputs,
)
from sensing.radar.sources import as_recording

EVENT_COLUMNS = ("label", "start_s", "end_s", "score", "kept", "dropped_because")
"""Columns of the combined ``events.csv`` (times in seconds of audio)."""
NIGHT_OUTPUTS = ("events.csv", "report.json", "night.png")
"""The files :func:`combine` writes into the night's folder (beside ``sleep/`` and ``audio/``)."""


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


def replay_radar(path: str | Path, *, chunk_s: float = 1.0, name: str | None = None) -> RadarSource:
    """A recording's frames as a :class:`RadarSource`, ``chunk_s`` seconds at a time.

    Stands in for a radar driver: a live loop pulls its frames in step with
    the audio, so with a microphone it plays back in real time. The file is
    opened again when the first frames are pulled and closed with the source.
    ``name`` names it in the report (default: ``path``).
    """
    with Recording(path) as recording:
        config, n_bins = recording.config, recording.n_bins
    frames_per_chunk = max(1, round(chunk_s * config.frame_rate_hz))

    def chunks() -> Iterator[np.ndarray]:
        with Recording(path) as recording:
            for _, frames in recording.chunks(frames_per_chunk):
                yield frames

    return RadarSource(config=config, n_bins=n_bins, chunks=chunks(), name=name or str(path))


def _check_gate(gate: str) -> tuple[str, ...]:
    if gate not in GATES:
        raise SensingError(f"unknown gate {gate!r}; choose one of {', '.join(GATES)}")
    return GATES[gate]


def _check_offset(offset_s: float) -> None:
    if not (isinstance(offset_s, (int, float)) and math.isfinite(offset_s)):
        raise SensingError(f"the audio offset must be a finite number of seconds, got {offset_s!r}")


def _prepare_folder(out_dir: Path) -> None:
    """Remove an earlier run's outputs from the night's folder and its ``sleep/``, so the folder
    never shows two runs side by side (``audio/`` is cleared by the audio detection)."""
    clear_outputs(out_dir, NIGHT_OUTPUTS)
    clear_outputs(out_dir / "sleep", SLEEP_OUTPUTS)


def _events_csv(kept: list[dict[str, Any]], dropped: list[dict[str, Any]]) -> str:
    """The combined ``events.csv`` (:data:`EVENT_COLUMNS`), in order of start."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
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
    return text.getvalue()


def _count_by_reason(events: list[dict[str, Any]]) -> dict[str, int]:
    reasons = sorted({event["dropped_because"] for event in events})
    return {reason: sum(event["dropped_because"] == reason for event in events) for reason in reasons}


def combine(
    score: NightScore,
    sleep_report: dict[str, Any],
    audio_report: dict[str, Any],
    out_dir: Path,
    *,
    gate: str,
    offset_s: float,
    start: datetime.datetime | None = None,
    extra: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Gate the audio events by the sleep labels and write the combined outputs; returns the report.

    ``start`` is the clock time of the radar's start (``night.png``'s axis), or None.
    ``extra`` is added to the report as it is, ``warnings`` to its ``warnings``. A warning (:func:`~sensing.night.gating.check_overlap`)
    goes to stderr and the report's ``warnings``.

    Raises:
        SensingError: the audio lies wholly outside the radar night.
        WriteError: an output cannot be written.
    """
    allowed = _check_gate(gate)
    radar_s = len(score.labels) * EPOCH_S
    audio_s = audio_report["duration_s"]
    warning = check_overlap(offset_s=offset_s, audio_s=audio_s, radar_s=radar_s)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    kept, dropped = gate_events(audio_report["events"], score.labels, allowed=allowed, offset_s=offset_s)
    figures = combined_summary(kept, score.labels, offset_s=offset_s, audio_duration_s=audio_s)
    write_atomically(out_dir / "events.csv", _events_csv(kept, dropped))
    report = {
        "gate": gate,
        "allowed_states": list(allowed),
        "audio_offset_s": offset_s,
        "start_time": None if start is None else start.isoformat(),
        "sleep": sleep_report["summary"],
        "combined": figures,
        "coughs_heard": sum(event["label"] == "cough" for event in kept + dropped),
        "events_kept": len(kept),
        "events_dropped": len(dropped),
        "dropped_by_state": _count_by_reason(dropped),
        "coughs_dropped_by_state": _count_by_reason([e for e in dropped if e["label"] == "cough"]),
        "audio_before_gating": {
            "cough_count": audio_report["cough_count"],
            "snore_minutes": audio_report["snore_minutes"],
        },
        "audio_overlap": {
            "audio_s": audio_s,
            "radar_s": radar_s,
            "overlap_s": audio_overlap_s(offset_s=offset_s, audio_s=audio_s, radar_s=radar_s),
        },
        "warnings": ([] if warning is None else [warning]) + list(warnings or []),
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
                title=night_headline(report),
                start=start,
                gate_words=GATE_WORDS[gate],
            )
        )
    except WriteError:
        raise
    except SensingError as error:  # matplotlib is not installed: the numbers are written without it
        report["plot"] = None
        print(f"note: no night picture ({error})", file=sys.stderr)
    write_atomically(out_dir / "report.json", json.dumps(report, indent=2) + "\n")
    return report


def _audio_seconds(audio_path: str | Path, audio_model: str | Path | None) -> float:
    """The audio file's length in seconds, read from its header (nothing is decoded: the
    stream's blocks are never pulled, so the file is not opened again)."""
    sr = read_metadata(audio_model or default_model_path()).features.sr
    info, _ = open_audio_stream(audio_path, sr=sr)
    return info.duration_s


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
    start: datetime.datetime | None = None,
) -> dict[str, Any]:
    """Score the radar night, detect audio events, gate them; returns the combined report.

    Args:
        audio_path: the night's audio (any length, rate and channels).
        radar_path: the night's radar recording: ``.npz``, or an Acconeer ``.h5``
            (converted into a temporary file, :func:`~sensing.radar.sources.as_recording`).
        out_dir: the folder for the outputs (module docstring); locked while the night runs.
        audio_model, sleep_model: ``.tflite`` models (default: the bundled ones).
        gate: ``in-bed`` or ``asleep``.
        offset_s: seconds from the radar's start to the audio's start.
        threads: inference threads.
        centre_m: the sleeper's range in metres (default: calibration).
        start: the clock time of the radar's start (default: the recording's own, if any).

    Raises:
        SensingError: a bad input, or audio that lies wholly outside the radar night
            (found before anything is scored).
        WriteError: the folder is in use by another run, or an output cannot be written.
    """
    _check_gate(gate)
    _check_offset(offset_s)
    with locked_output_folder(out_dir) as folder, as_recording(radar_path) as recording_path:
        with Recording(recording_path) as recording:
            radar_s = math.floor(recording.duration_s / EPOCH_S + 1e-9) * EPOCH_S
            start = start or recording.config.started_at()
        audio_s = _audio_seconds(audio_path, audio_model)
        check_overlap(offset_s=offset_s, audio_s=audio_s, radar_s=radar_s)
        classifier = SleepClassifier(sleep_model, num_threads=threads)
        _prepare_folder(folder)
        score = score_recording(recording_path, classifier, centre_m=centre_m)
        sleep_report = write_sleep_outputs(
            score, classifier, folder / "sleep", source=str(radar_path), start=start
        )
        audio_report = detect_night(
            audio_path,
            out_dir=folder / "audio",
            model_path=audio_model,
            threads=threads,
            start_time=None if start is None else start + datetime.timedelta(seconds=offset_s),
        )
        return combine(score, sleep_report, audio_report, folder, gate=gate, offset_s=offset_s, start=start)


class _InStep:
    """Passes audio blocks on, first feeding the radar frames of the same span to a :class:`SleepStream`.

    The audio stops when the radar ends (``radar_ended_s`` says when), a radar
    frame is malformed (kept in ``error``, raised once the audio report is written) or the
    radar source fails (a lost driver: ``lost`` says why, and the night is written with the
    epochs scored so far). ``on_epoch`` hears each epoch's label as soon as it is scored.
    """

    def __init__(
        self,
        radar: RadarSource,
        stream: SleepStream,
        *,
        sr: int,
        on_epoch: Callable[[str], None] | None = None,
    ) -> None:
        self.radar, self.stream, self.sr = radar, stream, sr
        self.on_epoch = on_epoch
        self.radar_ended_s: float | None = None
        self.error: SensingError | None = None
        self.lost: str | None = None
        self._epochs_told = 0

    def _next_frames(self, radar_frames: int) -> np.ndarray | None:
        try:
            return next(self.radar.chunks, None)
        except (SensingError, OSError) as error:
            self.lost = f"radar lost after {radar_frames / self.radar.config.frame_rate_hz:.0f} s: {error}"
            print(f"warning: {self.lost}", file=sys.stderr)
            return None

    def tell_epochs(self) -> None:
        """Tell ``on_epoch`` the epochs scored since it last heard."""
        known = self.stream.probabilities
        while self.on_epoch is not None and self._epochs_told < len(known):
            self.on_epoch(EPOCH_LABELS[int(np.argmax(known[self._epochs_told]))])
            self._epochs_told += 1

    def blocks(self, audio_blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        audio_s, radar_frames = 0.0, 0
        rate = self.radar.config.frame_rate_hz
        for block in audio_blocks:
            audio_s += len(block) / self.sr
            while radar_frames < audio_s * rate:
                frames = self._next_frames(radar_frames)
                if frames is None:
                    self.radar_ended_s = radar_frames / rate
                    return
                try:
                    self.stream.feed(frames)
                except SensingError as error:
                    self.error = error
                    return
                radar_frames += len(frames)
                self.tell_epochs()
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
    on_epoch: Callable[[str], None] | None = None,
    on_event: Callable[[Event], None] | None = None,
    save_audio: bool = False,
) -> dict[str, Any]:
    """Run audio and radar together as they arrive; returns the combined report.

    Args:
        audio_blocks: mono float32 blocks at the audio model's rate (the
            microphone's, or generated ones).
        radar: radar frames arriving alongside; taken in step with the audio,
            and closed at the end.
        out_dir: the folder for the outputs; locked while the night runs.
        centre_m: the sleeper's range in metres (from ``sensing radar calibrate``
            on a setup recording).
        audio_model, sleep_model, gate, threads: as :func:`night_from_files`.
        source: what the audio comes from, for the report.
        stop_requested: checked between audio blocks; True ends the night in order.
        on_epoch: called with each 30 s epoch's label (``absent``, ``awake`` or ``asleep``,
            the most likely, before the night's smoothing) as soon as it is scored, about a
            minute and a half after the epoch began.
        on_event: called with each cough or snore episode as soon as it is final.
        save_audio: also keep the audio as ``audio/audio.wav`` (16-bit PCM at the model's rate).

    The night ends when the audio ends, the radar ends (the report's
    ``radar_ended_s``), the radar source fails (``radar_lost``, also in ``warnings``: the night
    is written with the epochs scored before) or a stop is requested; the report is then
    written. The night's clock starts when this is called.
    Radar frames not yet reached when the audio ends are left unread, so the
    last two epochs are scored without their full 150 s of context.
    Breathing rates are not estimated live.

    Raises:
        SensingError: a model cannot be loaded, a radar frame is malformed (the
            audio report is written first), or the radar gave no whole epoch.
        WriteError: the folder is in use by another run, or an output cannot be written.
    """
    start = datetime.datetime.now()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(radar.close)
        _check_gate(gate)
        folder = cleanup.enter_context(locked_output_folder(out_dir))
        _prepare_folder(folder)
        classifier = SleepClassifier(sleep_model, num_threads=threads)
        stream = SleepStream(
            classifier, radar.config, n_bins=radar.n_bins, centre_m=centre_m, source=radar.name
        )
        audio = AudioClassifier(audio_model or default_model_path(), num_threads=threads)
        sr = audio.metadata.features.sr
        in_step = _InStep(radar, stream, sr=sr, on_epoch=on_epoch)
        blocks = in_step.blocks(audio_blocks)
        if save_audio:
            clear_outputs(folder / "audio", [SAVED_AUDIO])
            recorder = cleanup.enter_context(WavRecorder(make_folder(folder / "audio") / SAVED_AUDIO, sr=sr))
            blocks = saved_blocks(blocks, recorder)
        audio_report = run_detection(
            blocks,
            classifier=audio,
            out_dir=folder / "audio",
            event_settings=default_event_settings(audio, None),
            source=source or {"audio": "live"},
            start_time=start,
            stop_requested=stop_requested,
            on_event=on_event,
        )
        radar.close()
        if in_step.error is not None:
            raise SensingError(f"{radar.name}: {in_step.error}; the audio report is in {folder / 'audio'}")
        probabilities = stream.finish()
        in_step.tell_epochs()  # the last epochs, scored only now that the night has ended
        if len(probabilities) == 0:
            seconds = stream.frames_fed / radar.config.frame_rate_hz
            raise SensingError(
                f"{radar.name}: the radar gave {seconds:.1f} s, less than one whole {EPOCH_S:g} s "
                f"epoch; the audio report is in {folder / 'audio'}"
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
        sleep_report = write_sleep_outputs(
            score, classifier, folder / "sleep", source=radar.name, start=start
        )
        return combine(
            score,
            sleep_report,
            audio_report,
            folder,
            gate=gate,
            offset_s=0.0,
            start=start,
            extra={"radar_ended_s": in_step.radar_ended_s, "radar_lost": in_step.lost},
            warnings=[] if in_step.lost is None else [in_step.lost],
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
    :func:`live_night`. The radar may be ``.npz`` or Acconeer ``.h5``. With
    ``centre_m`` None the sleeper's range is found by calibration on the
    recording's first minutes (said on stderr).
    """
    from sensing.audio.microphone import microphone_blocks
    from sensing.audio.night import StopOnSignal
    from sensing.radar.sleep.input import sleeper_centre
    from sensing.radar.sleep.model import default_sleep_model, read_sleep_metadata

    with as_recording(radar_path) as recording_path:
        if centre_m is None:
            settings = read_sleep_metadata(sleep_model or default_sleep_model()).features
            with Recording(recording_path) as recording:
                sleeper = sleeper_centre(recording, settings)
            centre_m = sleeper.centre_m
            print(f"sleeper's range: {centre_m:.2f} m ({sleeper.how})", file=sys.stderr)
        sr = read_metadata(audio_model or default_model_path()).features.sr
        with StopOnSignal() as stop:
            return live_night(
                microphone_blocks(sr=sr, device=device),
                replay_radar(recording_path, name=str(radar_path)),
                out_dir=out_dir,
                centre_m=centre_m,
                audio_model=audio_model,
                sleep_model=sleep_model,
                gate=gate,
                source={"microphone": device or "default input"},
                threads=threads,
                stop_requested=lambda: stop.requested,
            )
