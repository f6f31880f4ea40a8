"""Training at scale: the feature cache, MirroredStrategy, two workers on loopback, kill and resume."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT, assert_one_line_error, run_cli, run_main

from sensing.audio.clips import read_clip_list
from sensing.audio.features import FeatureSettings, clip_features
from sensing.audio.reading import load_audio

TINY_RUN = ["--epochs", "1", "--batch-size", "16"]
TENSORFLOW_NOISE = ("E0000", "W0000", "cuInit", "error")
"""What TensorFlow prints on its own (kept off the terminal unless --verbose)."""


def tensorflow_noise(stderr: str) -> list[str]:
    """The lines of ``stderr`` that TensorFlow printed on its own."""
    return [line for line in stderr.splitlines() if any(word in line for word in TENSORFLOW_NOISE)]


def _cache_folders(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if p.is_dir())


def test_feature_cache_is_reused_and_invalidated_when_a_setting_or_a_file_changes(clip_copy, tmp_path, capfd):
    from training.audio.clip_store import ClipSource, cache_description, scan_clips
    from training.audio.evaluation_set import EvaluationSet
    from training.audio.feature_cache import FeatureCache
    from training.audio.windows import AugmentSettings

    records = read_clip_list(clip_copy)
    augment = AugmentSettings()

    def scan(settings):
        cache = FeatureCache(tmp_path / "cache", cache_description("mel", settings, augment))
        entries, _skipped = scan_clips(
            records, frontend="mel", settings=settings, augment=augment, cache=cache, strict=False
        )
        return cache, entries, capfd.readouterr().err

    cache, entries, log = scan(FeatureSettings())
    assert f"0 of {len(records)} clips cached, computing {len(records)}" in log
    shards = sorted(cache.folder.glob("part-*.tfrecord"))
    assert shards and len(entries) == len(records)

    _, again, log = scan(FeatureSettings())
    assert f"{len(records)} of {len(records)} clips cached, computing 0" in log
    assert sorted(cache.folder.glob("part-*.tfrecord")) == shards
    assert [e.rows for e in again] == [e.rows for e in entries]
    # settings that act on a window only (its level normalisation) share the clips' log-mel
    _, _, log = scan(FeatureSettings(level="absolute", dynamic_range_db=50.0))
    assert f"{len(records)} of {len(records)} clips cached, computing 0" in log

    # cached features are what the runtime computes from the audio
    source = ClipSource(again, frontend="mel", settings=FeatureSettings(), augment=augment, cache=cache)
    evaluation = EvaluationSet(source, [0, 5], "check")
    for positions, inputs in evaluation.clip_inputs():
        expected, _ = clip_features(
            load_audio(records[[0, 5][positions[0]]].path, sr=16000).samples, FeatureSettings()
        )
        np.testing.assert_allclose(inputs, expected, atol=1e-5)

    changed, _, log = scan(FeatureSettings(n_mels=32))
    assert changed.folder != cache.folder and len(_cache_folders(tmp_path / "cache")) == 2
    assert f"0 of {len(records)} clips cached, computing {len(records)}" in log
    assert json.loads((changed.folder / "settings.json").read_text())["features"]["n_mels"] == 32

    edited = Path(records[3].path)
    edited.write_bytes(edited.read_bytes()[:-400])  # a shorter recording under the same name
    _, _, log = scan(FeatureSettings())
    assert f"{len(records) - 1} of {len(records)} clips cached, computing 1" in log


@pytest.fixture(scope="module")
def filled_cache(clip_set, tmp_path_factory) -> Path:
    """A feature cache holding the generated clip set's log-mel features."""
    from training.audio.clip_store import cache_description, scan_clips
    from training.audio.feature_cache import FeatureCache
    from training.audio.windows import AugmentSettings

    root = tmp_path_factory.mktemp("cache")
    cache = FeatureCache(root, cache_description("mel", FeatureSettings(), AugmentSettings()))
    scan_clips(
        read_clip_list(clip_set),
        frontend="mel",
        settings=FeatureSettings(),
        augment=AugmentSettings(),
        cache=cache,
        strict=False,
    )
    return root


