"""What the radar and sleep commands take and write: Acconeer files directly, a full disk, a busy
folder, numeric options, and help for every command."""

from __future__ import annotations

import argparse
import json
import tempfile

import numpy as np
import pytest

from sensing.cli import main
from sensing.cli.app import build_parser
from sensing.radar.recording import Recording, write_recording
from sensing.radar.simulate import simulate_night

h5py = pytest.importorskip("h5py")

START = "2024-03-01T23:10:00"


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A 3-minute simulated night as the toolkit's .npz (one receiver) and as an Acconeer A111 .h5."""
    folder = tmp_path_factory.mktemp("night")
    simulated, _ = simulate_night(folder / "simulated.npz", seed=2, hours=0.05)
    with Recording(simulated) as recording:
        iq, config = recording.read()[:, :1], recording.config
    npz = write_recording(folder / "night.npz", iq, config)
    h5 = folder / "acconeer.h5"
    with h5py.File(h5, "w") as file:
        file["data"] = iq
        file["mode"] = "iq"
        file["sensor_config_dump"] = json.dumps(
            {"sensor": [1], "profile": "PROFILE_2", "update_rate": config.frame_rate_hz}
        )
        file["session_info"] = json.dumps(
            {"range_start_m": config.range_offset_m, "step_length_m": config.range_resolution_m}
        )
        file["timestamp"] = START
    return npz, h5


def test_sleep_reads_an_acconeer_file_directly_and_leaves_no_temporary_file(
    night, tmp_path, monkeypatch, capsys
):
    npz, h5 = night
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["sleep", str(npz), "--out", str(tmp_path / "from_npz"), "--centre-m", "0.7"]) == 0
    assert main(["sleep", str(h5), "--out", str(tmp_path / "from_h5"), "--centre-m", "0.7"]) == 0
    printed = capsys.readouterr().out
    assert "in bed 23:" in printed  # the file's own clock time
    assert (tmp_path / "from_h5" / "epochs.csv").read_text() == (
        tmp_path / "from_npz" / "epochs.csv"
    ).read_text()
    report = json.loads((tmp_path / "from_h5" / "report.json").read_text())
    assert report["recording"] == str(h5) and report["start_time"] == START
    assert not list(tmp_path.glob("sensing-radar-*"))


@pytest.mark.parametrize(
    "command",
    [
        ["radar", "calibrate", "{h5}"],
        ["radar", "breathing", "{h5}", "--seconds", "60"],
        ["radar", "view", "{h5}", "--out", "{out}"],
    ],
    ids=lambda command: command[1],
)
def test_radar_commands_read_an_acconeer_file_directly(night, tmp_path, capsys, command):
    _, h5 = night
    status = main([part.format(h5=h5, out=tmp_path / "view") for part in command])
    assert status in (0, 1) and capsys.readouterr().err == ""  # calibrate: 1 when no sleeper is found


def _parsers(parser: argparse.ArgumentParser, path: str):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


@pytest.mark.parametrize("command", ["radar", "simulate", "sleep", "night"])
def test_radar_and_sleep_help_says_which_epoch(command):
    top = next(parser for path, parser in _parsers(build_parser(), "sensing") if path == f"sensing {command}")
    for path, parser in _parsers(top, f"sensing {command}"):
        words = (
            parser.format_help()
            .replace("epochs.csv", "")
            .replace("--per-epoch", "")
            .replace("sleep epoch", "")
            .replace("30 s epoch", "")
        )
        assert "epoch" not in words, (
            f"{path}: say '30 s epoch' or 'sleep epoch' (training passes are epochs too)"
        )


def test_simulated_night_clock_is_unknown_and_the_converted_acconeer_clock_is_kept(night, tmp_path):
    npz, h5 = night
    assert main(["radar", "convert", str(h5), "--out", str(tmp_path / "converted.npz")]) == 0
    with Recording(npz) as simulated, Recording(tmp_path / "converted.npz") as converted:
        assert simulated.config.started_at() is None
        assert converted.config.start_time == START
        np.testing.assert_array_equal(converted.read(), simulated.read())
