"""Radar tensors, breathing rate and views on small scenes generated here.

A scene is one point scatterer (the chest) at a known range moving by a known
displacement, a strong static reflector, and complex Gaussian noise, seen
through a Hann-windowed range FFT by ``n_rx`` receivers on boresight.
"""

import json

import numpy as np
import pytest
from conftest import run_python

from sensing.errors import RadarError, SensingError
from sensing.radar.breathing import (
    breathing_per_epoch,
    breathing_rate,
    estimate_breathing,
)
from sensing.radar.processing import (
    ClutterFilter,
    RadarFeatureSettings,
    epoch_tensors,
    range_doppler_time,
)
from sensing.radar.recording import (
    RadarConfig,
    Recording,
    write_epochs,
    write_recording,
)
from sensing.radar.view import write_views

SETTINGS = RadarFeatureSettings()
WAVELENGTH_M = 0.005


def hann_response(x: np.ndarray) -> np.ndarray:
    """Amplitude of a point target ``x`` bins away in a Hann-windowed range FFT (1 at 0)."""
    return np.sinc(x) + 0.5 * np.sinc(x - 1) + 0.5 * np.sinc(x + 1)


def write_scene(
    path,
    *,
    seconds=150.0,
    frame_rate_hz=15.0,
    n_rx=3,
    resolution_m=0.05,
    chest_m=1.013,
    rate_per_min=14.0,
    breath_m=0.003,
    chest=1.0,
    noise=1e-3,
    motion=None,
    seed=0,
):
    """Write a scene; ``motion(t)`` (metres) is added to the chest's breathing displacement."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * frame_rate_hz)) / frame_rate_hz
    chest_range = chest_m + breath_m * np.sin(2 * np.pi * rate_per_min / 60 * t)
    if motion is not None:
        chest_range = chest_range + motion(t)
    config = RadarConfig(
        frame_rate_hz=frame_rate_hz,
        range_resolution_m=resolution_m,
        range_offset_m=0.3,
        wavelength_m=WAVELENGTH_M,
        rx_spacing_m=0.0025,
        device="test scene",
    )
    bins_m = config.range_m(round(1.5 / resolution_m))
    profile = np.zeros((len(t), len(bins_m)), dtype=np.complex128)
    for amplitude, range_m in ((chest, chest_range), (3.0, np.full(len(t), 1.25))):
        profile += (
            amplitude
            * hann_response((bins_m[None, :] - range_m[:, None]) / resolution_m)
            * np.exp(-4j * np.pi * range_m[:, None] / WAVELENGTH_M)
        )
    iq = np.repeat(profile[:, None, :], n_rx, axis=1)
    iq += noise * (rng.standard_normal(iq.shape) + 1j * rng.standard_normal(iq.shape)) / np.sqrt(2)
    return write_recording(path, iq.astype(np.complex64), config)


# --- tensors -----------------------------------------------------------------------------------


def test_tensor_shape_dtype_and_edges(tmp_path):
    tensors = epoch_tensors(write_scene(tmp_path / "a.npz", seconds=160), SETTINGS, centre_m=1.0)
    assert SETTINGS.tensor_shape == (13, 25, 75)
    assert tensors.shape == (5, 13, 25, 75)  # 160 s: five whole epochs, the partial sixth has none
    assert tensors.dtype == np.float32
    np.testing.assert_allclose(SETTINGS.frequencies_hz()[[0, 1, -1]], [0.0, 0.125, 3.0])
    np.testing.assert_allclose(SETTINGS.rows_m(1.0)[[0, 6, -1]], [0.7, 1.0, 1.3])
    # epoch 0: context epochs -2 and -1 and its steps 0 and 1 (windows from -3 s and -1 s) are empty
    assert not tensors[0][:, :, :32].any() and tensors[0][:, :, 32:].all()
    # epoch 4 (120-150 s) sees steps 30-104; windows of steps 78 on ([153, 161) s) pass the end
    last = tensors[-1]
    assert last[:, :, :48].all() and not last[:, :, 48:].any()

    other = RadarFeatureSettings(
        range_window_m=0.4, stft_window_s=4.0, stft_hop_s=1.0, max_frequency_hz=2.0, context_epochs=3
    )
    assert epoch_tensors(tmp_path / "a.npz", other, centre_m=1.0).shape == (5, 9, 9, 90)


def test_time_alignment_of_a_motion_burst(tmp_path):
    def burst(t):  # 2 s of 1 Hz motion from 62 s: hop slot 31, in epoch 2 (60-90 s)
        return np.where((t >= 62) & (t < 64), 0.004 * np.sin(2 * np.pi * t), 0.0)

    path = write_scene(tmp_path / "burst.npz", breath_m=0.0, motion=burst)
    tensors = epoch_tensors(path, SETTINGS, centre_m=1.0)
    energy = np.expm1(tensors[2]).sum(axis=(0, 1))
    assert int(np.argmax(energy)) == 2 * 15 + 1  # after two context epochs, step 1 of epoch 2
    assert int(np.argmax(np.expm1(tensors[3]).sum(axis=(0, 1)))) == 15 + 1


@pytest.mark.parametrize("frame_rate_hz", [15.0, 20.0])
def test_chunked_processing_equals_whole_file(tmp_path, frame_rate_hz):
    path = write_scene(tmp_path / "a.npz", seconds=100, frame_rate_hz=frame_rate_hz, noise=0.05)
    with Recording(path) as recording:
        whole = list(
            range_doppler_time(recording, SETTINGS, centre_m=1.0, frames_per_chunk=recording.n_frames)
        )
        for chunk in (1, 13, 997):
            chunked = list(range_doppler_time(recording, SETTINGS, centre_m=1.0, frames_per_chunk=chunk))
            assert [epoch for epoch, _ in chunked] == [epoch for epoch, _ in whole] == [0, 1, 2]
            for (_, a), (_, b) in zip(chunked, whole):
                np.testing.assert_array_equal(a, b)  # bit for bit


def test_clutter_filter_chunks_and_reset():
    frames = np.random.default_rng(1).standard_normal((50, 2, 4)).astype(np.complex64) + 3.0
    whole = ClutterFilter(time_constant_s=1.0, frame_rate_hz=15.0)
    expected = whole(frames)
    assert not expected[0].any()
    pieces = ClutterFilter(time_constant_s=1.0, frame_rate_hz=15.0)
    np.testing.assert_array_equal(np.concatenate([pieces(frames[:7]), pieces(frames[7:])]), expected)
    pieces.reset()
    np.testing.assert_array_equal(pieces(frames), expected)


def _middle_epoch(tmp_path, name, **scene) -> np.ndarray:
    """The tensor of epoch 2 of a 150 s scene: full context, no edge."""
    return epoch_tensors(write_scene(tmp_path / f"{name}.npz", **scene), SETTINGS, centre_m=1.0)[2]


@pytest.mark.parametrize("change", [{"frame_rate_hz": 20.0}, {"n_rx": 1}])
def test_frame_rate_and_receivers_do_not_change_the_tensor(tmp_path, change):
    reference = _middle_epoch(tmp_path, "reference")
    other = _middle_epoch(tmp_path, "other", seed=1, **change)
    difference = np.abs(other - reference)
    strong = reference > reference.max() - 5  # within about 22 dB of the peak
    # tolerance: log1p units; the two scenes differ only by their noise draw (and its level)
    assert difference.mean() < 0.1
    assert difference[strong].max() < 0.1


def test_range_resolution_changes_the_tensor_little(tmp_path):
    reference = _middle_epoch(tmp_path, "reference")
    finer = _middle_epoch(tmp_path, "finer", seed=1, resolution_m=0.027)
    difference = np.abs(finer - reference)
    # A 2.7 cm radar resolves the chest into a narrower peak, so rows 5 and 10 cm from it differ
    # more; the chest's row and the overall pattern agree.
    assert difference[6].mean() < 0.6
    assert difference.mean() < 1.0
    assert np.corrcoef(finer.ravel(), reference.ravel())[0, 1] > 0.95


# --- breathing ---------------------------------------------------------------------------------


def test_breathing_rate_is_recovered(tmp_path):
    path = write_scene(tmp_path / "b.npz", seconds=90, rate_per_min=14.0, noise=0.05)
    with Recording(path) as recording:
        estimate = breathing_rate(recording)
        per_epoch = breathing_per_epoch(recording)
    assert estimate.rate_per_min == pytest.approx(14.0, abs=1.0)
    assert estimate.confidence > 0.8 and estimate.confident
    assert estimate.range_m == pytest.approx(1.0, abs=0.03)
    assert [e.start_s for e in per_epoch] == [0.0, 15.0, 45.0]
    assert [e.seconds for e in per_epoch] == pytest.approx([45.0, 60.0, 45.0])
    assert all(abs(e.rate_per_min - 14.0) < 1.0 and e.confident for e in per_epoch)


def test_breathing_at_20_hz_on_one_receiver(tmp_path):
    path = write_scene(
        tmp_path / "b.npz",
        seconds=60,
        frame_rate_hz=20.0,
        n_rx=1,
        rate_per_min=9.0,
        breath_m=0.001,
        noise=0.05,
    )
    with Recording(path) as recording:
        estimate = breathing_rate(recording, bins=range(10, 20), start_s=10.0, seconds=40.0)
    assert estimate.rate_per_min == pytest.approx(9.0, abs=1.0) and estimate.confident
    assert estimate.start_s == 10.0 and estimate.seconds == 40.0


def test_noise_alone_is_not_breathing(tmp_path):
    path = write_scene(tmp_path / "empty.npz", seconds=90, chest=0.0, noise=0.05)
    with Recording(path) as recording:
        estimate = breathing_rate(recording)
    assert estimate.confidence < 0.3 and not estimate.confident
    assert "no person" in estimate.note


def test_movement_is_flagged(tmp_path):
    def turn_over(t):  # the chest moves 8 cm away in a few seconds
        return 0.08 / (1 + np.exp(-(t - 45) / 2))

    path = write_scene(tmp_path / "turn.npz", seconds=90, noise=0.05, motion=turn_over)
    with Recording(path) as recording:
        estimate = breathing_rate(recording)
    assert estimate.confidence == 0.0 and not estimate.confident
    assert estimate.note.startswith("movement")


def test_breathing_rejects_a_short_span(tmp_path):
    path = write_scene(tmp_path / "b.npz", seconds=30)
    with Recording(path) as recording:
        with pytest.raises(RadarError, match="needs at least 20 s"):
            breathing_rate(recording, start_s=15.0)
        with pytest.raises(RadarError, match="bins must be"):
            estimate_breathing(recording.read(), recording.config, bins=[500])


# --- views -------------------------------------------------------------------------------------


def test_views_are_written(tmp_path):
    path = write_scene(tmp_path / "night.npz", seconds=120, frame_rate_hz=20.0, noise=0.05)
    write_epochs(tmp_path / "night.epochs.csv", ["absent", "awake", "asleep", "asleep"])
    paths = write_views(path, tmp_path / "views")
    assert [p.name for p in paths] == ["range_time.png", "frequency_time.png"]
    for png in paths:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert 20_000 < png.stat().st_size < 3_000_000


def test_views_without_matplotlib_say_how_to_install(tmp_path):
    path = write_scene(tmp_path / "night.npz", seconds=40)
    result = run_python(
        f"""
        from sensing.errors import SensingError
        from sensing.radar.view import write_views
        try:
            write_views({str(path)!r}, {str(tmp_path / "views")!r})
        except SensingError as error:
            print(error)
    """,
        block=("matplotlib",),
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'sensing[plot]'" in result.stdout


def test_processing_needs_numpy_only(tmp_path):
    path = write_scene(tmp_path / "a.npz", seconds=60)
    result = run_python(
        f"""
        import json
        from sensing.radar.breathing import breathing_rate
        from sensing.radar.processing import RadarFeatureSettings, epoch_tensors
        from sensing.radar.recording import Recording
        tensors = epoch_tensors({str(path)!r}, RadarFeatureSettings(), centre_m=1.0)
        with Recording({str(path)!r}) as recording:
            rate = breathing_rate(recording).rate_per_min
        print(json.dumps({{"shape": list(tensors.shape), "rate": round(rate),
                          "loaded": sorted(m for m in ("matplotlib", "scipy", "tensorflow")
                                           if m in sys.modules)}}))
    """,
        block=("matplotlib", "scipy", "tensorflow"),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"shape": [2, 13, 25, 75], "rate": 14, "loaded": []}


# --- malformed input ---------------------------------------------------------------------------


def test_a_recording_shorter_than_one_stft_window_is_refused(tmp_path):
    path = write_scene(tmp_path / "short.npz", seconds=5)
    with pytest.raises(RadarError, match=r"short.npz: 5.0 s recorded .* shorter than one STFT window"):
        epoch_tensors(path, SETTINGS, centre_m=1.0)
    with pytest.raises(RadarError, match="shorter than one epoch"):
        epoch_tensors(write_scene(tmp_path / "20s.npz", seconds=20), SETTINGS, centre_m=1.0)
    with pytest.raises(RadarError, match="too short for one whole 8 s STFT window"):
        write_views(path, tmp_path / "views", centre_m=1.0)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"max_frequency_hz": 8.0}, "max_frequency_hz 8 Hz must be below the Nyquist frequency 7.5 Hz"),
        ({"frame_rate_hz": 5.0}, "max_frequency_hz 3 Hz must be below the Nyquist frequency 2.5 Hz"),
        ({"context_epochs": 4}, "context_epochs must be an odd integer"),
        ({"range_window_m": 0.62}, "whole number of range_step_m"),
        ({"stft_hop_s": 4.0}, "epoch_s 30 s must be a whole number of stft_hop_s 4 s"),
        ({"power_ref": 0.0}, "power_ref must be a positive number"),
    ],
)
def test_bad_settings_are_refused(values, message):
    with pytest.raises(RadarError, match=message):
        RadarFeatureSettings(**values)


def test_settings_round_trip_and_unknown_keys():
    assert RadarFeatureSettings.from_dict(SETTINGS.to_dict()) == SETTINGS
    with pytest.raises(RadarError, match="unknown radar feature settings"):
        RadarFeatureSettings.from_dict({"frame_rate": 15})


def test_rows_outside_the_recording_and_slow_frame_rates_are_refused(tmp_path):
    path = write_scene(tmp_path / "a.npz", seconds=40)
    with pytest.raises(RadarError, match=r"rows 1.500 to 2.100 m lie outside .*\(0.300 to 1.750 m\)"):
        epoch_tensors(path, SETTINGS, centre_m=1.8)
    slow = write_scene(tmp_path / "slow.npz", seconds=40, frame_rate_hz=6.0)
    with pytest.raises(RadarError, match="6 Hz frames are resampled to 15 Hz and then resolve up to 2.1 Hz"):
        epoch_tensors(slow, SETTINGS, centre_m=1.0)
    assert isinstance(RadarError("x"), SensingError)
