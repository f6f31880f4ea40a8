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
from collections.abc import Iterator

import numpy as np

from sensing.errors import SensingError

RETRY_S = 5.0
"""Seconds between attempts to reopen a lost microphone."""


def _sounddevice():
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        raise SensingError(f"live capture needs sounddevice and PortAudio ({error}): "
                           f"pip install 'sensing[mic]' (on Raspberry Pi OS also: "
                           f"sudo apt install libportaudio2)") from None
    return sounddevice


def microphone_blocks(*, sr: int, block_s: float = 0.5, device: str | int | None = None,
                      retry_s: float = RETRY_S) -> Iterator[np.ndarray]:
    """Mono float32 blocks of ``block_s`` seconds at ``sr`` Hz from a live input.

    Runs until the consumer stops iterating (or Ctrl-C). A failing device is
    reopened every ``retry_s`` seconds; the gap is reported, not filled.
    """
    sounddevice = _sounddevice()
    block_frames = int(round(sr * block_s))
    while True:
        captured: queue.Queue = queue.Queue()

        def on_audio(data, frames, time_info, status):  # called on PortAudio's thread
            captured.put((data[:, 0].copy(), status))

        try:
            with sounddevice.InputStream(samplerate=sr, channels=1, dtype="float32",
                                         blocksize=block_frames, device=device,
                                         callback=on_audio):
                while True:
                    try:
                        block, status = captured.get(timeout=max(2.0, 4 * block_s))
                    except queue.Empty:
                        raise sounddevice.PortAudioError("no audio arrived from the input") from None
                    if status and status.input_overflow:
                        print("microphone: input overflow, some audio was dropped", file=sys.stderr)
                    yield block
        except sounddevice.PortAudioError as error:
            print(f"microphone lost ({error}); retrying in {retry_s:.0f} s", file=sys.stderr)
            time.sleep(retry_s)
