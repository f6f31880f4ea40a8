"""Reading audio files into the frontend's format: mono float32 at one sample rate.

Whatever soundfile reads (WAV, FLAC, OGG, any bit depth and channel count) is
mixed down to mono and resampled. Problems come back as :class:`AudioError`
with the file name and the reason, never as a library traceback.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import soundfile

from sensing.audio.stream import check_audio_path, decoder_reason
from sensing.errors import AudioError

SILENCE_PEAK = 1e-4
"""Peak amplitude (full scale = 1) below which a clip counts as silent."""


@dataclasses.dataclass(frozen=True)
class AudioClip:
    """Audio ready for the frontend.

    Attributes:
        samples: 1-D float32 array in [-1, 1] at ``sr`` Hz.
        sr: sample rate in Hz.
        source_sr: the file's own sample rate in Hz.
        source_channels: the file's channel count before mixing to mono.
    """

    samples: np.ndarray
    sr: int
    source_sr: int
    source_channels: int

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sr


def resample(audio: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling of a whole clip through the FFT.

    Args:
        audio: 1-D float array at ``orig_sr`` Hz.
        orig_sr: its sample rate in Hz.
        target_sr: the wanted rate in Hz.

    Returns:
        float32 array of ``round(len(audio) * target_sr / orig_sr)`` samples.
        Content above the lower of the two Nyquist frequencies is removed.
    """
    if orig_sr == target_sr or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    n_out = max(1, int(round(audio.size * target_sr / orig_sr)))
    spectrum = np.fft.rfft(audio.astype(np.float64))
    n_keep = min(spectrum.size, n_out // 2 + 1)
    resized = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    resized[:n_keep] = spectrum[:n_keep]
    out = np.fft.irfft(resized, n=n_out) * (n_out / audio.size)
    return out.astype(np.float32)


def load_audio(path: str | Path, *, sr: int) -> AudioClip:
    """Read an audio file as mono float32 at ``sr`` Hz.

    Raises:
        AudioError: the file is missing, unreadable, empty or silent.
    """
    path = Path(path)
    check_audio_path(path)
    try:
        data, source_sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise AudioError(f"{path}: cannot read audio ({decoder_reason(error, path)})") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: empty audio (0 samples)")
    mono = data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    peak = float(np.max(np.abs(mono)))
    if peak < SILENCE_PEAK:
        raise AudioError(
            f"{path}: silent audio (peak amplitude {peak:.2g}, "
            f"at least {SILENCE_PEAK:g} of full scale expected)"
        )
    samples = resample(mono, orig_sr=source_sr, target_sr=sr)
    return AudioClip(samples=samples, sr=sr, source_sr=int(source_sr), source_channels=int(data.shape[1]))
