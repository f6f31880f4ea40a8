"""What training and export write appears whole or not at all: a full disk leaves the previous file."""

from __future__ import annotations

import pytest

from sensing.audio.model_file import read_metadata
from sensing.bundled import COUGH_SNORE_MICRO
from sensing.files import WriteError


@pytest.fixture(scope="module")
def model():
    """A small Keras model whose files (about 90 KB) do not fit on the full disk."""
    from training.tf_setup import keras

    model = keras.Sequential([keras.layers.Dense(2000, input_shape=(10,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _refused(path, write) -> None:
    """``write()`` fails with the one-line error naming ``path`` and leaves ``path`` as it was."""
    path.write_bytes(b"previous")
    with pytest.raises(WriteError, match=f"cannot write {path}: no space left on the device"):
        write()
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "a partial file was left"
    path.unlink()


def test_models_and_plots_on_a_full_disk_leave_the_previous_file(model, full_disk):
    from training.checkpoints import save_keras_model
    from training.export import export_tflite
    from training.plots import plot_training_curves

    metadata = read_metadata(COUGH_SNORE_MICRO)
    history = [{"epoch": n, "loss": 1 / n, "accuracy": 0.5, "validation_score": 0.5} for n in range(1, 40)]
    _refused(full_disk / "model.keras", lambda: save_keras_model(model, full_disk / "model.keras"))
    _refused(full_disk / "model.tflite", lambda: export_tflite(model, full_disk / "model.tflite", metadata))
    _refused(full_disk / "curves.png", lambda: plot_training_curves(history, full_disk / "curves.png"))


def test_the_best_model_on_a_full_disk_is_one_line(model, full_disk):
    from training.checkpoints import save_best_model

    with pytest.raises(WriteError, match="model.keras: no space left on the device"):
        save_best_model(model, full_disk)
    assert not any(full_disk.iterdir())
