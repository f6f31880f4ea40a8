"""Damaged radar archives: every fault is one RadarError naming the file, from the reader and every command."""

from __future__ import annotations

import json
import random
import zipfile

import numpy as np
import pytest
import soundfile
from test_radar_recording import CONFIG

from sensing.cli import main
from sensing.errors import RadarError
from sensing.radar.recording import Recording, write_recording

CONFIG_VALUES = json.loads(CONFIG.to_json())


def _iq(frames: int = 40) -> np.ndarray:
    return (np.ones((frames, 2, 6)) * (1 + 2j)).astype(np.complex64)


def _flip_config_bytes(path) -> None:
    """Damage the bytes of the ``config.npy`` member inside the zip (its CRC no longer matches)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("config.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
    data[start : start + 8] = bytes(byte ^ 0x5A for byte in data[start : start + 8])
    path.write_bytes(bytes(data))


def _damaged_config(path) -> None:
    write_recording(path, _iq(), CONFIG)
    _flip_config_bytes(path)


def _truncated(path) -> None:
    write_recording(path, _iq(), CONFIG)
    path.write_bytes(path.read_bytes()[:-40])


def _nan_iq() -> np.ndarray:
    iq = _iq()
    iq[7, 1, 2] = np.nan
    return iq


ARCHIVES = {
    "pickled config dict": (
        lambda p: np.savez(p, iq=_iq(), config=np.array(CONFIG_VALUES, dtype=object)),
        "config is a pickled Python object",
    ),
    "pickled config list": (
        lambda p: np.savez(p, iq=_iq(), config=np.array([1, "a"], dtype=object)),
        "config is a pickled Python object",
    ),
    "damaged config bytes": (
        _damaged_config,
        "damaged archive (Bad CRC-32 for file 'config.npy')",
    ),
    "truncated": (
        _truncated,
        "not an .npz archive",
    ),
    "no iq": (lambda p: np.savez(p, config=np.array(CONFIG.to_json())), "no 'iq' array (has: config)"),
    "no config": (lambda p: np.savez(p, iq=_iq()), "no 'config' array (has: iq)"),
    "config a number": (
        lambda p: np.savez(p, iq=_iq(), config=np.array(3.0)),
        "config must be a 0-d string array, got float64",
    ),
    "config bad JSON": (lambda p: np.savez(p, iq=_iq(), config=np.array("{")), "config is not valid JSON"),
    "iq float": (
        lambda p: np.savez(p, iq=_iq().real, config=np.array(CONFIG.to_json())),
        "iq must be complex64, got float32",
    ),
    "iq pickled": (
        lambda p: np.savez(p, iq=np.array([1, "a"], dtype=object), config=np.array(CONFIG.to_json())),
        "iq must be complex64, got object",
    ),
    "iq 2-d": (
        lambda p: np.savez(p, iq=_iq()[:, 0], config=np.array(CONFIG.to_json())),
        r"iq must have shape (frames, rx, range_bins), got (40, 6)",
    ),
    "iq with NaN": (
        lambda p: np.savez(p, iq=_nan_iq(), config=np.array(CONFIG.to_json())),
        "frame 7 holds NaN or infinite values",
    ),
    "not a zip": (lambda p: p.write_bytes(b"radar? no"), "not an .npz archive"),
}


def _read_all(path) -> None:
    with Recording(path) as recording:
        for _ in recording.chunks(16):
            pass


@pytest.mark.parametrize("fault", list(ARCHIVES), ids=list(ARCHIVES))
def test_a_damaged_archive_is_one_radar_error_naming_the_file(tmp_path, fault):
    make, message = ARCHIVES[fault]
    path = tmp_path / "night.npz"
    make(path)
    with pytest.raises(RadarError) as raised:
        _read_all(path)
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value)


def test_damage_anywhere_in_the_bytes_gives_a_radar_error_or_the_frames(tmp_path):
    good = write_recording(tmp_path / "good.npz", _iq(), CONFIG).read_bytes()
    rng = random.Random(0)
    damaged = tmp_path / "damaged.npz"
    for trial in range(400):
        data = bytearray(good)
        for _ in range(rng.choice((1, 3))):
            data[rng.randrange(len(data))] = rng.randrange(256)
        damaged.write_bytes(bytes(data[: rng.choice((len(data), rng.randrange(len(data))))]))
        try:
            _read_all(damaged)
        except RadarError:
            pass  # anything else is a fault of the reader and fails the test


@pytest.fixture
def pickled(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, iq=_iq(), config=np.array(CONFIG_VALUES, dtype=object))
    soundfile.write(tmp_path / "night.wav", np.zeros(16000, dtype=np.float32), 16000)
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["sleep", "{radar}", "--out", "{out}"],
        ["radar", "calibrate", "{radar}"],
        ["radar", "breathing", "{radar}"],
        ["radar", "view", "{radar}", "--out", "{out}"],
        ["night", "--audio", "{audio}", "--radar", "{radar}", "--out", "{out}"],
    ],
    ids=lambda command: " ".join(part for part in command if not part.startswith("{")),
)
def test_every_radar_command_names_a_pickled_archive_in_one_line(pickled, capsys, command):
    names = {
        "radar": str(pickled),
        "out": str(pickled.parent / "out"),
        "audio": str(pickled.parent / "night.wav"),
    }
    assert main([part.format(**names) for part in command]) == 2
    error = capsys.readouterr().err
    assert (
        error
        == f"error: {pickled}: config is a pickled Python object, which is never loaded; store its JSON text instead: config=np.array(json.dumps(values))\n"
    )
