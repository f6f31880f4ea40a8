"""``sensing detect``: a night's recording or live microphone through the model to a report.

Picks the model (the bundled default unless one is given), the audio source
(a file streamed block by block at any rate and channel count, or the
microphone), optionally keeps the audio (only with ``save_audio``), and turns
Ctrl-C and SIGTERM into an orderly stop between blocks so the report is always
written.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from sensing.audio.classifier import AudioClassifier
from sensing.audio.detect import default_event_settings, run_detection
from sensing.audio.stream import open_audio_stream
from sensing.bundled import COUGH_SNORE
from sensing.errors import ModelError, SensingError
from sensing.folders import output_folder

DEFAULT_MODEL = COUGH_SNORE
"""The bundled cough/snore model; see ``sensing/models/MODEL_CARD.md``."""

PROGRESS_EVERY_S = 1800.0
"""Seconds of audio between progress lines."""


def default_model_path() -> Path:
    """The bundled model's path, checked to exist."""
    if not DEFAULT_MODEL.is_file():
        raise ModelError(f"the bundled model is missing ({DEFAULT_MODEL}); pass --model")
    return DEFAULT_MODEL


def _saved(blocks: Iterator[np.ndarray], path: Path, sr: int) -> Iterator[np.ndarray]:
    """Pass blocks through while appending them to a 16-bit WAV."""
    with soundfile.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as handle:
        for block in blocks:
            handle.write(block)
            handle.flush()
            yield block


class StopOnSignal:
    """While active, the first SIGINT (Ctrl-C) or SIGTERM asks the run to stop after the
    current block, so no event is cut in half; a second one interrupts at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("stopping after the current block (again to stop at once)", file=sys.stderr)

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
) -> dict[str, Any]:
    """Run detection on a file (``input_path``) or the microphone (``mic``); returns the report."""
    out_dir = output_folder(out_dir)
    classifier = AudioClassifier(model_path or default_model_path(), num_threads=threads)
    sr = classifier.metadata.features.sr
    if mic:
        from sensing.audio.microphone import microphone_blocks

        blocks = microphone_blocks(sr=sr, device=device)
        source = {"microphone": device or "default input"}
        progress = None
    elif input_path is None:
        raise SensingError("give an audio file, or capture the microphone")
    else:
        info, blocks = open_audio_stream(input_path, sr=sr)
        source = dataclasses.asdict(info) | {"path": str(info.path)}
        progress = PROGRESS_EVERY_S
    if save_audio:
        blocks = _saved(blocks, out_dir / "audio.wav", sr)
    event_settings = default_event_settings(classifier, thresholds)
    with StopOnSignal() as stop:
        return run_detection(
            blocks,
            classifier=classifier,
            out_dir=out_dir,
            event_settings=event_settings,
            source=source,
            progress_every_s=progress,
            stop_requested=lambda: stop.requested,
        )
