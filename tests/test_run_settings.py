"""Audio and radar training settings are checked the same way, and the command line's defaults are
the settings' own."""

from __future__ import annotations

import pytest
from conftest import assert_one_line_error, run_main

from sensing.errors import SensingError
from training.audio.config import AudioTrainConfig
from training.radar.config import RadarTrainConfig
from training.run_settings import PruneSettings

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
    default_epochs = AudioTrainConfig(data="d", out="o").epochs
    assert f"training passes over the training clips (default {default_epochs})" in " ".join(audio.split())
    assert f"(default {RadarTrainConfig(out='o', simulate=2).epochs})" in " ".join(radar.split())
    assert f"(default {PruneSettings().sparsity})" in " ".join(prune.split())


@pytest.mark.parametrize("config_class", [AudioTrainConfig, RadarTrainConfig])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"out": "run", "features": ', "not valid JSON"),
        ('{"data": "d", "out": "o", "simulate": null, "features": "x", "cnn": {}}', "config.json: "),
        (
            '{"data": "d", "out": "o", "simulate": null, "features": {}, "cnn": {}, "epochs": "9"}',
            "config.json: ",
        ),
    ],
)
def test_a_damaged_config_is_named_in_one_message(config_class, text, message, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(SensingError, match=message) as raised:
        config_class.read(path)
    assert str(raised.value).startswith(str(path)) and "\n" not in str(raised.value)


@pytest.mark.parametrize("kind", ["audio", "radar"])
def test_resume_from_a_truncated_config_says_to_start_again(kind, tmp_path):
    settings = (
        AudioTrainConfig(data="clips.csv", out=str(tmp_path))
        if kind == "audio"
        else RadarTrainConfig(out=str(tmp_path), simulate=2)
    )
    settings.write(tmp_path / "config.json", status="running")
    text = (tmp_path / "config.json").read_text()
    (tmp_path / "config.json").write_text(text[: len(text) // 2])
    result = run_main(["train", kind, "--out", str(tmp_path), "--resume"])
    line = assert_one_line_error(result, 2)
    assert f"{tmp_path / 'config.json'}: not valid JSON" in line
    assert "start it again without --resume" in line


def test_a_wider_network_scales_every_layers_channels():
    from training.model_settings import CnnSettings

    wide = CnnSettings().widened(1.5)
    assert (wide.stem_channels, wide.head_channels) == (24, 192)
    assert [block[1] for block in wide.blocks] == [36, 36, 48, 48, 72, 72]
    assert [(block[0], block[2]) for block in wide.blocks] == [(b[0], b[2]) for b in CnnSettings().blocks]
    assert CnnSettings().widened(1.0) == CnnSettings()
    assert CnnSettings().widened(0.01).stem_channels == 4
    line = assert_one_line_error(
        run_main(["train", "audio", "--data", "x.csv", "--out", "o", "--width", "0"]), 2
    )
    assert "--width" in line
