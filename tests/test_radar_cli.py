"""The radar commands as a user runs them: simulate, calibrate, breathing, view, convert."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from sensing.radar.recording import Recording, read_epochs


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("nights")
    result = run_cli(
        [
            "simulate",
            "radar",
            "--out",
            str(out),
            "--nights",
            "1",
            "--hours",
            "0.15",
            "--seed",
            "3",
            "--partner",
            "yes",
            "--fan",
            "yes",
            "--curtain",
            "yes",
        ]
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return out / "night_000.npz", result.stdout


def test_simulate_writes_a_recording_with_labels_and_truth(simulated):
    path, stdout = simulated
    assert "night_000.npz: 9 min (18 sleep epochs of 30 s)" in stdout
    with Recording(path) as recording:
        assert (recording.n_rx, recording.n_bins) == (3, 100)
        assert recording.config.frame_rate_hz == 15.0
        assert recording.duration_s == pytest.approx(540.0)
    assert len(read_epochs(path.with_name("night_000.epochs.csv"))) == 18
    truth = json.loads(path.with_name("night_000.truth.json").read_text())
    assert truth["partner_range_m"] > truth["sleeper_range_m"] and truth["fan_range_m"] is not None


def test_calibrate_finds_the_sleeper_beside_the_partner_fan_and_curtain(simulated):
    path, _ = simulated
    truth = json.loads(path.with_name("night_000.truth.json").read_text())
    result = run_cli(["radar", "calibrate", str(path), "--seconds", "540", "--json"])
    assert result.returncode == 0, result.stdout + result.stderr
    calibration = json.loads(result.stdout)
    for key in ("range_min_m", "range_max_m", "bins", "evidence"):
        assert key in calibration
    sleeper_m = truth["sleeper_range_m"]
    assert calibration["range_min_m"] - 0.05 <= sleeper_m <= calibration["range_max_m"] + 0.05
    readable = run_cli(["radar", "calibrate", str(path), "--seconds", "540"])
    assert "sleeper" in readable.stdout


def test_breathing_and_view_commands(simulated, tmp_path):
    path, _ = simulated
    breathing = run_cli(["radar", "breathing", str(path), "--per-epoch", "--json"])
    assert breathing.returncode == 0, breathing.stderr
    estimates = json.loads(breathing.stdout)
    assert len(estimates) == 18 and {"rate_per_min", "confidence"} <= set(estimates[0])
    view = run_cli(["radar", "view", str(path), "--out", str(tmp_path / "view")])
    assert view.returncode == 0, view.stderr
    for name in ("range_time.png", "frequency_time.png"):
        assert (tmp_path / "view" / name).stat().st_size > 10_000


def test_adc_cube_converts_from_the_command_line(tmp_path):
    rng = np.random.default_rng(0)
    cube = rng.standard_normal((8, 2, 3, 64)).astype(np.float32)
    np.save(tmp_path / "cube.npy", cube)
    result = run_cli(
        [
            "radar",
            "convert-adc",
            str(tmp_path / "cube.npy"),
            "--out",
            str(tmp_path / "cube.npz"),
            "--start-frequency",
            "60e9",
            "--bandwidth",
            "4e9",
            "--ramp-time",
            "64e-6",
            "--adc-rate",
            "1e6",
            "--frame-rate",
            "10",
            "--rx-spacing",
            "0.0025",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert "8 frames" in result.stdout and "3 receivers" in result.stdout


def test_malformed_recordings_are_named_without_a_traceback(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    result = run_cli(["radar", "calibrate", str(tmp_path / "junk.npz")])
    assert result.returncode == 2
    assert "not an .npz archive" in result.stderr and "Traceback" not in result.stderr
    config = json.dumps(
        {
            "frame_rate_hz": 15.0,
            "range_resolution_m": 0.027,
            "range_offset_m": 0.1,
            "wavelength_m": 0.005,
            "rx_spacing_m": 0.0025,
            "device": "test",
        }
    )
    np.savez(tmp_path / "bad.npz", iq=np.zeros((10, 3, 5), dtype=np.float32), config=np.array(config))
    result = run_cli(["radar", "view", str(tmp_path / "bad.npz"), "--out", str(tmp_path / "v")])
    assert result.returncode == 2 and "complex64" in result.stderr
