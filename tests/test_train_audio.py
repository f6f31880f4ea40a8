"""A tiny end-to-end training run writes everything a user looks at, and its
TFLite export computes what the Keras model computes."""

import json

import numpy as np
import pytest

from sensing.audio.features import FeatureSettings, clip_features
from sensing.audio.model_file import read_metadata
from sensing.audio.reading import load_audio
from sensing.tflite.interpreter import load_interpreter


def test_run_folder_holds_model_config_metrics_and_plots(trained_run):
    for name in (
        "model.keras",
        "model.tflite",
        "config.json",
        "metrics.json",
        "skipped.csv",
        "training_curves.png",
        "confusion_validation.png",
        "confusion_test.png",
    ):
        assert (trained_run / name).stat().st_size > 0, name
    config = json.loads((trained_run / "config.json").read_text())
    assert config["status"] == "finished"
    assert config["epochs"] == 3 and config["seed"] == 0
    assert FeatureSettings.from_dict(config["features"]) == FeatureSettings()
    assert config["cnn"]["stem_channels"] > 0


def test_metrics_report_held_out_groups_and_false_positives(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert len(metrics["history"]) == 3
    for split in ("validation", "test"):
        figures = metrics[split]
        assert set(figures["per_class"]) == {"cough", "other", "snore"}
        for label in ("cough", "snore"):
            per_class = figures["per_class"][label]
            assert set(per_class) == {"clips", "precision", "recall", "f1", "roc_auc"}
            assert 0 <= per_class["recall"] <= 1
        matrix = np.array(figures["confusion_matrix"]["rows_true_columns_predicted"])
        assert matrix.shape == (3, 3) and matrix.sum() == figures["clips"]
        negatives = figures["negatives"]
        assert negatives["clips"] == figures["per_class"]["other"]["clips"]
        assert sum(c["clips"] for c in negatives["per_category"].values()) == negatives["clips"]
        assert set(negatives["recall_at_1%_fpr"]) == {"cough", "snore"}
        assert negatives["false_positives_per_hour"] >= 0
    assert (
        metrics["splits"]["train"]["clips"]
        + metrics["splits"]["validation"]["clips"]
        + metrics["splits"]["test"]["clips"]
        == 48
    )


def test_tflite_carries_labels_settings_and_thresholds(trained_run):
    metadata = read_metadata(trained_run / "model.tflite")
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metadata.labels == ("cough", "other", "snore")
    assert metadata.negative_label == "other"
    assert metadata.features == FeatureSettings()
    assert metadata.thresholds == pytest.approx(metrics["thresholds"])
    assert set(metadata.thresholds) == {"cough", "snore"}


def test_keras_and_tflite_outputs_agree(trained_run, clip_set):
    from training.tf_setup import keras

    model = keras.models.load_model(trained_run / "model.keras")
    interpreter, _ = load_interpreter(trained_run / "model.tflite")
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    clips = sorted(clip_set.parent.glob("*/*.wav"))[::8]
    windows = np.concatenate(
        [clip_features(load_audio(p, sr=16000).samples, FeatureSettings())[0] for p in clips]
    )
    expected = model.predict(windows, verbose=0)
    for window, keras_output in zip(windows, expected):
        interpreter.set_tensor(input_index, window[None])
        interpreter.invoke()
        np.testing.assert_allclose(interpreter.get_tensor(output_index)[0], keras_output, atol=1e-5)
    assert np.ptp(expected[:, 0]) > 1e-3, "the model gives every window the same output"
