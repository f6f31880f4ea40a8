"""``sensing detect``: a night's recording or live microphone through the model to a report.

Picks the model (the bundled default unless one is given), the audio source
(a file streamed block by block at any rate and channel count, or the
microphone), optionally keeps the audio (only with ``save_audio``, as a WAV
that stays valid however the run ends: :mod:`sensing.audio.wav_recorder`), and
turns Ctrl-C and SIGTERM into an orderly stop between blocks so the report is
always written. A run holds its folder's lock and first removes an earlier
run's outputs there.
"""

from __future__ import annotations

import contextlib
import datetime
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.detect import default_event_settings, run_detection
from sensing.audio.stream import open_audio_stream
from sensing.audio.wav_recorder import WavRecorder
from sensing.bundled import COUGH_SNORE
from sensing.errors import ModelError, SensingError
from sensing.files import clear_outputs, locked_output_folder

DEFAULT_MODEL = COUGH_SNORE
"""The bundled cough/snore model; see ``sensing/models/MODEL_CARD.md``."""

PROGRESS_EVERY_S = 1800.0
"""Seconds of audio between progress lines."""

SAVED_AUDIO = "audio.wav"
"""The audio kept with ``save_audio``, beside :data:`sensing.audio.detect.DETECTION_OUTPUTS`."""


def default_model_path() -> Path:
    """The bundled model's path, checked to exist."""
    if not DEFAULT_MODEL.is_file():
        raise ModelError(f"the bundled model is missing ({DEFAULT_MODEL}); pass --model")
    return DEFAULT_MODEL


def saved_blocks(blocks: Iterator[np.ndarray], recorder: WavRecorder) -> Iterator[np.ndarray]:
    """Pass blocks through while appending them to the recorder's WAV."""
    for block in blocks:
        recorder.write(block)
        yield block


class StopOnSignal:
    """While active, the first SIGINT (Ctrl-C) or SIGTERM asks the run to stop after the
    current block, so no event is cut in half; a second one interrupts at once. ``message``
    is what the first one prints on stderr."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, message: str = "stopping after the current block (again to stop at once)") -> None:
        self.requested = False
        self.message = message
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(self.message, file=sys.stderr)

    def __enter__(self) -> StopOnSignal:
        for number in self.SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def detect_night(
    input_path: str | Path | None,
    *,
    out_dir: str | Path,
    model_path: str | Path | None = None,
    mic: bool = False,
    device: str | None = None,
    threads: int | None = None,
    save_audio: bool = False,
    thresholds: dict[str, float] | None = None,
    start_time: datetime.datetime | None = None,
) -> dict[str, Any]:
    """Run detection on a file (``input_path``) or the microphone (``mic``); returns the report.

    The model and the input are checked first; then the run holds ``out_dir``'s lock
    (a second run into it is refused), removes an earlier run's outputs and writes
    its own. ``start_time`` is the clock time the file started (live: now).

    Raises:
        SensingError: the model or the input cannot be used, or ``out_dir`` is in use.
        WriteError: an output cannot be written.
    """
    classifier = AudioClassifier(model_path or default_model_path(), num_threads=threads)
    sr = classifier.metadata.features.sr
    event_settings = default_event_settings(classifier, thresholds)
    if mic:
        from sensing.audio.microphone import microphone_blocks

        blocks = microphone_blocks(sr=sr, device=device)
        source: dict[str, Any] = {"microphone": device or "default input"}
        warnings: tuple[str, ...] = ()
        start_time = start_time or datetime.datetime.now()
        progress = None
    elif input_path is None:
        raise SensingError("give an audio file, or capture the microphone")
    else:
        info, blocks = open_audio_stream(input_path, sr=sr)
        source, warnings, progress = info.to_dict(), info.warnings, PROGRESS_EVERY_S
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        out_dir = stack.enter_context(locked_output_folder(out_dir))
        clear_outputs(out_dir, [SAVED_AUDIO])
        if save_audio:
            recorder = stack.enter_context(WavRecorder(out_dir / SAVED_AUDIO, sr=sr))
            blocks = saved_blocks(blocks, recorder)
        stop = stack.enter_context(StopOnSignal())
        return run_detection(
            blocks,
            classifier=classifier,
            out_dir=out_dir,
            event_settings=event_settings,
            source=source,
            input_warnings=warnings,
            start_time=start_time,
            progress_every_s=progress,
            stop_requested=lambda: stop.requested,
        )
