"""``sensing train audio --frontend leaf`` on generated clips: what the run writes, and the
runtime running its exact and fast models as the Keras models do."""

import json

import numpy as np
import pytest
from conftest import run_cli

from sensing.audio.classifier import AudioClassifier
from sensing.audio.features import FeatureSettings
from sensing.audio.model_file import read_metadata
from sensing.audio.model_input import clip_inputs
from sensing.synthetic.clips import generate_clip
from sensing.synthetic.night import make_night


@pytest.fixture(scope="session")
def leaf_run(clip_set, tmp_path_factory):
    """Run folder of a one-epoch LEAF training (a few steps) through the CLI."""
    out = tmp_path_factory.mktemp("leaf") / "run"
    result = run_cli(
        [
            "train",
            "audio",
            "--data",
            str(clip_set),
            "--out",
            str(out),
            "--frontend",
            "leaf",
            "--epochs",
            "1",
            "--batch-size",
            "16",
        ]
    )
    assert result.returncode == 0, result.stderr
    return out


def test_leaf_run_writes_both_models_the_learned_filters_and_their_comparison(leaf_run):
    for name in (
        "model.keras",
        "model.tflite",
        "model_fast.tflite",
        "leaf_filters.json",
        "leaf_filters.png",
        "metrics.json",
        "training_curves.png",
    ):
        assert (leaf_run / name).stat().st_size > 0, name
    config = json.loads((leaf_run / "config.json").read_text())
    assert config["status"] == "finished" and config["frontend"] == "leaf"
    assert config["leaf"]["gabor_taps"] == 401
    leaf = json.loads((leaf_run / "metrics.json").read_text())["leaf"]
    assert 0.9 < leaf["feature_correlation"] <= 1
    for split in ("validation", "test"):
        assert set(leaf["f1"][split]["exact"]) == set(leaf["f1"][split]["fast"]) == {"cough", "snore"}
        for thresholds in ("matched", "own_calibration"):
            assert 0 <= leaf["decisions_equal_to_exact"][thresholds][split] <= 1
    assert read_metadata(leaf_run / "model_fast.tflite").thresholds == pytest.approx(leaf["fast_thresholds"])
    filters = json.loads((leaf_run / "leaf_filters.json").read_text())
    assert len(filters["centre_hz"]) == len(filters["start_centre_hz"]) == 40
    assert all(0 <= hz <= 8000 for hz in filters["centre_hz"])
    assert all(1 <= root for root in filters["pcen_root"])


def test_the_fast_files_agreement_with_the_exact_file_is_the_one_the_run_reports(leaf_run):
    from training.audio.evaluate import split_clips

    exact, fast = AudioClassifier(leaf_run / "model.tflite"), AudioClassifier(leaf_run / "model_fast.tflite")
    clips = split_clips(leaf_run, split="test", sr=16000)
    equal = [exact.classify_audio(c.samples).label == fast.classify_audio(c.samples).label for c in clips]
    reported = json.loads((leaf_run / "metrics.json").read_text())["leaf"]["decisions_equal_to_exact"]
    assert np.mean(equal) == pytest.approx(reported["matched"]["test"], abs=1 / len(clips) + 1e-9)


def test_models_say_what_input_they_take(leaf_run):
    exact, fast = read_metadata(leaf_run / "model.tflite"), read_metadata(leaf_run / "model_fast.tflite")
    assert (exact.frontend, fast.frontend) == ("leaf", "leaf-fast")
    assert exact.labels == fast.labels == ("cough", "other", "snore")
    assert exact.features == fast.features == FeatureSettings()
    assert set(fast.thresholds) == {"cough", "snore"}


def test_exact_and_fast_tflite_compute_what_keras_computes(leaf_run):
    from training.leaf.fast import build_fast_classifier
    from training.tf_setup import keras

    model = keras.models.load_model(leaf_run / "model.keras", compile=False)
    fast_model = build_fast_classifier(model, FeatureSettings())
    audio = np.concatenate(
        [np.asarray(generate_clip(label, 40)[0], np.float32) for label in ("cough", "snore", "other")]
    )
    for path, frontend, keras_model in (
        (leaf_run / "model.tflite", "leaf", model),
        (leaf_run / "model_fast.tflite", "leaf-fast", fast_model),
    ):
        classifier = AudioClassifier(path)
        assert classifier.frontend == frontend
        inputs, _ = clip_inputs(audio, frontend, classifier.metadata.features)
        np.testing.assert_allclose(
            classifier.predict_windows(inputs), keras_model.predict(inputs, verbose=0), atol=2e-4
        )


def test_runtime_classifies_and_detects_with_leaf_models_without_tensorflow(leaf_run, clip_set, tmp_path):
    cough = next((clip_set.parent / "cough").iterdir())
    for name in ("model.tflite", "model_fast.tflite"):
        result = run_cli(
            ["classify", "--model", str(leaf_run / name), "--jsonl", str(cough)], block=("tensorflow",)
        )
        assert result.returncode == 0, result.stderr
        line = json.loads(result.stdout.splitlines()[-1])
        assert set(line["scores"]) == {"cough", "other", "snore"}
    wav, _ = make_night(tmp_path / "night.wav", duration_s=40, seed=2)
    result = run_cli(
        [
            "detect",
            str(wav),
            "--model",
            str(leaf_run / "model_fast.tflite"),
            "--out",
            str(tmp_path / "detect"),
        ],
        block=("tensorflow",),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "detect" / "report.json").read_text())
    assert report["duration_s"] == pytest.approx(40, abs=0.1)


def test_prune_and_firmware_export_refuse_leaf_runs_with_a_reason(leaf_run, tmp_path):
    result = run_cli(["prune", "--run", str(leaf_run), "--out", str(tmp_path / "pruned")])
    assert result.returncode != 0 and "mel" in result.stderr and "Traceback" not in result.stderr
    result = run_cli(
        [
            "evaluate",
            "--run",
            str(leaf_run),
            "--out",
            str(tmp_path / "e"),
            "--holdout",
            "source",
            "--prune",
            "0.8",
        ]
    )
    assert result.returncode == 2 and "--prune takes runs trained with --frontend mel" in result.stderr
    assert not (tmp_path / "e" / "holdout").exists()  # refused before any held-out training
    result = run_cli(
        [
            "export",
            "firmware",
            "--model",
            str(leaf_run / "model.tflite"),
            "--out",
            str(tmp_path / "firmware"),
        ],
        block=("tensorflow",),
    )
    assert result.returncode != 0 and "log-mel" in result.stderr and "Traceback" not in result.stderr
