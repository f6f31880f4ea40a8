"""The numpy frontend is the one definition of the features; librosa is the reference."""

import librosa
import numpy as np
import pytest

from sensing.audio.features import (
    FeatureSettings,
    clip_features,
    delta,
    log_mel,
    mel_filterbank,
    window_starts,
)
from sensing.errors import SensingError

SETTINGS = FeatureSettings()


def _test_audio(seconds: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SETTINGS.sr)) / SETTINGS.sr
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def test_log_mel_matches_librosa():
    audio = _test_audio()
    reference = librosa.feature.melspectrogram(
        y=audio,
        sr=SETTINGS.sr,
        n_fft=SETTINGS.n_fft,
        hop_length=SETTINGS.hop_length,
        center=False,
        power=2.0,
        n_mels=SETTINGS.n_mels,
        fmin=SETTINGS.fmin,
        fmax=SETTINGS.fmax,
        htk=False,
        norm="slaney",
        window="hann",
    )
    expected = (np.log(reference.T + SETTINGS.log_floor) - SETTINGS.log_offset) / SETTINGS.log_scale
    ours = log_mel(audio, SETTINGS)
    assert ours.shape == expected.shape == (1 + (audio.size - 512) // 160, SETTINGS.n_mels)
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_mel_filterbank_matches_librosa():
    reference = librosa.filters.mel(
        sr=SETTINGS.sr, n_fft=SETTINGS.n_fft, n_mels=SETTINGS.n_mels, fmin=SETTINGS.fmin, fmax=SETTINGS.fmax
    )
    np.testing.assert_allclose(mel_filterbank(SETTINGS), reference, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("order", [1, 2])
def test_deltas_match_librosa(order):
    values = log_mel(_test_audio(), SETTINGS)
    expected = librosa.feature.delta(values.T, width=5, order=order, mode="nearest").T
    np.testing.assert_allclose(delta(values, order=order, width=5), expected, atol=1e-5)


def test_a_tone_peaks_in_the_right_mel_band():
    features = log_mel(_test_audio(), SETTINGS)
    centre_hz = librosa.mel_frequencies(n_mels=SETTINGS.n_mels + 2, fmin=SETTINGS.fmin, fmax=SETTINGS.fmax)[
        1:-1
    ]
    assert abs(centre_hz[np.argmax(features.mean(axis=0))] - 440) < 60


def test_windows_cover_a_whole_clip_and_short_clips_are_padded():
    features, start_s = clip_features(_test_audio(3.0), SETTINGS)
    assert features.shape[1:] == SETTINGS.input_shape == (96, SETTINGS.n_mels, 3)
    assert start_s[0] == 0.0
    assert start_s[-1] + SETTINGS.window_s == pytest.approx(3.0, abs=SETTINGS.hop_length / SETTINGS.sr)
    short, short_start = clip_features(_test_audio(0.3), SETTINGS)
    assert short.shape == (1, *SETTINGS.input_shape)
    assert short_start[0] < 0


def test_window_starts_are_regular_with_one_aligned_to_the_end():
    assert window_starts(95, SETTINGS).tolist() == []
    assert window_starts(96, SETTINGS).tolist() == [0]
    assert window_starts(200, SETTINGS).tolist() == [0, 48, 96, 104]


def test_invalid_settings_are_refused_with_the_reason():
    with pytest.raises(SensingError, match="fmax"):
        FeatureSettings(fmax=9000.0)
    with pytest.raises(SensingError, match="unknown feature settings"):
        FeatureSettings.from_dict({**SETTINGS.to_dict(), "n_bands": 40})


def _cough_in_room_noise(gain_db: float) -> np.ndarray:
    """A 1.2 s cough-like burst over room noise 30 dB below it, scaled by ``gain_db``."""
    rng = np.random.default_rng(5)
    t = np.arange(int(1.2 * SETTINGS.sr)) / SETTINGS.sr
    burst = rng.standard_normal(t.size) * np.exp(-(((t - 0.5) / 0.08) ** 2)) * 0.5
    noise = rng.standard_normal(t.size) * 0.5 * 10 ** (-30 / 20)
    return ((burst + noise) * 10 ** (gain_db / 20)).astype(np.float32)


def test_window_peak_features_do_not_depend_on_the_input_gain():
    loud, _ = clip_features(_cough_in_room_noise(-6.0), SETTINGS)
    quiet, _ = clip_features(_cough_in_room_noise(-46.0), SETTINGS)  # 40 dB quieter
    # the quietest bins (the noise, 30 dB down at -76 dBFS) are still far above the 1e-12 log floor
    np.testing.assert_allclose(quiet, loud, atol=1e-3)
    span = SETTINGS.normalised_span
    assert loud[..., 0].max() == pytest.approx(span / 2) and loud[..., 0].min() >= -span / 2


def test_absolute_features_follow_the_gain_and_old_metadata_reads_as_absolute():
    older = {
        "sr": 16000,
        "n_fft": 512,
        "hop_length": 160,
        "n_mels": 40,
        "fmin": 50.0,
        "fmax": 8000.0,
        "log_floor": 1e-6,
        "log_offset": -6.0,
        "log_scale": 4.0,
        "window_frames": 96,
        "window_hop_frames": 48,
        "delta_width": 5,
    }  # a model file's settings before `level`
    settings = FeatureSettings.from_dict(older)
    assert settings.level == "absolute"
    loud, _ = clip_features(_cough_in_room_noise(-6.0), settings)
    quiet, _ = clip_features(_cough_in_room_noise(-46.0), settings)
    # 40 dB of power is ln(10^4) = 9.2 in natural log, divided by log_scale, in the loud bins
    # (the quiet bins meet the 1e-6 floor, which is why these features fail at a bedside)
    loudest = loud[..., 0] > np.percentile(loud[..., 0], 90)
    assert np.median((loud[..., 0] - quiet[..., 0])[loudest]) == pytest.approx(
        9.21 / settings.log_scale, abs=0.05
    )
    with pytest.raises(SensingError, match="level must be one of"):
        FeatureSettings(level="loud")


def test_digital_silence_reads_as_quiet_not_as_loud():
    silence, _ = clip_features(np.zeros(SETTINGS.window_samples, dtype=np.float32), SETTINGS)
    loud, _ = clip_features(_cough_in_room_noise(-6.0), SETTINGS)
    assert np.all(silence[..., 0] < loud[..., 0].max() - 1.0)  # measured from peak_floor, not its own peak
    np.testing.assert_allclose(silence[..., 1:], 0.0, atol=1e-6)
