"""Audio of any format, rate and channel count becomes 16 kHz mono, or a clear error."""

import numpy as np
import pytest
import soundfile

from sensing.audio.reading import load_audio, resample
from sensing.errors import AudioError


def _tone(sr: int, seconds: float, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_stereo_44k_flac_becomes_16k_mono_with_the_same_pitch(tmp_path):
    path = tmp_path / "stereo.flac"
    tone = _tone(44100, 1.5)
    soundfile.write(path, np.stack([tone, tone], axis=1), 44100, subtype="PCM_24")
    clip = load_audio(path, sr=16000)
    assert clip.samples.ndim == 1 and clip.samples.dtype == np.float32
    assert clip.samples.size == 24000
    assert (clip.source_sr, clip.source_channels) == (44100, 2)
    spectrum = np.abs(np.fft.rfft(clip.samples))
    assert np.argmax(spectrum) * 16000 / clip.samples.size == pytest.approx(1000, abs=2)


def test_resampling_keeps_amplitude():
    out = resample(_tone(8000, 1.0, hz=300), orig_sr=8000, target_sr=16000)
    assert out.size == 16000
    assert np.max(np.abs(out[1000:-1000])) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"this is not audio at all", "cannot read audio"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "cannot read audio"),
    ],
)
def test_corrupt_files_are_named_with_the_reason(tmp_path, content, message):
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=f"broken.wav: {message}"):
        load_audio(path, sr=16000)


def test_empty_silent_and_missing_files(tmp_path):
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match=r"empty.wav: empty audio \(0 samples\)"):
        load_audio(empty, sr=16000)
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(16000, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="silent.wav: silent audio"):
        load_audio(silent, sr=16000)
    with pytest.raises(AudioError, match="nowhere.wav: file not found"):
        load_audio(tmp_path / "nowhere.wav", sr=16000)
