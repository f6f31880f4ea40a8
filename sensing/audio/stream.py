"""Reading long recordings block by block: mono float32 at one sample rate.

:func:`open_audio_stream` is :func:`sensing.audio.reading.load_audio` for recordings
too long to hold in memory (a night of sleep audio): it reads the file with
``soundfile.SoundFile`` one block at a time, mixes each block to mono and
resamples it with :class:`StreamingResampler`, so memory stays the same
whatever the file's length. The resampler's output does not depend on how the
input is split into blocks, and it is time-aligned with the input: sample ``n``
of the output is the signal at time ``n / target_sr`` seconds.

Only numpy and soundfile are used, so this runs on the Raspberry Pi.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
from numpy.lib.stride_tricks import sliding_window_view

from sensing.audio.wav_length import wav_length_warning
from sensing.errors import AudioError, SensingError

ZERO_CROSSINGS = 32
"""Zero crossings of the windowed-sinc filter on each side of its centre."""

ROLLOFF = 0.92
"""Filter cutoff (-6 dB point) as a fraction of the lower of the two Nyquist frequencies."""

KAISER_BETA = 8.6
"""Kaiser window shape; 8.6 gives about 85 dB of stop-band attenuation."""

MIN_SOURCE_SR = 8000
"""Lowest sample rate (Hz) accepted: below it a file holds less than the 0-4 kHz where most
of a cough's sound lies."""


def _polyphase_table(*, up: int, down: int) -> tuple[np.ndarray, int]:
    """Windowed-sinc low-pass filter sampled at the ``up`` fractional phases.

    Args:
        up: interpolation factor L (output rate / input rate = L / M).
        down: decimation factor M, coprime with ``up``.

    Returns:
        ``(table, half)``: float64 array of shape (up, 2 * half). Output sample
        ``n`` with ``n * down = q * up + p`` (``0 <= p < up``) is
        ``table[p] @ x[q - half + 1 : q + half + 1]``. Each row sums to 1.
    """
    cutoff = ROLLOFF * 0.5 * min(1.0, up / down)  # cycles per input sample
    reach = ZERO_CROSSINGS / (2 * cutoff)  # filter half-length in input samples
    half = math.ceil(reach) + 1
    offsets = (np.arange(up)[:, None] / up) + (half - 1 - np.arange(2 * half))[None, :]
    inside = np.clip(1 - (offsets / reach) ** 2, 0.0, None)
    window = np.where(np.abs(offsets) < reach, np.i0(KAISER_BETA * np.sqrt(inside)), 0.0)
    table = np.sinc(2 * cutoff * offsets) * window
    table /= table.sum(axis=1, keepdims=True)
    table.setflags(write=False)
    return table, half