def test_mirrored_training_on_two_logical_cpus_writes_its_metrics(clip_set, filled_cache, tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        [
            "train",
            "audio",
            "--data",
            str(clip_set),
            "--out",
            str(out),
            *TINY_RUN,
            "--distribute",
            "mirrored",
            "--cpu-devices",
            "2",
            "--cache",
            str(filled_cache),
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "48 of 48 clips cached, computing 0" in result.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "finished" and config["distribute"] == "mirrored"
    assert config["replicas"] == 2 and config["workers"] == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 1 and metrics["history"][0]["train_seconds"] > 0
    assert "test" in metrics and (out / "model.tflite").stat().st_size > 0
    assert "steps of 32 windows per epoch (2 replicas)" in result.stderr


def _sensing(args: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sensing", *args],
        cwd=REPO_ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def test_two_workers_on_loopback_train_one_model_and_share_the_cache(clip_set, filled_cache, tmp_path):
    from training.distribute import loopback_tf_configs

    out = tmp_path / "run"
    workers = [
        _sensing(
            [
                "train",
                "audio",
                "--data",
                str(clip_set),
                "--out",
                str(out),
                *TINY_RUN,
                "--distribute",
                "multiworker",
                "--cache",
                str(filled_cache),
            ],
            env={"TF_CONFIG": value},
        )
        for value in loopback_tf_configs(2)
    ]
    logs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (stdout, stderr) in zip(workers, logs):
        assert worker.returncode == 0, stderr[-3000:]
        assert "48 of 48 clips cached, computing 0" in stderr
    assert "worker 0 writes the run folder" in logs[1][0] and "test groups" in logs[0][0]
    config = json.loads((out / "config.json").read_text())
    assert config["distribute"] == "multiworker" and config["workers"] == 2 and config["replicas"] == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 1 and (out / "model.tflite").is_file()


def test_multiworker_without_tf_config_says_what_it_needs(clip_set, tmp_path, monkeypatch):
    args = [
        "train",
        "audio",
        "--data",
        str(clip_set),
        "--out",
        str(tmp_path / "run"),
        "--distribute",
        "multiworker",
    ]
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = run_main(args)
    assert result.returncode == 2 and "needs the TF_CONFIG environment variable" in result.stderr
    monkeypatch.setenv(
        "TF_CONFIG",
        json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "chief", "index": 0}}),
    )
    result = run_main(args)
    assert result.returncode == 2 and "must be one of the 1 workers" in result.stderr


def _checkpoint_weights(run: Path) -> dict[str, np.ndarray]:
    from training.tf_setup import tf

    state = json.loads((run / "checkpoints" / "state.json").read_text())
    reader = tf.train.load_checkpoint(str(run / "checkpoints" / state["checkpoint"]))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if name.startswith("model/")
    }


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(trained_run, clip_set, tmp_path):
    killed = tmp_path / "killed"
    # the same settings as the uninterrupted trained_run fixture
    code = (
        "from training.audio.config import AudioTrainConfig\nfrom training.audio.train import train_audio\n"
        f"train_audio(AudioTrainConfig(data={str(clip_set)!r}, out={str(killed)!r}, epochs=3, "
        "batch_size=32, windows_per_clip=8, seed=0))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO_ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    state = killed / "checkpoints" / "state.json"
    deadline = time.monotonic() + 240
    while not (state.is_file() and json.loads(state.read_text())["epochs_done"] == 1):
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.1)
    process.kill()
    process.communicate()
    assert json.loads((killed / "config.json").read_text())["status"] == "running"

    keras_model = killed / "model.keras"
    keras_model.write_bytes(keras_model.read_bytes()[:1000])  # a disk that filled up
    resumed = run_cli(["train", "audio", "--out", str(killed), "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming after epoch 1 of 3" in resumed.stderr
    assert not tensorflow_noise(resumed.stderr), resumed.stderr
    from training.checkpoints import load_keras_model

    assert load_keras_model(keras_model).count_params() > 0

    expected, got = _checkpoint_weights(trained_run), _checkpoint_weights(killed)
    assert expected.keys() == got.keys() and len(expected) > 50
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    with (
        np.load(trained_run / "checkpoints" / "best_weights.npz") as a,
        np.load(killed / "checkpoints" / "best_weights.npz") as b,
    ):
        assert all(np.array_equal(a[key], b[key]) for key in a.files)
    straight_metrics = json.loads((trained_run / "metrics.json").read_text())
    resumed_metrics = json.loads((killed / "metrics.json").read_text())
    assert [h["loss"] for h in resumed_metrics["history"]] == [h["loss"] for h in straight_metrics["history"]]
    assert resumed_metrics["test"] == straight_metrics["test"]

    again = run_main(["train", "audio", "--out", str(killed), "--resume"])
    assert again.returncode == 2 and "this run already finished; nothing to resume" in again.stderr


def test_resume_without_a_checkpoint_or_on_other_devices_says_so(trained_run, tmp_path):
    from sensing.errors import SensingError
    from training.checkpoints import restore
    from training.model import CnnSettings, build_audio_cnn

    model = build_audio_cnn(input_shape=(96, 40, 3), n_classes=3, settings=CnnSettings())
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    with pytest.raises(SensingError, match="no checkpoint to resume from"):
        restore(tmp_path, model, identity={"replicas": 1})
    with pytest.raises(SensingError, match="trained with replicas 1, this run has 2"):
        restore(trained_run, model, identity={"replicas": 2})


@pytest.mark.parametrize("kind", ["audio", "radar"])
def test_resume_needs_a_run_folder(kind, tmp_path):
    result = run_main(["train", kind, "--out", str(tmp_path / "nothing"), "--resume"])
    assert result.returncode == 2 and "config.json: not found; is" in result.stderr


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _copy_of(run: Path, folder: Path, *, status: str = "running") -> Path:
    """A copy of the training run ``run`` whose ``config.json`` says ``status``."""
    copy = folder / "run"
    shutil.copytree(run, copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "status": status}))
    return copy


