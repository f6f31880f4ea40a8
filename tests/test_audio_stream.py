"""Long recordings stream in fixed memory, resampled the same whatever the block size."""

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile

from sensing.audio.reading import load_audio
from sensing.audio.stream import StreamingResampler, open_audio_stream
from sensing.errors import AudioError

RATE_PAIRS = [(44100, 16000), (48000, 16000), (8000, 16000), (22050, 16000)]


def _resample_in_blocks(signal: np.ndarray, sizes, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Feed ``signal`` in consecutive blocks of the given sizes (the last repeats), then flush."""
    resampler = StreamingResampler(orig_sr=orig_sr, target_sr=target_sr)
    sizes = list(sizes)
    outputs, start = [], 0
    while start < signal.size:
        size = sizes.pop(0) if len(sizes) > 1 else sizes[0]
        outputs.append(resampler.process(signal[start : start + size]))
        start += size
    outputs.append(resampler.flush())
    assert all(out.dtype == np.float32 and out.ndim == 1 for out in outputs)
    return np.concatenate(outputs)


def _tone(sr: int, seconds: float, hz: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("orig_sr, target_sr", RATE_PAIRS)
def test_output_does_not_depend_on_block_sizes(orig_sr, target_sr):
    signal = np.random.default_rng(1).standard_normal(orig_sr // 4).astype(np.float32)
    whole = _resample_in_blocks(signal, [signal.size], orig_sr=orig_sr, target_sr=target_sr)
    uneven = [int(size) for size in np.random.default_rng(2).integers(0, 3000, size=20)] + [1000]
    for sizes in ([1], [100], [orig_sr * 10], uneven):
        pieces = _resample_in_blocks(signal, sizes, orig_sr=orig_sr, target_sr=target_sr)
        np.testing.assert_allclose(pieces, whole, rtol=0, atol=1e-6)


@pytest.mark.parametrize("orig_sr, target_sr", RATE_PAIRS)
def test_length_and_a_click_stays_at_its_time(orig_sr, target_sr):
    for n_in in (orig_sr, orig_sr + 1, orig_sr + 7, 3 * orig_sr // 2 + 3):
        signal = np.zeros(n_in, dtype=np.float32)
        signal[orig_sr // 2] = 1.0  # a click at 0.5 s
        out = _resample_in_blocks(signal, [997], orig_sr=orig_sr, target_sr=target_sr)
        assert abs(out.size - n_in * target_sr / orig_sr) <= 0.5
        assert np.argmax(out) == target_sr // 2


def test_equal_rates_pass_through():
    signal = np.random.default_rng(3).standard_normal(5000).astype(np.float32)
    out = _resample_in_blocks(signal, [123], orig_sr=16000, target_sr=16000)
    np.testing.assert_array_equal(out, signal)


@pytest.mark.parametrize("orig_sr, target_sr", RATE_PAIRS)
def test_in_band_sine_keeps_its_amplitude(orig_sr, target_sr):
    out = _resample_in_blocks(_tone(orig_sr, 1.0, 1000), [4096], orig_sr=orig_sr, target_sr=target_sr)
    middle = out[target_sr // 10 : -target_sr // 10]
    assert np.max(np.abs(middle)) == pytest.approx(0.5, rel=0.01)
    assert np.sqrt(2 * np.mean(middle.astype(np.float64) ** 2)) == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("orig_sr, hz", [(44100, 9000), (48000, 8500), (22050, 10000), (44100, 15000)])
def test_tone_above_the_new_nyquist_is_removed(orig_sr, hz):
    out = _resample_in_blocks(_tone(orig_sr, 1.0, hz), [4096], orig_sr=orig_sr, target_sr=16000)
    residual_rms = np.sqrt(np.mean(out.astype(np.float64) ** 2))
    assert 20 * np.log10(residual_rms / (0.5 / np.sqrt(2))) < -40


def test_stereo_flac_streams_like_load_audio(tmp_path):
    path = tmp_path / "night.flac"
    sr, seconds = 44100, 3.0
    t = np.arange(int(sr * seconds)) / sr
    chirp = 0.3 * np.sin(2 * np.pi * (100 * t + (5000 - 100) / (2 * seconds) * t**2))
    left = chirp + 0.2 * np.sin(2 * np.pi * 440 * t)
    right = chirp - 0.1 * np.sin(2 * np.pi * 2500 * t)
    soundfile.write(path, np.stack([left, right], axis=1), sr, subtype="PCM_24")

    info, blocks = open_audio_stream(path, sr=16000, block_s=0.25)
    assert (info.path, info.source_sr, info.source_channels) == (path, 44100, 2)
    assert info.duration_s == pytest.approx(seconds)
    assert info.format == "FLAC/PCM_24"
    streamed = list(blocks)
    assert len(streamed) > 10
    assert all(block.dtype == np.float32 and block.ndim == 1 for block in streamed)
    streamed = np.concatenate(streamed)

    loaded = load_audio(path, sr=16000).samples
    assert streamed.size == loaded.size == 48000
    edge = 1600  # 0.1 s: load_audio's FFT resampling wraps around at the ends
    np.testing.assert_allclose(streamed[edge:-edge], loaded[edge:-edge], atol=2e-3)


def _open_descriptors_to(path: Path) -> int:
    fd_dir = Path("/proc/self/fd")
    return sum(1 for fd in fd_dir.iterdir() if os.path.realpath(fd) == str(path.resolve()))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
def test_the_file_is_closed_when_the_stream_ends_or_is_closed(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, _tone(16000, 3.0, 440), 16000)
    _, blocks = open_audio_stream(path, sr=16000, block_s=1.0)
    next(blocks)
    assert _open_descriptors_to(path) == 1
    blocks.close()
    assert _open_descriptors_to(path) == 0
    _, blocks = open_audio_stream(path, sr=16000, block_s=1.0)
    assert sum(block.size for block in blocks) == 48000
    assert _open_descriptors_to(path) == 0


def test_missing_corrupt_empty_and_nan_files_are_named(tmp_path):
    with pytest.raises(AudioError, match="nowhere.wav: file not found"):
        open_audio_stream(tmp_path / "nowhere.wav", sr=16000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    with pytest.raises(AudioError, match=r"broken.wav: cannot read audio \(.+\)"):
        open_audio_stream(broken, sr=16000)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match=r"empty.wav: empty audio \(0 samples\)"):
        open_audio_stream(empty, sr=16000)
    nan = tmp_path / "nan.wav"
    samples = _tone(16000, 3.0, 440)
    samples[40000] = np.nan
    soundfile.write(nan, samples, 16000, subtype="FLOAT")
    _, blocks = open_audio_stream(nan, sr=16000, block_s=1.0)
    with pytest.raises(AudioError, match="nan.wav: audio contains NaN or infinite samples"):
        list(blocks)


def test_memory_stays_flat_on_a_long_recording(tmp_path):
    path = tmp_path / "twenty_minutes.wav"
    sr, minutes = 48000, 20
    minute = (0.1 * np.random.default_rng(4).standard_normal(60 * sr)).astype(np.float32)
    with soundfile.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as sound:
        for _ in range(minutes):
            sound.write(minute)
    del minute
    decoded_bytes = minutes * 60 * sr * 4  # the whole file as float32: 230 MB

    tracemalloc.start()
    try:
        info, blocks = open_audio_stream(path, sr=16000)
        n_out = sum(block.size for block in blocks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.duration_s == pytest.approx(minutes * 60)
    assert n_out == minutes * 60 * 16000
    assert peak < decoded_bytes / 10, f"peak {peak / 1e6:.0f} MB"