class StreamingResampler:
    """Band-limited resampling of a stream of mono blocks by a rational factor.

    The rate ratio ``target_sr / orig_sr`` is reduced to ``L / M``; output
    sample ``n`` is the input, low-pass filtered at ``ROLLOFF`` of the lower
    Nyquist frequency (Kaiser-windowed sinc, ``ZERO_CROSSINGS`` per side),
    evaluated at input time ``n * M / L`` samples (polyphase form: per block,
    a few matrix-vector products per filter phase). The filter is centred on
    that time, so there is no delay; before the stream's start and after its
    end the input counts as zeros.

    The concatenation of everything :meth:`process` and :meth:`flush` return
    is the same whatever the block sizes, and has
    ``round(n_in * target_sr / orig_sr)`` samples for ``n_in`` input samples.
    With equal rates the blocks pass through unchanged.
    """

    def __init__(self, *, orig_sr: int, target_sr: int) -> None:
        """Args: orig_sr: input sample rate in Hz; target_sr: output sample rate in Hz."""
        if int(orig_sr) != orig_sr or int(target_sr) != target_sr or min(orig_sr, target_sr) <= 0:
            raise SensingError(
                f"sample rates must be positive integers (got orig_sr={orig_sr}, target_sr={target_sr})"
            )
        self.orig_sr = int(orig_sr)
        self.target_sr = int(target_sr)
        common = math.gcd(self.orig_sr, self.target_sr)
        self._up = self.target_sr // common
        self._down = self.orig_sr // common
        self._table, self._half = _polyphase_table(up=self._up, down=self._down)
        self._n_in = 0  # input samples received
        self._n_out = 0  # output samples returned
        # Input samples from absolute index ``_buffer_start`` on; zeros before the start.
        self._buffer_start = 1 - self._half
        self._buffer = np.zeros(self._half - 1)

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed the next input samples.

        Args:
            block: 1-D float array at ``orig_sr`` Hz (any length, also 0).

        Returns:
            float32 array at ``target_sr`` Hz: the output samples whose filter
            now lies wholly inside the input received (possibly none).
        """
        block = np.asarray(block)
        if block.ndim != 1:
            raise SensingError(f"StreamingResampler expects 1-D blocks, got shape {block.shape}")
        if self._up == self._down:
            return block.astype(np.float32)
        self._n_in += block.size
        self._buffer = np.concatenate([self._buffer, block.astype(np.float64)])
        # Output n needs input up to q + half, q = floor(n * M / L).
        ready = -(-(self._n_in - self._half) * self._up // self._down)
        return self._emit(max(ready, self._n_out))

    def flush(self) -> np.ndarray:
        """End the stream: the remaining output, with zeros as the input after the end.

        Returns:
            float32 array at ``target_sr`` Hz. Call once, after the last :meth:`process`.
        """
        if self._up == self._down:
            return np.zeros(0, dtype=np.float32)
        total = (2 * self._n_in * self._up + self._down) // (2 * self._down)
        if total <= self._n_out:
            return np.zeros(0, dtype=np.float32)
        last_needed = (total - 1) * self._down // self._up + self._half
        missing = last_needed + 1 - (self._buffer_start + self._buffer.size)
        self._buffer = np.concatenate([self._buffer, np.zeros(max(0, missing))])
        return self._emit(total)

    def _emit(self, stop: int) -> np.ndarray:
        """Output samples ``[_n_out, stop)`` as float32; drops input no longer needed."""
        start = self._n_out
        count = stop - start
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        out = np.empty(count)
        taps = self._table.shape[1]
        windows = sliding_window_view(self._buffer, taps)
        # Outputs n and n + L * S share a phase and lie S * M input samples
        # apart; S makes that at least the filter length, so that the rows of
        # one product do not overlap and numpy hands it to BLAS.
        s = -(-taps // self._down)
        period = s * self._up
        for first in range(min(period, count)):
            q, phase = divmod((start + first) * self._down, self._up)
            rows = windows[q - self._half + 1 - self._buffer_start :: s * self._down]
            n_rows = len(range(first, count, period))
            out[first::period] = rows[:n_rows] @ self._table[phase]
        self._n_out = stop
        keep_from = stop * self._down // self._up - self._half + 1
        self._buffer = self._buffer[keep_from - self._buffer_start :].copy()
        self._buffer_start = keep_from
        return out.astype(np.float32)


@dataclasses.dataclass(frozen=True)
class StreamInfo:
    """What an audio file holds, before any resampling.

    Attributes:
        path: the file.
        source_sr: its sample rate in Hz.
        source_channels: its channel count (the stream mixes them to mono).
        duration_s: its length in seconds.
        format: soundfile's container and encoding, e.g. ``"FLAC/PCM_24"``.
        warnings: one line each for what makes the answer less sure: a file cut short,
            a sample rate below the model's.
    """

    path: Path
    source_sr: int
    source_channels: int
    duration_s: float
    format: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The file's description for a report (without the warnings, reported on their own)."""
        return {
            "path": str(self.path),
            "source_sr": self.source_sr,
            "source_channels": self.source_channels,
            "duration_s": round(self.duration_s, 3),
            "format": self.format,
        }


