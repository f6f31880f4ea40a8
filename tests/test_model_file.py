"""Model files: metadata read without TensorFlow; broken files give clear errors."""

import dataclasses
import json

import pytest

from sensing.audio.classifier import AudioClassifier
from sensing.audio.features import FeatureSettings
from sensing.audio.model_file import read_metadata
from sensing.errors import ModelError
from sensing.tflite.interpreter import load_interpreter


def test_truncated_model_is_refused(trained_run, tmp_path):
    data = (trained_run / "model.tflite").read_bytes()
    truncated = tmp_path / "truncated.tflite"
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match="truncated.tflite"):
        AudioClassifier(truncated)


def test_not_a_model_and_missing_model(tmp_path):
    (tmp_path / "notes.tflite").write_text("hello")
    with pytest.raises(ModelError, match="not a TensorFlow Lite model"):
        read_metadata(tmp_path / "notes.tflite")
    with pytest.raises(ModelError, match="model file not found"):
        read_metadata(tmp_path / "absent.tflite")


def test_a_plain_tflite_model_without_our_metadata(tmp_path):
    from training.tf_setup import keras, tf

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    path = tmp_path / "plain.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    with pytest.raises(ModelError, match="was not exported by sensing"):
        read_metadata(path)


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
def test_tensorflow_backend_is_used_when_asked(trained_run):
    interpreter, backend = load_interpreter(trained_run / "model.tflite", backend="tensorflow")
    assert backend == "tensorflow"
    assert interpreter.get_input_details()[0]["shape"].tolist() == [1, *FeatureSettings().input_shape]
    with pytest.raises(ModelError, match="unknown TFLite backend"):
        load_interpreter(trained_run / "model.tflite", backend="onnx")


def test_frontend_is_recorded_and_older_models_read_as_mel():
    from sensing.audio.model_file import ModelMetadata

    metadata = ModelMetadata(
        labels=("a", "b"),
        negative_label=None,
        thresholds={},
        features=FeatureSettings(),
        frontend="leaf-fast",
    )
    assert ModelMetadata.from_json(metadata.to_json(), source="m").frontend == "leaf-fast"
    older = json.loads(metadata.to_json())
    del older["frontend"]
    assert ModelMetadata.from_json(json.dumps(older), source="m").frontend == "mel"
    older["frontend"] = "leaf-v9"
    with pytest.raises(ModelError, match="frontend 'leaf-v9' is not one this version runs"):
        ModelMetadata.from_json(json.dumps(older), source="m")


def test_model_whose_input_does_not_fit_its_frontend_is_refused(trained_run, tmp_path):
    from training.export import embed_metadata

    metadata = read_metadata(trained_run / "model.tflite")
    relabelled = dataclasses.replace(metadata, frontend="leaf")
    path = tmp_path / "relabelled.tflite"
    path.write_bytes(embed_metadata((trained_run / "model.tflite").read_bytes(), relabelled))
    with pytest.raises(ModelError, match=r"does not match its leaf frontend's \(1, 15712\)"):
        AudioClassifier(path)
