"""Streaming windows equal whole-clip windows, whatever the chunk size."""

import numpy as np
import pytest

from sensing.audio.features import FeatureSettings, band_level_db, clip_features, power_spectrum
from sensing.audio.model_input import clip_inputs, input_shape
from sensing.audio.streaming import StreamingWindows, stream_clip_inputs

SETTINGS = FeatureSettings()


@pytest.mark.parametrize("chunk", [1, 160, 777, 16000, 10 * 16000])
def test_streamed_windows_match_the_whole_clip(chunk):
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 * 5)).astype(np.float32)
    expected, starts = clip_features(audio, SETTINGS)
    stream = StreamingWindows(SETTINGS)
    windows = []
    for offset in range(0, audio.size, chunk):
        windows += stream.push(audio[offset : offset + chunk])
    # The whole-clip path adds one window aligned to the end; a stream cannot know the end.
    assert len(windows) == len(expected) - 1
    assert [w.start_s for w in windows] == pytest.approx(starts[:-1].tolist())
    np.testing.assert_allclose(np.stack([w.features for w in windows]), expected[:-1], atol=1e-5)
    levels = band_level_db(power_spectrum(audio, SETTINGS), SETTINGS)
    np.testing.assert_allclose(windows[2].frame_db, levels[96:192], atol=1e-4)
    assert stream.seconds_pushed == pytest.approx(5.0)


@pytest.mark.parametrize("frontend", ["leaf", "leaf-fast"])
def test_streamed_model_inputs_match_the_whole_clip_for_every_frontend(frontend):
    audio = (0.1 * np.random.default_rng(1).standard_normal(16000 * 3)).astype(np.float32)
    expected, _starts = clip_inputs(audio, frontend, SETTINGS)
    assert expected.shape[1:] == input_shape(frontend, SETTINGS)
    stream = StreamingWindows(SETTINGS, frontend)
    windows = []
    for offset in range(0, audio.size, 777):
        windows += stream.push(audio[offset : offset + 777])
    np.testing.assert_allclose(np.stack([w.features for w in windows]), expected[:-1], rtol=1e-6)
    if frontend == "leaf":  # raw audio windows are the recording's own samples
        hop = SETTINGS.window_hop_samples
        np.testing.assert_array_equal(windows[1].features, audio[hop : hop + SETTINGS.window_samples])


@pytest.mark.parametrize("frontend", ["mel", "leaf-fast"])
@pytest.mark.parametrize("seconds", [0.3, 0.982, 3.0, 3.25, 4.8])
def test_streamed_clip_windows_are_the_whole_clips_windows(frontend, seconds):
    """Short clips centred in zeros, and the window aligned to the end, as for the whole clip."""
    audio = (0.1 * np.random.default_rng(2).standard_normal(round(16000 * seconds))).astype(np.float32)
    expected, starts = clip_inputs(audio, frontend, SETTINGS)
    blocks = (audio[offset : offset + 7000] for offset in range(0, audio.size, 7000))
    streamed = list(stream_clip_inputs(blocks, frontend, SETTINGS))
    assert [start for start, _ in streamed] == pytest.approx(starts.tolist())
    np.testing.assert_allclose(np.stack([inputs for _, inputs in streamed]), expected, rtol=1e-5, atol=1e-5)


def test_the_level_counts_only_the_cough_band():
    """A 1 kHz tone reads at its level; 50 Hz mains hum and rumble below 300 Hz hardly move it."""
    t = np.arange(16000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    hum = (0.5 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    assert band_level_db(power_spectrum(tone, SETTINGS), SETTINGS) == pytest.approx(-9.03, abs=0.05)
    assert np.all(band_level_db(power_spectrum(hum, SETTINGS), SETTINGS) < -60)