def _open_sound(path: Path) -> soundfile.SoundFile:
    """Open ``path`` for reading; problems become :class:`AudioError` naming the file."""
    check_audio_path(path)
    try:
        return soundfile.SoundFile(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(f"{path}: cannot read audio ({decoder_reason(error, path)})") from None


def check_audio_path(path: Path) -> None:
    """Refuse, naming ``path``, what cannot be an audio file: nothing there, a folder, 0 bytes.

    Raises:
        AudioError: with the reason.
    """
    if not path.exists():
        raise AudioError(f"{path}: file not found")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, expected an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: cannot read audio (an empty file, 0 bytes)")


def decoder_reason(error: Exception, path: Path) -> str:
    """libsndfile's reason, without its "Error opening 'PATH': " prefix (the path is named already)."""
    reason = str(error).strip()
    for prefix in (f"Error opening {str(path)!r}: ", "Error : "):
        reason = reason.removeprefix(prefix)
    return reason.rstrip(".") or type(error).__name__


SALVAGE_S = 0.5
"""Seconds read at a time, after a block fails to decode, to keep the audio before the fault."""


def _read_block(sound: soundfile.SoundFile, frames: int, path: Path) -> np.ndarray:
    """The next (up to) ``frames`` frames, (n, channels) float32.

    A block that fails to decode (a file cut short, damaged data) is read again
    :data:`SALVAGE_S` at a time: what decodes before the fault is returned, and the
    fault is raised as :class:`AudioError` on the next call, at its time.
    """
    start = sound.tell()
    try:
        return np.asarray(sound.read(frames, dtype="float32", always_2d=True))
    except (soundfile.LibsndfileError, RuntimeError) as error:
        fault = error
    sound.seek(start)
    pieces: list[np.ndarray] = []
    piece = max(1, round(SALVAGE_S * sound.samplerate))
    salvaged = 0
    with contextlib.suppress(soundfile.LibsndfileError, RuntimeError):
        while salvaged < frames:
            pieces.append(sound.read(min(piece, frames - salvaged), dtype="float32", always_2d=True))
            salvaged += len(pieces[-1])
    if salvaged == 0:
        raise AudioError(
            f"{path}: cannot read audio at {start / sound.samplerate:.1f} s ({decoder_reason(fault, path)}); "
            "the file may be cut short or damaged"
        )
    sound.seek(start + salvaged)
    return np.concatenate(pieces)


def _mono_blocks(path: Path, *, sr: int, block_s: float) -> Iterator[np.ndarray]:
    """Mono float32 blocks of ``path`` at ``sr`` Hz; the file is open only while iterating."""
    with _open_sound(path) as sound:
        resampler = StreamingResampler(orig_sr=sound.samplerate, target_sr=sr)
        block_frames = max(1, round(block_s * sound.samplerate))
        while True:
            start_s = sound.tell() / sound.samplerate
            data = _read_block(sound, block_frames, path)
            if data.shape[0] == 0:
                break
            mono = data.mean(axis=1)
            if not np.all(np.isfinite(mono)):
                raise AudioError(
                    f"{path}: audio contains NaN or infinite samples (in the block from {start_s:.1f} s)"
                )
            out = resampler.process(mono)
            if out.size:
                yield out
    tail = resampler.flush()
    if tail.size:
        yield tail


def open_audio_stream(
    path: str | Path, *, sr: int, block_s: float = 10.0
) -> tuple[StreamInfo, Iterator[np.ndarray]]:
    """Open an audio file of any length for reading as mono float32 at ``sr`` Hz.

    Unlike :func:`sensing.audio.reading.load_audio`, silence is not an error here: a
    long recording may well be silent in parts.

    Args:
        path: a file soundfile can read (WAV, FLAC, OGG, any bit depth and channels).
        sr: the wanted sample rate in Hz.
        block_s: seconds of the file read at a time; memory grows with this,
            not with the file's length.

    Returns:
        ``(info, blocks)``: the file's :class:`StreamInfo` and a generator of
        1-D float32 blocks at ``sr`` Hz (about ``block_s`` seconds each) whose
        concatenation has ``round(frames * sr / source_sr)`` samples. The file
        is opened on the first block and closed when the generator is
        exhausted or closed.

    Raises:
        AudioError: the file is missing, unreadable or empty, its sample rate is below
            :data:`MIN_SOURCE_SR`, or it is a WAV whose header declares no audio although
            audio follows; while iterating, it cannot be decoded or holds NaN or infinite
            samples. A WAV cut short, or a rate below ``sr``, is no error: see
            :attr:`StreamInfo.warnings`.
    """
    path = Path(path)
    if sr <= 0 or block_s <= 0:
        raise SensingError(f"{path}: sr and block_s must be positive (got sr={sr}, block_s={block_s})")
    with _open_sound(path) as sound:
        length_warning = wav_length_warning(path)
        if sound.frames == 0:
            raise AudioError(f"{path}: empty audio (0 samples)")
        source_sr = int(sound.samplerate)
        info = StreamInfo(
            path=path,
            source_sr=source_sr,
            source_channels=int(sound.channels),
            duration_s=sound.frames / source_sr,
            format=f"{sound.format}/{sound.subtype}",
            warnings=tuple(w for w in (length_warning, _rate_warning(path, source_sr, sr)) if w),
        )
    return info, _mono_blocks(path, sr=sr, block_s=block_s)


def _rate_warning(path: Path, source_sr: int, sr: int) -> str | None:
    """None when ``source_sr`` (Hz) carries all a model at ``sr`` Hz hears; a warning when it
    carries less.

    Raises:
        AudioError: ``source_sr`` is below :data:`MIN_SOURCE_SR`.
    """
    if source_sr < MIN_SOURCE_SR:
        raise AudioError(
            f"{path}: sample rate {source_sr} Hz; at least {MIN_SOURCE_SR} Hz expected "
            f"(the model listens to {sr} Hz audio)"
        )
    if source_sr < sr:
        return (
            f"{path}: recorded at {source_sr} Hz, so it holds nothing above {source_sr // 2} Hz; the "
            f"model was made for {sr} Hz audio and may miss or mistake sounds (record at {sr} Hz or more)"
        )
    return None
