"""Converters from other radars' data: FMCW ADC cubes and Acconeer HDF5 files, good and malformed."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from sensing.errors import RadarError, SensingError
from sensing.radar.acconeer import (
    ACCONEER_WAVELENGTH_M,
    convert_acconeer,
    describe_acconeer,
)
from sensing.radar.adc import (
    SPEED_OF_LIGHT_M_S,
    ChirpSettings,
    convert_adc_cube,
    range_profiles,
)
from sensing.radar.recording import Recording

h5py = pytest.importorskip("h5py")

SETTINGS = ChirpSettings(
    start_frequency_hz=60e9,
    bandwidth_hz=4e9,
    ramp_time_s=64e-6,
    adc_rate_hz=2.5e6,
    frame_rate_hz=20.0,
    rx_spacing_m=0.0025,
    device="test fmcw",
)
N_SAMPLES = 128
TARGET_M = 1.2
STEP_M = 3e-4
"""Distance the target moves away between two frames."""
ANGLE_RAD = np.deg2rad(20.0)


def _adc_cube(*, complex_samples: bool = False, frames: int = 20, seed: int = 0) -> np.ndarray:
    """(frames, 4 chirps, 3 rx, 128 samples): one point target at TARGET_M moving STEP_M per frame."""
    t = np.arange(N_SAMPLES) / SETTINGS.adc_rate_hz
    range_m = (TARGET_M + STEP_M * np.arange(frames))[:, None, None, None]
    rx_phase = (
        2
        * np.pi
        * SETTINGS.rx_spacing_m
        * np.sin(ANGLE_RAD)
        * np.arange(3)
        / SETTINGS.wavelength_m(N_SAMPLES)
    )[None, None, :, None]
    beat_hz = 2 * range_m * SETTINGS.slope_hz_per_s / SPEED_OF_LIGHT_M_S
    phase = (
        2 * np.pi * beat_hz * t
        + 4 * np.pi * range_m * SETTINGS.start_frequency_hz / SPEED_OF_LIGHT_M_S
        + rx_phase
    )
    shape = (frames, 4, 3, N_SAMPLES)
    noise = np.random.default_rng(seed).normal(0.0, 5.0, shape)
    if complex_samples:
        return (np.broadcast_to(1000 * np.exp(1j * phase), shape) + noise).astype(np.complex64)
    return np.round(np.broadcast_to(1000 * np.cos(phase), shape) + noise).astype(np.int16)


@pytest.mark.parametrize("complex_samples, n_bins", [(False, 64), (True, 128)])
def test_adc_cube_gives_the_target_range_and_its_phase_motion(tmp_path, complex_samples, n_bins):
    path = convert_adc_cube(_adc_cube(complex_samples=complex_samples), SETTINGS, tmp_path / "fmcw.npz")
    with Recording(path) as recording:
        iq, config = recording.read(), recording.config
    assert iq.shape == (20, 3, n_bins) and iq.dtype == np.complex64
    resolution_m = SPEED_OF_LIGHT_M_S / (2 * 4e9 / 64e-6 * N_SAMPLES / 2.5e6)
    assert config.range_resolution_m == pytest.approx(resolution_m)
    assert config.range_offset_m == 0.0
    assert config.wavelength_m == pytest.approx(SPEED_OF_LIGHT_M_S / (60e9 + 1.6e9))
    assert (config.frame_rate_hz, config.rx_spacing_m, config.device) == (20.0, 0.0025, "test fmcw")
    peak = int(np.abs(iq).mean(axis=(0, 1)).argmax())
    assert abs(config.range_m(n_bins)[peak] - TARGET_M) <= config.range_resolution_m
    phase_step = np.diff(np.unwrap(np.angle(iq[:, :, peak]), axis=0), axis=0)
    np.testing.assert_allclose(phase_step, 4 * np.pi * STEP_M / config.wavelength_m, atol=5e-3)
    rx_step = np.angle(iq[:, 1:, peak] * np.conj(iq[:, :-1, peak]))
    np.testing.assert_allclose(
        rx_step, 2 * np.pi * 0.0025 * np.sin(ANGLE_RAD) / config.wavelength_m, atol=5e-3
    )


def test_chunked_conversion_from_npy_equals_whole_array(tmp_path):
    cube = _adc_cube(frames=23)
    np.save(tmp_path / "cube.npy", cube)
    convert_adc_cube(tmp_path / "cube.npy", SETTINGS, tmp_path / "chunked.npz", n_bins=40, frames_per_chunk=5)
    convert_adc_cube(cube, SETTINGS, tmp_path / "whole.npz", n_bins=40, frames_per_chunk=100)
    with Recording(tmp_path / "chunked.npz") as chunked, Recording(tmp_path / "whole.npz") as whole:
        assert chunked.config == whole.config
        np.testing.assert_array_equal(chunked.read(), whole.read())
        np.testing.assert_array_equal(whole.read(), range_profiles(cube, SETTINGS, n_bins=40))


def _nan_cube() -> np.ndarray:
    cube = _adc_cube(frames=6).astype(np.float32)
    cube[3, 1, 0, 7] = np.nan
    return cube


@pytest.mark.parametrize(
    "cube, n_bins, message",
    [
        (np.zeros((4, 2, 3, 16), dtype=bool), None, "integers, floats or complex, got bool"),
        (np.zeros((4, 3, 16), dtype=np.int16), None, r"\(frames, chirps, rx, samples\), got \(4, 3, 16\)"),
        (_nan_cube(), None, "frame 3 holds NaN"),
        (np.zeros((4, 2, 3, 16), dtype=np.int16), 9, "n_bins must be an integer from 1 to 8"),
        (np.zeros((4, 2, 3, 256), dtype=np.int16), None, r"256 samples .* longer than the 6.4e-05 s ramp"),
    ],
)
def test_malformed_adc_cube_is_named(cube, n_bins, message):
    with pytest.raises(RadarError, match=message):
        range_profiles(cube, SETTINGS, n_bins=n_bins)


def test_nan_frame_in_a_chunked_conversion_is_named_and_leaves_no_file(tmp_path):
    with pytest.raises(RadarError, match="ADC cube: frame 3 holds NaN"):
        convert_adc_cube(_nan_cube(), SETTINGS, tmp_path / "nan.npz", frames_per_chunk=2)
    assert not (tmp_path / "nan.npz").exists()


def test_bad_chirp_settings_and_missing_npy_are_named(tmp_path):
    with pytest.raises(RadarError, match="bandwidth_hz must be a positive number, got -4"):
        ChirpSettings(
            start_frequency_hz=60e9,
            bandwidth_hz=-4e9,
            ramp_time_s=64e-6,
            adc_rate_hz=2.5e6,
            frame_rate_hz=20.0,
            rx_spacing_m=0.0,
            device="x",
        )
    with pytest.raises(RadarError, match="absent.npy: ADC cube not found"):
        convert_adc_cube(tmp_path / "absent.npy", SETTINGS, tmp_path / "out.npz")
    (tmp_path / "text.npy").write_text("not an array")
    with pytest.raises(RadarError, match="text.npy: not a readable .npy array"):
        convert_adc_cube(tmp_path / "text.npy", SETTINGS, tmp_path / "out.npz")


# Acconeer fixtures: small files with the group names, dtypes and JSON keys of Exploration Tool files.
BASE_STEP_M = 0.00250227400101721


def _subsweep(
    start_point: int, num_points: int, *, step_length: int = 24, profile: int = 3, hwaas: int = 32
) -> dict:
    return {
        "start_point": start_point,
        "num_points": num_points,
        "step_length": step_length,
        "profile": f"PROFILE_{profile}",
        "hwaas": hwaas,
        "receiver_gain": 16,
        "enable_tx": True,
        "enable_loopback": False,
        "phase_enhancement": False,
        "prf": "PRF_15_6_MHz",
    }


def _a121_frames(frames: int, points: int, target_point: int, *, seed: int = 0) -> np.ndarray:
    """(frames, 4 sweeps, points) complex: a target peaking at ``target_point``, moving in phase."""
    rng = np.random.default_rng(seed)
    envelope = 2000 * np.exp(-0.5 * ((np.arange(points) - target_point) / 1.5) ** 2)
    phase = 0.3 * np.arange(frames)[:, None, None]
    samples = (
        envelope * np.exp(1j * phase)
        + rng.normal(0, 20, (frames, 4, points))
        + 1j * rng.normal(0, 20, (frames, 4, points))
    )
    return np.round(samples)


def _write_a121(
    path,
    samples: np.ndarray,
    subsweeps: list[dict],
    *,
    frame_rate: float | None = 20.0,
    metadata: dict | None = None,
    ticks: np.ndarray | None = None,
    entries: int = 1,
):
    compound = np.empty(samples.shape, dtype=[("real", "<i2"), ("imag", "<i2")])
    compound["real"], compound["imag"] = samples.real, samples.imag
    sensor_config = {
        "sweep_rate": None,
        "frame_rate": frame_rate,
        "sweeps_per_frame": samples.shape[1],
        "inter_frame_idle_state": "DEEP_SLEEP",
        "subsweeps": subsweeps,
    }
    with h5py.File(path, "w") as file:
        file["generation"] = "a121"
        file["lib_version"] = "7.0.3"
        file["server_info"] = json.dumps(
            {"rss_version": "a121-v1.0.0", "sensor_count": 5, "ticks_per_second": 1000000}
        )
        session = file.create_group("sessions/session_0")
        session["session_config"] = json.dumps(
            {"groups": [{"1": sensor_config}], "extended": False, "update_rate": None}
        )
        for index in range(entries):
            entry = session.create_group(f"group_0/entry_{index}")
            entry["metadata"] = json.dumps(
                metadata
                if metadata is not None
                else {
                    "frame_data_length": samples[0].size,
                    "sweep_data_length": samples.shape[2],
                    "base_step_length_m": BASE_STEP_M,
                }
            )
            entry["sensor_id"] = 1
            entry["result/frame"] = compound
            entry["result/tick"] = ticks if ticks is not None else 94316858 + 50000 * np.arange(len(samples))
            entry["result/data_saturated"] = np.zeros(len(samples), dtype=bool)
        file["session"] = h5py.SoftLink("/sessions/session_0")
    return path


def _write_a111(
    path,
    data: np.ndarray,
    *,
    mode: str,
    update_rate: float | None = 10.0,
    session_info: dict | None = None,
    sensors: tuple[int, ...] = (1,),
):
    config = {
        "mode": mode.upper(),
        "sensor": list(sensors),
        "range_interval": [0.4, 0.8],
        "profile": "PROFILE_2",
        "update_rate": update_rate,
        "sweeps_per_frame": 16,
    }
    with h5py.File(path, "w") as file:
        file["data"] = data
        file["mode"] = mode
        file["sensor_config_dump"] = json.dumps(config)
        file["session_info"] = json.dumps(
            session_info
            if session_info is not None
            else {"range_start_m": 0.4, "range_length_m": 0.4, "step_length_m": 0.000484}
        )
        file["sample_times"] = 1.6394745e9 + 0.1 * np.arange(data.shape[0])
    return path


def test_a121_file_becomes_one_range_profile_per_frame(tmp_path):
    samples = _a121_frames(12, 21, target_point=8)
    path = _write_a121(tmp_path / "a121.h5", samples, [_subsweep(119, 21)])
    out = convert_acconeer(path, tmp_path / "a121.npz")
    with Recording(out) as recording:
        iq, config = recording.read(), recording.config
    assert iq.shape == (12, 1, 21) and iq.dtype == np.complex64
    np.testing.assert_allclose(iq[:, 0], samples.mean(axis=1), atol=1e-3)
    assert config.frame_rate_hz == 20.0
    assert config.range_offset_m == pytest.approx(119 * BASE_STEP_M)
    assert config.range_resolution_m == pytest.approx(24 * BASE_STEP_M)
    assert config.wavelength_m == pytest.approx(ACCONEER_WAVELENGTH_M) == pytest.approx(4.955e-3, abs=1e-5)
    assert (config.rx_spacing_m, config.device) == (0.0, "acconeer a121 sparse iq, profile 3")
    assert int(np.abs(iq).mean(axis=(0, 1)).argmax()) == 8
    description = describe_acconeer(path)
    assert description["layout"] == "a121"
    assert description["entries"]["session_0/group_0/entry_0"]["frames"] == 12


def test_a121_rate_from_ticks_and_default_base_step(tmp_path):
    samples = _a121_frames(10, 5, target_point=2)
    path = _write_a121(
        tmp_path / "free.h5",
        samples,
        [_subsweep(200, 5)],
        frame_rate=None,
        metadata={},
        ticks=1000 + 80000 * np.arange(10),
    )
    with Recording(convert_acconeer(path, tmp_path / "free.npz")) as recording:
        assert recording.config.frame_rate_hz == pytest.approx(12.5)
        assert recording.config.range_offset_m == pytest.approx(200 * 2.5e-3)


def test_a121_subsweeps_join_only_when_they_continue_one_range(tmp_path):
    samples = _a121_frames(6, 10, target_point=6)
    joined = _write_a121(tmp_path / "joined.h5", samples, [_subsweep(100, 4), _subsweep(196, 6)])
    with Recording(convert_acconeer(joined, tmp_path / "joined.npz")) as recording:
        assert recording.n_bins == 10
        assert recording.config.range_offset_m == pytest.approx(100 * BASE_STEP_M)
    apart = _write_a121(
        tmp_path / "apart.h5", samples, [_subsweep(100, 4), _subsweep(300, 6, step_length=48, profile=5)]
    )
    with pytest.raises(RadarError, match="subsweeps 0 and 1 differ in profile, step_length.*--subsweep N"):
        convert_acconeer(apart, tmp_path / "apart.npz")
    with Recording(convert_acconeer(apart, tmp_path / "second.npz", subsweep=1)) as recording:
        assert recording.n_bins == 6
        assert recording.config.range_offset_m == pytest.approx(300 * BASE_STEP_M)
        assert recording.config.range_resolution_m == pytest.approx(48 * BASE_STEP_M)
        assert recording.config.device == "acconeer a121 sparse iq, profile 5"
        np.testing.assert_allclose(recording.read()[:, 0], samples[:, :, 4:].mean(axis=1), atol=1e-3)
    with pytest.raises(RadarError, match="subsweep must be 0 to 1, got 2"):
        convert_acconeer(apart, tmp_path / "x.npz", subsweep=2)


def test_a111_iq_file_keeps_complex_profiles(tmp_path):
    rng = np.random.default_rng(1)
    depths = np.arange(827)
    data = (
        60 * np.exp(-0.5 * ((depths - 300) / 4.0) ** 2) * np.exp(1j * depths / 5)
        + rng.normal(0, 1, (15, 1, 827))
        + 1j * rng.normal(0, 1, (15, 1, 827))
    )
    path = _write_a111(tmp_path / "iq.h5", data.astype(np.complex128), mode="iq")
    with Recording(convert_acconeer(path, tmp_path / "iq.npz")) as recording:
        iq, config = recording.read(), recording.config
    assert iq.shape == (15, 1, 827) and iq.dtype == np.complex64
    np.testing.assert_allclose(iq[:, 0], data[:, 0], rtol=1e-5, atol=1e-4)
    assert (config.frame_rate_hz, config.range_offset_m, config.range_resolution_m) == (10.0, 0.4, 0.000484)
    assert config.wavelength_m == pytest.approx(ACCONEER_WAVELENGTH_M)
    assert config.device == "acconeer a111 iq, profile 2"
    peak_m = config.range_m(827)[np.abs(iq).mean(axis=(0, 1)).argmax()]
    assert peak_m == pytest.approx(0.4 + 300 * 0.000484, abs=0.000484)


def test_a111_sparse_file_averages_real_sweeps(tmp_path):
    rng = np.random.default_rng(2)
    bump = 1500 * np.exp(-0.5 * ((np.arange(17) - 12) / 1.0) ** 2)
    data = np.round(30000 + bump + rng.normal(0, 30, (8, 1, 16, 17))).astype(np.uint16)
    path = _write_a111(
        tmp_path / "sparse.h5", data, mode="sparse", update_rate=None, session_info={"range_length_m": 2.0}
    )
    with Recording(convert_acconeer(path, tmp_path / "sparse.npz")) as recording:
        iq, config = recording.read(), recording.config
    assert iq.shape == (8, 1, 17)
    np.testing.assert_allclose(iq[:, 0].real, data[:, 0].mean(axis=1), rtol=1e-6)
    assert not iq.imag.any()
    assert "sparse (real samples, imaginary part zero)" in config.device
    assert config.frame_rate_hz == pytest.approx(10.0)  # from sample_times
    assert config.range_offset_m == 0.4 and config.range_resolution_m == pytest.approx(0.4 / 16)
    assert int(np.abs(iq).mean(axis=(0, 1)).argmax()) == 12


def test_entry_must_be_named_when_a_file_holds_several(tmp_path):
    data = np.ones((5, 2, 30), dtype=np.complex128)
    data[:, 1] *= 2
    path = _write_a111(tmp_path / "two.h5", data, mode="iq", sensors=(1, 3))
    with pytest.raises(
        RadarError,
        match=r"holds 2 entries \(sensor_1, sensor_3\); choose one \(sensing radar convert --entry NAME",
    ):
        convert_acconeer(path, tmp_path / "two.npz")
    with pytest.raises(RadarError, match="no entry 'sensor_2'"):
        convert_acconeer(path, tmp_path / "two.npz", entry="sensor_2")
    with Recording(convert_acconeer(path, tmp_path / "two.npz", entry="sensor_3")) as recording:
        np.testing.assert_array_equal(recording.read(), np.full((5, 1, 30), 2, dtype=np.complex64))
    entries = _write_a121(tmp_path / "entries.h5", _a121_frames(3, 4, 1), [_subsweep(100, 4)], entries=2)
    assert list(describe_acconeer(entries)["entries"]) == [
        "session_0/group_0/entry_0",
        "session_0/group_0/entry_1",
    ]


def test_malformed_acconeer_files_are_named(tmp_path):
    with pytest.raises(RadarError, match="absent.h5: Acconeer recording not found"):
        convert_acconeer(tmp_path / "absent.h5", tmp_path / "out.npz")
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(RadarError, match="text.h5: not an HDF5 file"):
        describe_acconeer(tmp_path / "text.h5")
    with h5py.File(tmp_path / "other.h5", "w") as file:
        file["radar_cube"] = np.zeros(3)
        file["settings"] = "{}"
    with pytest.raises(RadarError, match="not an Acconeer layout.*found top-level keys radar_cube, settings"):
        convert_acconeer(tmp_path / "other.h5", tmp_path / "out.npz")
    envelope = _write_a111(tmp_path / "envelope.h5", np.ones((4, 1, 10)), mode="envelope")
    with pytest.raises(RadarError, match="A111 mode 'envelope' is not supported"):
        convert_acconeer(envelope, tmp_path / "out.npz")
    flat = _write_a111(tmp_path / "flat.h5", np.ones((4, 10), dtype=np.complex128), mode="iq")
    with pytest.raises(RadarError, match=r"must have shape \(frames, sensors, depths\), got \(4, 10\)"):
        convert_acconeer(flat, tmp_path / "out.npz")
    real_iq = _write_a111(tmp_path / "real_iq.h5", np.ones((4, 1, 10)), mode="iq")
    with pytest.raises(RadarError, match="A111 iq data must be complex, got float64"):
        convert_acconeer(real_iq, tmp_path / "out.npz")
    short = _write_a121(tmp_path / "short.h5", _a121_frames(3, 4, 1), [_subsweep(100, 5)])
    with pytest.raises(
        RadarError,
        match=r"result/frame has shape \(3, 4, 4\), the config expects "
        r"\(frames, 4 sweeps, 5 points\)",
    ):
        convert_acconeer(short, tmp_path / "out.npz")


def test_missing_h5py_gives_install_advice(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(SensingError, match="pip install h5py"):
        convert_acconeer(tmp_path / "any.h5", tmp_path / "out.npz")


def _replace(file, key: str, value) -> None:
    """Put ``value`` at ``key`` in an open HDF5 file, whatever was there."""
    if key in file or file.get(key, getlink=True) is not None:
        del file[key]
    file[key] = value


def _edit_json(file, key: str, edit) -> None:
    """Rewrite the JSON text dataset ``key`` with ``edit(values)`` applied."""
    values = json.loads(file[key][()])
    edit(values)
    _replace(file, key, json.dumps(values))


ENTRY = "sessions/session_0/group_0/entry_0"
SESSION_CONFIG = "sessions/session_0/session_config"


def _sensor_config(values: dict) -> dict:
    return values["groups"][0]["1"]


A121_DAMAGE = {
    "sensor_id as text": (
        lambda f: _replace(f, f"{ENTRY}/sensor_id", "1"),
        "sensor_id must be an integer, got b'1'",
    ),
    "subsweeps an integer": (
        lambda f: _edit_json(f, SESSION_CONFIG, lambda v: _sensor_config(v).update(subsweeps=5)),
        "'subsweeps' must be a non-empty list, got 5",
    ),
    "subsweeps as text": (
        lambda f: _edit_json(f, SESSION_CONFIG, lambda v: _sensor_config(v).update(subsweeps="abc")),
        "'subsweeps' must be a non-empty list, got 'abc'",
    ),
    "subsweeps of numbers": (
        lambda f: _edit_json(f, SESSION_CONFIG, lambda v: _sensor_config(v).update(subsweeps=[1, 2])),
        "subsweep 0 must be a JSON object, got 1",
    ),
    "frame_rate as text": (
        lambda f: _edit_json(f, SESSION_CONFIG, lambda v: _sensor_config(v).update(frame_rate="fast")),
        "'frame_rate' must be a positive number, got 'fast'",
    ),
    "frame_rate negative": (
        lambda f: _edit_json(f, SESSION_CONFIG, lambda v: _sensor_config(v).update(frame_rate=-5)),
        "'frame_rate' must be a positive number, got -5",
    ),
    "sweeps_per_frame as text": (
        lambda f: _edit_json(f, SESSION_CONFIG, lambda v: _sensor_config(v).update(sweeps_per_frame="4")),
        "'sweeps_per_frame' must be an integer >= 1, got '4'",
    ),
    "no points": (
        lambda f: _edit_json(
            f, SESSION_CONFIG, lambda v: _sensor_config(v)["subsweeps"][0].update(num_points=0)
        ),
        "'num_points' must be an integer >= 1, got 0",
    ),
    "groups an object": (
        lambda f: _edit_json(f, SESSION_CONFIG, lambda v: v.update(groups={})),
        "'groups' must be a list of JSON objects, got {}",
    ),
    "session_config missing": (
        lambda f: f.__delitem__(SESSION_CONFIG),
        "/sessions/session_0/session_config must be a dataset, found nothing",
    ),
    "session_config an array": (
        lambda f: _replace(f, SESSION_CONFIG, ["{}", "{}"]),
        "session_config must hold one value, got shape (2,)",
    ),
    "session_config not JSON": (
        lambda f: _replace(f, SESSION_CONFIG, "{oops"),
        "session_config is not valid JSON",
    ),
    "group a dataset": (
        lambda f: _replace(f, "sessions/session_0/group_0", 3),
        "/sessions/session_0/group_0 must be a group, found a dataset",
    ),
    "sessions a dataset": (
        lambda f: _replace(f, "sessions", 1),
        "/sessions must be a group, found a dataset",
    ),
    "base step as text": (
        lambda f: _replace(f, f"{ENTRY}/metadata", json.dumps({"base_step_length_m": "x"})),
        "'base_step_length_m' must be a positive number, got 'x'",
    ),
    "metadata a list": (
        lambda f: _replace(f, f"{ENTRY}/metadata", "[1]"),
        "metadata must be a JSON object, got [1]",
    ),
    "frames of floats": (
        lambda f: _replace(f, f"{ENTRY}/result/frame", np.zeros((12, 4, 21))),
        "must be a compound of numeric 'real' and 'imag', got float64",
    ),
    "no frames": (
        lambda f: _replace(
            f, f"{ENTRY}/result/frame", np.zeros((0, 4, 21), dtype=[("real", "<i2"), ("imag", "<i2")])
        ),
        r"has shape (0, 4, 21)",
    ),
    "frames missing": (
        lambda f: f.__delitem__(f"{ENTRY}/result/frame"),
        "result/frame must be a dataset, found nothing",
    ),
}


@pytest.mark.parametrize("damage", list(A121_DAMAGE), ids=list(A121_DAMAGE))
def test_a121_file_with_a_damaged_field_is_one_line_and_leaves_no_file(tmp_path, capsys, damage):
    from sensing.cli import main

    edit, message = A121_DAMAGE[damage]
    path = _write_a121(tmp_path / "a121.h5", _a121_frames(12, 21, target_point=8), [_subsweep(119, 21)])
    with h5py.File(path, "r+") as file:
        edit(file)
    assert main(["radar", "convert", str(path), "--out", str(tmp_path / "out.npz")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"error: {path}") and message in error, error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a121.h5"]


def test_a121_frame_rate_from_malformed_ticks_is_named(tmp_path):
    samples = _a121_frames(6, 5, target_point=2)
    path = _write_a121(tmp_path / "t.h5", samples, [_subsweep(200, 5)], frame_rate=None, ticks=np.arange(3))
    with pytest.raises(
        RadarError, match=r"result/tick must hold one number per frame \(6\), got int64 of shape \(3,\)"
    ):
        convert_acconeer(path, tmp_path / "t.npz")
    with h5py.File(path, "r+") as file:
        _replace(file, f"{ENTRY}/result/tick", np.arange(6))
        _replace(file, "server_info", json.dumps({"ticks_per_second": "fast"}))
    with pytest.raises(
        RadarError, match="server_info 'ticks_per_second' must be a positive number, got 'fast'"
    ):
        convert_acconeer(path, tmp_path / "t.npz")


def _bad_range_interval(file) -> None:
    """No session_info, and a range_interval that is not two numbers."""
    del file["session_info"]
    _edit_json(file, "sensor_config_dump", lambda values: values.update(range_interval="x"))


def _short_sample_times(file) -> None:
    """No update_rate, and fewer sample times than frames."""
    _edit_json(file, "sensor_config_dump", lambda values: values.update(update_rate=None))
    _replace(file, "sample_times", np.arange(2.0))


A111_DAMAGE = {
    "mode a number": (lambda f: _replace(f, "mode", 3), "/mode must be text, got 3"),
    "sensors as text": (
        lambda f: _edit_json(f, "sensor_config_dump", lambda v: v.update(sensor=["a"])),
        "'sensor' must list the 1 sensor number(s) data holds, got ['a']",
    ),
    "update_rate as text": (
        lambda f: _edit_json(f, "sensor_config_dump", lambda v: v.update(update_rate="fast")),
        "'update_rate' must be a positive number, got 'fast'",
    ),
    "bad range interval": (
        _bad_range_interval,
        "'range_interval' must be [start_m, stop_m] with start_m < stop_m, got 'x'",
    ),
    "zero step": (
        lambda f: _replace(f, "session_info", json.dumps({"range_start_m": 0.4, "step_length_m": 0})),
        "session_info 'step_length_m' must be a positive number, got 0",
    ),
    "short sample times": (
        _short_sample_times,
        "sample_times must hold one number per frame (4)",
    ),
    "a NaN sample": (
        lambda f: _replace(
            f, "data", np.where(np.arange(10) == 3, np.nan, 1.0).astype(np.complex128) * np.ones((4, 1, 10))
        ),
        "sensor_1: frame 0 holds NaN or infinite samples",
    ),
}


@pytest.mark.parametrize("damage", list(A111_DAMAGE), ids=list(A111_DAMAGE))
def test_a111_file_with_a_damaged_field_is_one_line_and_leaves_no_file(tmp_path, capsys, damage):
    from sensing.cli import main

    edit, message = A111_DAMAGE[damage]
    path = _write_a111(tmp_path / "a111.h5", np.ones((4, 1, 10), dtype=np.complex128), mode="iq")
    with h5py.File(path, "r+") as file:
        edit(file)
    assert main(["radar", "convert", str(path), "--out", str(tmp_path / "out.npz")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"error: {path}") and message in error, error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a111.h5"]
