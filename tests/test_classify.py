"""``sensing classify`` on the runtime alone: output format, bad files, no TensorFlow."""

import json
from pathlib import Path

import numpy as np
import soundfile
from conftest import run_cli


def _jsonl(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_jsonl_has_one_object_per_file_with_max_window_scores(trained_run, clip_set):
    folder = clip_set.parent / "cough"
    result = run_cli(["classify", "--model", str(trained_run / "model.tflite"), str(folder), "--jsonl"])
    assert result.returncode == 0, result.stderr
    rows = _jsonl(result.stdout)
    assert len(rows) == len(list(folder.glob("*.wav")))
    for row in rows:
        assert set(row) == {"file", "duration_s", "scores", "label", "warnings"}
        assert row["warnings"] == []
        assert Path(row["file"]).is_file()
        assert set(row["scores"]) == {"cough", "other", "snore"}
        assert all(0.0 <= score <= 1.0 for score in row["scores"].values())
        assert row["label"] in row["scores"]
        assert 1.0 <= row["duration_s"] <= 3.0


def test_scores_are_the_highest_window_probability(trained_run, tmp_path):
    from sensing.audio.classifier import AudioClassifier

    classifier = AudioClassifier(trained_run / "model.tflite")
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 * 4)).astype(np.float32)
    soundfile.write(tmp_path / "noise.wav", audio, 16000)
    result = classifier.classify_file(tmp_path / "noise.wav")
    assert result.window_probabilities.shape == (8, 3)
    for column, label in enumerate(classifier.labels):
        assert result.scores[label] == np.max(result.window_probabilities[:, column])


def test_manifest_paths_are_relative_to_the_working_directory(trained_run, clip_set):
    result = run_cli(
        ["classify", "--model", str(trained_run / "model.tflite"), "manifest.csv", "--jsonl"],
        cwd=clip_set.parent,
    )
    assert result.returncode == 0, result.stderr
    rows = _jsonl(result.stdout)
    assert len(rows) == 48
    assert rows[0]["file"].startswith(("cough/", "other/", "snore/"))


def test_readable_table_without_jsonl(trained_run, clip_set):
    clip = next((clip_set.parent / "snore").glob("*.wav"))
    result = run_cli(["classify", "--model", str(trained_run / "model.tflite"), str(clip)])
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()[:2]
    assert header.split()[:2] == ["file", "seconds"] and "label" in header
    assert row.split()[-1] in {"cough", "snore", "other"}


def test_bad_files_are_reported_and_the_rest_classified(trained_run, clip_set, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEjunk")
    good = next((clip_set.parent / "cough").glob("*.wav"))
    result = run_cli(
        ["classify", "--model", str(trained_run / "model.tflite"), str(broken), str(good), "--jsonl"]
    )
    assert result.returncode == 1
    assert "broken.wav: cannot read audio" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(_jsonl(result.stdout)) == 1


def test_classify_runs_with_tensorflow_blocked(trained_run, clip_set):
    clip = next((clip_set.parent / "cough").glob("*.wav"))
    result = run_cli(
        ["classify", "--model", str(trained_run / "model.tflite"), str(clip), "--jsonl"],
        block=("tensorflow", "tf_keras", "keras", "librosa"),
    )
    assert result.returncode == 0, result.stderr
    assert "on ai_edge_litert" in result.stderr
    assert _jsonl(result.stdout)[0]["file"] == str(clip)


def test_training_without_the_extra_names_the_extra(clip_set, tmp_path):
    result = run_cli(
        ["train", "audio", "--data", str(clip_set), "--out", str(tmp_path / "run")], block=("tensorflow",)
    )
    assert result.returncode == 2
    assert "pip install 'sensing[train]'" in result.stderr
    assert "Traceback" not in result.stderr
