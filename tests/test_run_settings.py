"""Audio and radar training settings are checked the same way, and the command line's defaults are
the settings' own."""

from __future__ import annotations

import pytest
from conftest import run_main

from sensing.errors import SensingError
from training.audio.config import AudioTrainConfig, PruneSettings
from training.radar.config import RadarTrainConfig

BAD = [
    ({"learning_rate": -1.0}, "learning_rate must be positive"),
    ({"learning_rate": float("nan")}, "learning_rate must be positive"),
    ({"seed": -3}, "seed must be an integer >= 0"),
    ({"split_fractions": (0.9, 0.0, 0.5)}, "split_fractions"),
    ({"epochs": 0}, "epochs and batch_size must be at least 1"),
    ({"label_smoothing": 1.0}, "label_smoothing must be in"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_audio_and_radar_settings_refuse_the_same_values(change, message):
    with pytest.raises(SensingError, match=message):
        AudioTrainConfig(data="clips.csv", out="run", **change)
    with pytest.raises(SensingError, match=message):
        RadarTrainConfig(out="run", simulate=2, **change)


def test_train_and_prune_options_default_to_the_settings_defaults():
    audio = run_main(["train", "audio", "--help"]).stdout
    radar = run_main(["train", "radar", "--help"]).stdout
    prune = run_main(["prune", "--help"]).stdout
    assert f"training epochs (default {AudioTrainConfig(data='d', out='o').epochs})" in " ".join(
        audio.split()
    )
    assert f"(default {RadarTrainConfig(out='o', simulate=2).epochs})" in " ".join(radar.split())
    assert f"(default {PruneSettings().sparsity})" in " ".join(prune.split())
