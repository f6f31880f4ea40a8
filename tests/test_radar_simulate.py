"""The radar night simulator and the sleeper calibration: format, determinism, physics, choices."""

from __future__ import annotations

import dataclasses
import io
import json
import tracemalloc
from collections import Counter

import numpy as np
import pytest

from sensing.errors import RadarError
from sensing.radar.calibration import calibrate
from sensing.radar.night_script import STATE_LABELS
from sensing.radar.recording import EPOCH_S, Recording, RecordingWriter, read_epochs
from sensing.radar.simulate import (
    NightParameters,
    NightTruth,
    RadarHardware,
    range_profiles,
    simulate_night,
    simulate_nights,
    truth_path,
)


def _in_bed(parameters: NightParameters, **changes) -> NightParameters:
    """``parameters`` with the sleeper in bed from the first second."""
    return dataclasses.replace(
        parameters, sleeper=dataclasses.replace(parameters.sleeper, absent_before_s=0, **changes)
    )


def _empty_room(parameters: NightParameters) -> NightParameters:
    """``parameters`` with no partner and an invisible sleeper (reflectivity 0): an empty room."""
    return dataclasses.replace(
        parameters, partner=None, sleeper=dataclasses.replace(parameters.sleeper, reflectivity=0.0)
    )


def _frames(path) -> np.ndarray:
    with Recording(path) as recording:
        return recording.read()


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A 6-minute night drawn from seed 7: (recording path, epochs path, truth)."""
    recording, epochs = simulate_night(tmp_path_factory.mktemp("night") / "night.npz", seed=7, hours=0.1)
    return recording, epochs, NightTruth.read(truth_path(recording))


def test_recording_has_the_documented_shape_dtype_and_config(night):
    recording, _, truth = night
    hardware = RadarHardware()
    with Recording(recording) as opened:
        assert (opened.n_frames, opened.n_rx, opened.n_bins) == (360 * 15, 3, 100)
        assert opened.read(0, 10).dtype == np.complex64
        assert opened.config == hardware.config()
    assert hardware.wavelength_m == pytest.approx(4.93e-3, abs=1e-5)
    assert hardware.range_resolution_m == pytest.approx(0.02725, abs=1e-5)
    assert hardware.rx_spacing_m == pytest.approx(hardware.wavelength_m / 2)
    assert hardware.range_m()[-1] == pytest.approx(2.8, abs=0.01)
    assert truth.duration_s == 360 and len(truth.states) == 360


def test_epoch_labels_are_the_majority_state_and_cover_the_night(night):
    _, epochs, truth = night
    labels = read_epochs(epochs)
    assert len(labels) * EPOCH_S == truth.duration_s
    for epoch, label in enumerate(labels):
        counts = Counter(STATE_LABELS[state] for state in truth.states[epoch * 30 : (epoch + 1) * 30])
        assert counts[label] == max(counts.values())
    assert labels == list(truth.epoch_labels)
    assert {"absent", "awake", "asleep"} <= set(labels)
    for label, rate in zip(labels, truth.epoch_breathing_rate_bpm):
        assert (rate is not None) == (label == "asleep")


def test_same_seed_gives_the_same_night_and_another_seed_another(night, tmp_path):
    recording, epochs, _ = night
    again, again_epochs = simulate_night(tmp_path / "again.npz", seed=7, hours=0.1)
    assert again.read_bytes() == recording.read_bytes()
    assert again_epochs.read_bytes() == epochs.read_bytes()
    assert truth_path(again).read_bytes() == truth_path(recording).read_bytes()
    other, _ = simulate_night(tmp_path / "other.npz", seed=8, hours=0.1)
    assert not np.array_equal(_frames(other), _frames(recording))
    assert NightTruth.read(truth_path(other)).parameters != NightTruth.read(truth_path(recording)).parameters


def test_chunk_length_does_not_change_a_single_bit(tmp_path):
    parameters = NightParameters.random(3, partner=True, fan=True, curtain=True, multipath=True)
    whole, _ = simulate_night(tmp_path / "a.npz", seed=3, hours=0.05, parameters=parameters, chunk_s=60)
    pieces, _ = simulate_night(tmp_path / "b.npz", seed=3, hours=0.05, parameters=parameters, chunk_s=7.3)
    np.testing.assert_array_equal(_frames(whole), _frames(pieces))


def test_a_point_scatterer_lands_in_its_bin_with_the_receiver_phases_of_its_angle():
    hardware = RadarHardware()
    bin_range = float(hardware.range_m()[40])
    angle = np.radians(20)
    profile = range_profiles(np.array([[bin_range]]), np.array([[angle]]), np.array([[1.0]]), hardware)[0]
    assert np.argmax(np.abs(profile[0])) == 40
    assert np.abs(profile[0, 40]) == pytest.approx(np.cos(angle) / bin_range**2, rel=1e-5)
    assert np.abs(profile[0, 41]) == pytest.approx(0.5 * np.abs(profile[0, 40]), rel=1e-4)
    assert np.abs(profile[0, 48]) == 0
    step = np.angle(profile[1, 40] / profile[0, 40])
    assert step == pytest.approx(np.pi * np.sin(angle), abs=1e-4)


def test_breathing_shows_in_the_phase_of_the_chest_bin(tmp_path):
    parameters = _in_bed(
        NightParameters.random(12, partner=False, fan=False, curtain=False, multipath=False),
        sleep_latency_s=0,
        awakenings_per_h=0,
        posture_shifts_per_h=0,
    )
    recording, _ = simulate_night(tmp_path / "asleep.npz", seed=12, hours=4 / 60, parameters=parameters)
    truth = NightTruth.read(truth_path(recording))
    first, last = 20, 140
    assert set(truth.states[first:last]) <= {"light", "deep"}
    hardware = RadarHardware()
    chest = np.mean(truth.chest_range_m[first:last])
    chest_bin = round((chest - hardware.range_offset_m) / hardware.range_resolution_m)
    with Recording(recording) as opened:
        frames = opened.read(first * 15, last * 15)[:, :, chest_bin]
    signal = frames.mean(axis=1)
    phase = np.unwrap(np.angle(signal - signal.mean()))
    phase -= np.polyval(np.polyfit(np.arange(phase.size), phase, 1), np.arange(phase.size))
    spectrum = np.abs(np.fft.rfft(phase * np.hanning(phase.size), n=8 * phase.size))
    freq = np.fft.rfftfreq(8 * phase.size, 1 / 15)
    band = (freq >= 0.1) & (freq <= 0.5)
    measured_bpm = 60 * freq[band][np.argmax(spectrum[band])]
    assert measured_bpm == pytest.approx(np.mean(truth.breathing_rate_bpm[first:last]), abs=1.0)


def _calibrated(tmp_path, parameters: NightParameters, *, seed: int, hours: float = 0.1):
    recording, _ = simulate_night(
        tmp_path / f"night_{seed}.npz", seed=seed, hours=hours, parameters=parameters
    )
    with Recording(recording) as opened:
        return calibrate(opened), NightTruth.read(truth_path(recording))


def _assert_sleeper_window(calibration, truth):
    assert calibration.found, calibration.describe()
    start = int(calibration.window_start_s)
    chest = [value for value in truth.chest_range_m[start : start + 60] if value is not None]
    assert chest, "the chosen window has the sleeper out of bed"
    assert calibration.range_min_m <= np.mean(chest) <= calibration.range_max_m, calibration.describe()
    assert calibration.range_max_m - calibration.range_min_m <= 0.4
    hardware = RadarHardware()
    assert list(calibration.bins) == list(range(calibration.bins[0], calibration.bins[-1] + 1))
    assert hardware.range_m()[calibration.bins[0]] == pytest.approx(calibration.range_min_m, abs=1e-3)


def test_calibration_finds_the_sleeper_among_partner_fan_curtain_and_multipath(tmp_path):
    parameters = _in_bed(NightParameters.random(21, partner=True, fan=True, curtain=True, multipath=True))
    calibration, truth = _calibrated(tmp_path, parameters, seed=21)
    _assert_sleeper_window(calibration, truth)
    assert calibration.range_max_m < truth.partner_range_m
    assert [region.verdict for region in calibration.evidence].count("sleeper") == 1
    assert json.loads(json.dumps(calibration.to_dict()))["found"] is True
    assert "nearest breathing body" in calibration.describe()


def test_calibration_ignores_a_further_partner(tmp_path):
    parameters = _in_bed(NightParameters.random(22, partner=True, fan=False, curtain=False, multipath=False))
    calibration, truth = _calibrated(tmp_path, parameters, seed=22)
    _assert_sleeper_window(calibration, truth)
    assert calibration.range_max_m < truth.partner_range_m


def test_calibration_rejects_a_fan_as_too_fast(tmp_path):
    parameters = _in_bed(NightParameters.random(23, partner=False, fan=True, curtain=False, multipath=False))
    calibration, truth = _calibrated(tmp_path, parameters, seed=23)
    _assert_sleeper_window(calibration, truth)
    reach = parameters.fan_radius_m + 0.03
    near_fan = [
        region
        for region in calibration.evidence
        if region.range_min_m - reach <= truth.fan_range_m <= region.range_max_m + reach
    ]
    assert "fast" in {region.verdict for region in near_fan}
    assert not {"sleeper", "breathing"} & {region.verdict for region in near_fan}


def test_calibration_does_not_take_a_curtain_for_a_sleeper(tmp_path):
    parameters = _in_bed(NightParameters.random(24, partner=False, fan=False, curtain=True, multipath=False))
    calibration, truth = _calibrated(tmp_path, parameters, seed=24)
    _assert_sleeper_window(calibration, truth)
    for region in calibration.evidence:
        if region.verdict in ("sleeper", "breathing"):
            assert abs(region.peak_range_m - truth.curtain_range_m) > 0.15


def test_calibration_skips_the_time_before_the_sleeper_comes_to_bed(tmp_path):
    parameters = NightParameters.random(25, partner=False, fan=False, curtain=False, multipath=True)
    parameters = dataclasses.replace(
        parameters, sleeper=dataclasses.replace(parameters.sleeper, absent_before_s=70, sleep_latency_s=60)
    )
    calibration, truth = _calibrated(tmp_path, parameters, seed=25, hours=0.2)
    assert truth.states[:60] == ("absent",) * 60
    _assert_sleeper_window(calibration, truth)
    assert calibration.window_start_s >= 60
    assert calibration.windows[0][1] is None


@pytest.mark.parametrize("interferers", [False, True], ids=["plain", "fan-and-curtain"])
def test_calibration_reports_an_empty_room_as_not_found(tmp_path, interferers):
    parameters = _empty_room(
        NightParameters.random(26, partner=False, fan=interferers, curtain=interferers, multipath=False)
    )
    calibration, _ = _calibrated(tmp_path, parameters, seed=26)
    assert not calibration.found
    assert calibration.bins == () and calibration.range_min_m is None
    assert "no breathing person" in calibration.describe()
    if interferers:
        assert calibration.evidence, "the fan and curtain should show as moving but not breathing"


def test_calibration_needs_twenty_seconds(night):
    with Recording(night[0]) as opened, pytest.raises(RadarError, match="at least 20 s"):
        calibrate(opened, start_s=350)


def test_writing_goes_chunk_by_chunk_in_bounded_memory(tmp_path, monkeypatch):
    written = []
    write = RecordingWriter.write

    def spy(self, chunk):
        written.append(chunk.shape[0])
        write(self, chunk)

    monkeypatch.setattr(RecordingWriter, "write", spy)
    parameters = NightParameters.random(5, partner=False, fan=False, curtain=False, multipath=False)
    tracemalloc.start()
    try:
        _recording, _ = simulate_night(
            tmp_path / "long.npz", seed=5, hours=0.5, parameters=parameters, chunk_s=30
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == [450] * 60
    size = 1800 * 15 * 3 * 100 * 8
    assert peak < size / 4, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB night"


def test_simulate_nights_writes_numbered_nights_with_their_truth(tmp_path):
    stream = io.StringIO()
    results = simulate_nights(tmp_path / "out", nights=2, hours=0.05, seed=4, partner=True, stream=stream)
    assert [path.name for path, _ in results] == ["night_000.npz", "night_001.npz"]
    assert all(truth.partner_range_m is not None and truth.fan_range_m is None for _, truth in results)
    assert results[0][1].seed != results[1][1].seed
    assert (tmp_path / "out" / "night_001.epochs.csv").is_file()
    assert "simulate radar" in stream.getvalue()


def test_a_partner_lies_on_either_side_of_the_sleeper():
    for seed in range(20):
        far = NightParameters.random(seed, partner=True)
        near = NightParameters.random(seed, partner=True, partner_side="near")
        assert 0.3 <= far.partner.range_m - far.sleeper.range_m <= 0.6 or far.partner.range_m == 2.4
        assert 0.3 <= near.sleeper.range_m - near.partner.range_m <= 0.6
        assert near.sleeper.range_m >= 0.9 and near.partner.range_m >= 0.3
        assert (near.snr_db, near.clutter) == (far.snr_db, far.clutter)  # the same room


def test_bad_arguments_are_radar_errors(tmp_path):
    parameters = NightParameters.random(1, partner=True)
    with pytest.raises(RadarError, match="within 0.3 m of the sleeper"):
        dataclasses.replace(
            parameters,
            partner=dataclasses.replace(parameters.partner, range_m=parameters.sleeper.range_m - 0.1),
        )
    with pytest.raises(RadarError, match="partner side 'left': expected one of far, near"):
        NightParameters.random(1, partner=True, partner_side="left")
    with pytest.raises(RadarError, match="seed"):
        simulate_night(tmp_path / "x.npz", seed=-1, hours=0.1)
    with pytest.raises(RadarError, match="hours"):
        simulate_night(tmp_path / "x.npz", seed=1, hours=0.001)
