"""``sensing night`` when the audio and the radar barely share, or do not share, any time; and a busy folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from conftest import assert_one_line_error, run_main

from sensing.radar.simulate import simulate_night


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A 3-minute radar night and a minute of quiet audio."""
    folder = tmp_path_factory.mktemp("night")
    radar, _ = simulate_night(folder / "radar.npz", seed=2, hours=0.05)
    noise = np.random.default_rng(0).normal(0, 1e-3, 60 * 16000).astype(np.float32)
    soundfile.write(folder / "audio.wav", noise, 16000)
    return folder / "audio.wav", radar


def _night(audio, radar, out, *extra: str):
    return run_main(
        [
            "night",
            "--audio",
            str(audio),
            "--radar",
            str(radar),
            "--out",
            str(out),
            "--centre-m",
            "0.7",
            *extra,
        ]
    )


def test_audio_half_outside_the_radar_night_is_counted_with_a_warning(night, tmp_path):
    audio, radar = night
    result = _night(audio, radar, tmp_path / "out", "--audio-offset-s", "150")
    assert result.returncode == 0, result.stderr
    warning = "only 50% of the audio (1 min, starting 3 min after the radar's start) overlaps the radar night"
    assert f"warning: {warning}" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert len(report["warnings"]) == 1 and report["warnings"][0].startswith(warning)
    assert report["audio_overlap"] == {"audio_s": 60.0, "radar_s": 180.0, "overlap_s": 30.0}


def test_audio_wholly_outside_the_radar_night_is_refused_before_anything_is_written(night, tmp_path):
    audio, radar = night
    line = assert_one_line_error(_night(audio, radar, tmp_path / "out", "--audio-offset-s", "100000"), 2)
    assert (
        "the audio (1 min, starting 27 h 47 min after the radar's start) does not overlap the 3 min" in line
    )
    assert [path.name for path in (tmp_path / "out").iterdir()] == [".sensing.lock"]
