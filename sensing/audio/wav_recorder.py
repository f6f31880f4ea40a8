"""A night's audio kept as a 16-bit mono WAV that is valid at every moment (``sensing detect --save-audio``).

A night's audio is too long to write under a temporary name and rename at the end, so
it is appended block by block, and after each block the header is brought up to date:
a run killed at any moment (``kill -9``, a power cut) leaves a WAV of the audio up to
the last block. A failed write (a full disk) cuts the file back to its last whole block,
so it stays a valid, shorter recording (or removes it when no block was whole), and
raises :class:`~sensing.files.WriteError` saying so.
"""

from __future__ import annotations

import contextlib
import os
import struct
from pathlib import Path
from types import TracebackType

import numpy as np

from sensing.files import WriteError, os_error_cause, write_error
from sensing.wording import duration

HEADER_BYTES = 44
"""Size of the canonical WAV header: RIFF, ``fmt `` (PCM) and ``data`` chunk headers."""

SAMPLE_BYTES = 2
"""16-bit samples."""


def pcm16(block: np.ndarray) -> bytes:
    """Float samples in [-1, 1], shape (n,), as little-endian 16-bit PCM, rounded as libsndfile
    rounds them (to 32 bits, then the top 16); clipped."""
    wide = np.rint(np.asarray(block, dtype=np.float64) * 2.0**31)
    return (np.clip(wide, -(2.0**31), 2.0**31 - 1).astype(np.int64) >> 16).astype("<i2").tobytes()


def wav_header(*, sr: int, data_bytes: int) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV at ``sr`` Hz with ``data_bytes`` of samples."""
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * SAMPLE_BYTES, SAMPLE_BYTES, 8 * SAMPLE_BYTES)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class WavRecorder:
    """Appends mono float blocks at ``sr`` Hz to the WAV ``path`` (replacing any file there).

    Use as a context manager; :meth:`write` each block in order.
    """

    def __init__(self, path: str | Path, *, sr: int) -> None:
        self.path = Path(path)
        self.sr = sr
        self._data_bytes = 0
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            self._write_all(wav_header(sr=sr, data_bytes=0))
        except OSError as error:
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
            raise write_error(self.path, error) from None

    @property
    def seconds(self) -> float:
        """Audio kept so far, in seconds."""
        return self._data_bytes / SAMPLE_BYTES / self.sr

    def write(self, block: np.ndarray) -> None:
        """Append one block (n,) and update the header.

        Raises:
            WriteError: the block could not be written; the file is cut back to the blocks
                before it (a valid WAV) and the message says how much audio it holds.
        """
        data = pcm16(block)
        try:
            self._write_all(data)
            self._data_bytes += len(data)
            os.pwrite(self._fd, wav_header(sr=self.sr, data_bytes=self._data_bytes), 0)
        except OSError as error:
            raise self._keep_whole_blocks(error) from None

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def _keep_whole_blocks(self, error: OSError) -> WriteError:
        """Cut the file back to the blocks written in full (or remove it when none was); the error
        to raise."""
        try:
            if self._data_bytes == 0:
                raise OSError("no audio to keep")
            os.ftruncate(self._fd, HEADER_BYTES + self._data_bytes)
            os.pwrite(self._fd, wav_header(sr=self.sr, data_bytes=self._data_bytes), 0)
        except OSError:
            self.close()
            self.path.unlink(missing_ok=True)
            return WriteError(
                f"cannot write {self.path}: {os_error_cause(error)} (the partial file was removed)"
            )
        return WriteError(
            f"cannot write {self.path}: {os_error_cause(error)} (it keeps the first "
            f"{duration(self.seconds)} of audio)"
        )

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> WavRecorder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
