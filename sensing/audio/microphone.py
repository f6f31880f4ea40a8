"""Live capture from the default ALSA/PortAudio input, through sounddevice (optional).

:func:`microphone_blocks` yields mono float32 blocks at the requested rate for
as long as the caller keeps reading. When the microphone disappears (unplugged,
taken by another program) it says so on stderr and retries every few seconds
instead of ending the night with a traceback.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from sensing.errors import SensingError

RETRY_S = 5.0
"""Seconds between attempts to reopen a lost microphone."""


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        raise SensingError(
            f"live capture needs sounddevice and PortAudio ({error}): "
            f"pip install 'sensing[mic]' (on Raspberry Pi OS also: "
            f"sudo apt install libportaudio2)"
        ) from None
    return sounddevice


def microphone_blocks(
    *, sr: int, block_s: float = 0.5, device: str | None = None, retry_s: float = RETRY_S
) -> Iterator[np.ndarray]:
    """Mono float32 blocks of ``block_s`` seconds at ``sr`` Hz from a live input.

    Args:
        sr: sample rate in Hz to capture at.
        block_s: seconds per block.
        device: an input device's number or (part of its) name; None for the default.
        retry_s: seconds between attempts to reopen a lost device.

    Runs until the consumer stops iterating. While the device is lost, the
    time that passes is filled with digital silence once it is back, so event
    times stay true and the report's input warnings show the gap.

    Raises:
        SensingError: at once, when sounddevice or PortAudio is missing.
    """
    sounddevice = _sounddevice()
    chosen: str | int | None = int(device) if isinstance(device, str) and device.isdigit() else device
    return _capture(sounddevice, sr=sr, block_frames=int(round(sr * block_s)), device=chosen, retry_s=retry_s)


def _capture(
    sounddevice: Any, *, sr: int, block_frames: int, device: str | int | None, retry_s: float
) -> Iterator[np.ndarray]:
    """The capture loop behind :func:`microphone_blocks`."""
    block_s = block_frames / sr
    lost_at = None
    while True:
        captured: queue.Queue[Any] = queue.Queue()
        try:
            with sounddevice.InputStream(
                samplerate=sr,
                channels=1,
                dtype="float32",
                blocksize=block_frames,
                device=device,
                callback=_enqueuer(captured),
            ):
                if lost_at is not None:
                    print(f"microphone back after {time.monotonic() - lost_at:.0f} s", file=sys.stderr)
                    yield from _silence(time.monotonic() - lost_at, sr=sr, block_frames=block_frames)
                    lost_at = None
                while True:
                    try:
                        block, status = captured.get(timeout=max(2.0, 4 * block_s))
                    except queue.Empty:
                        raise sounddevice.PortAudioError("no audio arrived from the input") from None
                    if status and status.input_overflow:
                        print("microphone: input overflow, some audio was dropped", file=sys.stderr)
                    yield block
        except ValueError as error:
            raise SensingError(
                f"microphone {device!r}: {error} (python -m sounddevice lists the devices)"
            ) from None
        except sounddevice.PortAudioError as error:
            print(f"microphone lost ({error}); retrying in {retry_s:.0f} s", file=sys.stderr)
            lost_at = lost_at if lost_at is not None else time.monotonic()
            time.sleep(retry_s)


def _enqueuer(captured: queue.Queue[Any]) -> Callable[..., None]:
    """A PortAudio callback (run on PortAudio's thread) that queues (block, status) pairs."""

    def on_audio(data: np.ndarray, frames: int, time_info: object, status: object) -> None:
        captured.put((data[:, 0].copy(), status))

    return on_audio


def _silence(seconds: float, *, sr: int, block_frames: int) -> Iterator[np.ndarray]:
    """``seconds`` of zeros in blocks of ``block_frames`` samples."""
    remaining = int(seconds * sr)
    while remaining > 0:
        size = min(block_frames, remaining)
        yield np.zeros(size, dtype=np.float32)
        remaining -= size
