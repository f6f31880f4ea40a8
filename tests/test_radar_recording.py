"""The radar recording format: written, read whole or in spans, and malformed files named."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from sensing.errors import RadarError
from sensing.radar.recording import (
    RadarConfig,
    Recording,
    RecordingWriter,
    epochs_path,
    read_epochs,
    write_epochs,
    write_recording,
)

CONFIG = RadarConfig(
    frame_rate_hz=15.0,
    range_resolution_m=0.027,
    range_offset_m=0.1,
    wavelength_m=0.00495,
    rx_spacing_m=0.0025,
    device="test radar",
)


def _iq(frames: int = 90, rx: int = 3, bins: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((frames, rx, bins)) + 1j * rng.standard_normal((frames, rx, bins))).astype(
        np.complex64
    )


def test_written_recording_reads_back_whole_and_in_spans(tmp_path):
    iq = _iq()
    path = write_recording(tmp_path / "night.npz", iq, CONFIG)
    with Recording(path) as recording:
        assert (recording.n_frames, recording.n_rx, recording.n_bins) == iq.shape
        assert recording.config == CONFIG
        assert recording.duration_s == pytest.approx(6.0)
        np.testing.assert_array_equal(recording.read(), iq)
        np.testing.assert_array_equal(recording.read(17, 43), iq[17:43])
        for size in (1, 7, 90, 1000):
            np.testing.assert_array_equal(np.concatenate([chunk for _, chunk in recording.chunks(size)]), iq)
    with np.load(path) as plain:  # an ordinary NumPy archive
        np.testing.assert_array_equal(plain["iq"], iq)
        assert json.loads(str(plain["config"]))["device"] == "test radar"


def test_archive_written_by_numpy_alone_is_read(tmp_path):
    iq = _iq(frames=30)
    np.savez(tmp_path / "other.npz", iq=iq, config=np.array(CONFIG.to_json()))
    with Recording(tmp_path / "other.npz") as recording:
        np.testing.assert_array_equal(recording.read(5, 9), iq[5:9])
    assert np.allclose(CONFIG.range_m(3), [0.1, 0.127, 0.154])


def test_writer_takes_chunks_and_checks_the_frame_count(tmp_path):
    iq = _iq()
    with RecordingWriter(tmp_path / "a.npz", CONFIG, n_frames=90, n_rx=3, n_bins=40) as writer:
        for start in range(0, 90, 25):
            writer.write(iq[start : start + 25])
    with Recording(tmp_path / "a.npz") as recording:
        np.testing.assert_array_equal(recording.read(), iq)
    with (
        pytest.raises(RadarError, match="50 frames written, 90 announced"),
        RecordingWriter(tmp_path / "b.npz", CONFIG, n_frames=90, n_rx=3, n_bins=40) as writer,
    ):
        writer.write(iq[:50])


@pytest.mark.parametrize(
    "iq, message",
    [
        (_iq().astype(np.complex128), "complex64"),
        (_iq()[:, 0], "shape"),
    ],
)
def test_wrong_dtype_or_shape_is_named(tmp_path, iq, message):
    np.savez(tmp_path / "bad.npz", iq=iq, config=np.array(CONFIG.to_json()))
    with pytest.raises(RadarError, match=message):
        Recording(tmp_path / "bad.npz")


def test_missing_config_key_nans_and_truncation_are_named(tmp_path):
    values = json.loads(CONFIG.to_json())
    del values["wavelength_m"]
    np.savez(tmp_path / "no_key.npz", iq=_iq(), config=np.array(json.dumps(values)))
    with pytest.raises(RadarError, match="lacks wavelength_m"):
        Recording(tmp_path / "no_key.npz")

    np.savez(tmp_path / "no_config.npz", iq=_iq())
    with pytest.raises(RadarError, match="no 'config' array"):
        Recording(tmp_path / "no_config.npz")

    iq = _iq()
    iq[61, 1, 5] = np.nan
    np.savez(tmp_path / "nan.npz", iq=iq, config=np.array(CONFIG.to_json()))
    with Recording(tmp_path / "nan.npz") as recording:
        recording.read(0, 60)  # the frames before are fine
        with pytest.raises(RadarError, match="frame 61 holds NaN"):
            recording.read(50, 70)

    whole = (tmp_path / "no_key.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(RadarError, match="not an .npz archive"):
        Recording(tmp_path / "cut.npz")

    np.savez_compressed(tmp_path / "packed.npz", iq=_iq(), config=np.array(CONFIG.to_json()))
    with pytest.raises(RadarError, match="compressed"):
        Recording(tmp_path / "packed.npz")

    with pytest.raises(RadarError, match="not found"):
        Recording(tmp_path / "missing.npz")
    with pytest.raises(RadarError, match="frame_rate_hz must be a positive number"):
        RadarConfig(**{**json.loads(CONFIG.to_json()), "frame_rate_hz": 0})


def test_truncated_iq_member_is_named(tmp_path):
    path = write_recording(tmp_path / "full.npz", _iq(), CONFIG)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp_path / "short.npz", "w") as target:
        target.writestr("config.npy", source.read("config.npy"))
        target.writestr("iq.npy", source.read("iq.npy")[:-1000])
    with pytest.raises(RadarError, match="truncated"):
        Recording(tmp_path / "short.npz")


def test_epoch_labels_round_trip_and_bad_rows_are_named(tmp_path):
    labels = ["absent", "awake", "asleep", "asleep"]
    path = write_epochs(epochs_path(tmp_path / "night.npz"), labels)
    assert path.name == "night.epochs.csv"
    assert read_epochs(path) == labels
    path.write_text("start_s,label\n0,absent\n30,dozing\n")
    with pytest.raises(RadarError, match="line 3: label 'dozing'"):
        read_epochs(path)
    path.write_text("start_s,label\n0,absent\n60,awake\n")
    with pytest.raises(RadarError, match="should be 30"):
        read_epochs(path)
    path.write_text("start,label\n0,absent\n")
    with pytest.raises(RadarError, match="missing column"):
        read_epochs(path)


def test_an_error_while_writing_surfaces_and_leaves_no_partial_file(tmp_path):
    iq = _iq()
    iq[40, 0, 0] = np.nan
    path = tmp_path / "broken.npz"
    with (
        pytest.raises(RadarError, match="frame 40 holds NaN"),
        RecordingWriter(path, CONFIG, n_frames=90, n_rx=3, n_bins=40) as writer,
    ):
        for start in range(0, 90, 30):
            writer.write(iq[start : start + 30])
    assert not path.exists()
    assert (
        RadarConfig(**{**json.loads(CONFIG.to_json()), "frame_rate_hz": np.float32(20.0)}).frame_rate_hz
        == 20.0
    )
    with pytest.raises(RadarError, match="positive number"):
        RadarConfig(**{**json.loads(CONFIG.to_json()), "frame_rate_hz": True})