def _untrained_model(run: Path):
    from training.audio.config import AudioTrainConfig
    from training.audio.train import build_model
    from training.epoch_loop import compile_for_training

    model = build_model(AudioTrainConfig.read(run / "config.json"), 3)
    compile_for_training(model, learning_rate=1e-3, steps=10, label_smoothing=0.0)
    return model


def test_a_damaged_newest_checkpoint_resumes_from_the_one_before(trained_run, tmp_path, capsys):
    from sensing.errors import SensingError
    from training.checkpoints import restore

    run = _copy_of(trained_run, tmp_path)
    checkpoints = run / "checkpoints"
    _truncate(checkpoints / "ckpt-3.data-00000-of-00001")
    model = _untrained_model(run)
    assert restore(run, model, identity={"replicas": 1})["epochs_done"] == 2
    note = capsys.readouterr().err
    assert (
        "checkpoint ckpt-3 is damaged" in note and "resuming from the checkpoint before it (ckpt-2)" in note
    )

    _truncate(checkpoints / "ckpt-2.index")
    with pytest.raises(SensingError, match="ckpt-3 is damaged.*start the run again without --resume"):
        restore(run, model, identity={"replicas": 1})


def test_a_truncated_state_file_is_one_line_naming_it(trained_run, tmp_path):
    run = _copy_of(trained_run, tmp_path)
    for name in ("state.json", "state.previous.json"):
        _truncate(run / "checkpoints" / name)
    line = assert_one_line_error(run_main(["train", "audio", "--out", str(run), "--resume"]), 2)
    assert f"{run / 'checkpoints' / 'state.json'}: damaged" in line
    assert "start the run again without --resume" in line


def test_damaged_best_weights_are_read_from_the_keras_model(trained_run, tmp_path, capsys):
    from sensing.errors import SensingError
    from training.checkpoints import load_best_weights, load_keras_model

    run = _copy_of(trained_run, tmp_path)
    expected = load_keras_model(run / "model.keras").get_weights()
    _truncate(run / "checkpoints" / "best_weights.npz")
    weights = load_best_weights(run)
    assert len(weights) == len(expected) and all(np.array_equal(a, b) for a, b in zip(weights, expected))
    assert "best_weights.npz: damaged" in capsys.readouterr().err

    _truncate(run / "model.keras")
    with pytest.raises(SensingError, match="model.keras is damaged too; start the run again"):
        load_best_weights(run)
