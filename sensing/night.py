"""``sensing detect``: a night's recording or live microphone through the model to a report.

Picks the model (the bundled default unless one is given), the audio source
(a file streamed block by block at any rate and channel count, or the
microphone), optionally keeps the audio (only with ``save_audio``), and turns
SIGTERM into the same orderly stop as Ctrl-C so the report is always written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile

from sensing.audio_stream import open_audio_stream
from sensing.classifier import AudioClassifier
from sensing.detect import default_event_settings, run_detection
from sensing.errors import ModelError

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "cough_snore.tflite"
"""The bundled cough/snore model; see ``sensing/models/MODEL_CARD.md``."""

PROGRESS_EVERY_S = 1800.0
"""Seconds of audio between progress lines."""


def default_model_path() -> Path:
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


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Within the block, SIGTERM stops like Ctrl-C (so the report is still written)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def detect_night(input_path: str | Path | None, *, out_dir: str | Path,
                 model_path: str | Path | None = None, mic: bool = False,
                 device: str | None = None, threads: int | None = None,
                 save_audio: bool = False, thresholds: dict[str, float] | None = None) -> dict:
    """Run detection on a file (``input_path``) or the microphone (``mic``); returns the report."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    classifier = AudioClassifier(model_path or default_model_path(), num_threads=threads)
    sr = classifier.metadata.features.sr
    if mic:
        from sensing.microphone import microphone_blocks

        blocks = microphone_blocks(sr=sr, device=device)
        source = {"microphone": device or "default input"}
        progress = None
    else:
        info, blocks = open_audio_stream(input_path, sr=sr)
        source = dataclasses.asdict(info) | {"path": str(info.path)}
        progress = PROGRESS_EVERY_S
    if save_audio:
        blocks = _saved(blocks, out_dir / "audio.wav", sr)
    with _sigterm_as_interrupt():
        return run_detection(blocks, classifier=classifier, out_dir=out_dir,
                             event_settings=default_event_settings(classifier, thresholds),
                             source=source, progress_every_s=progress)
