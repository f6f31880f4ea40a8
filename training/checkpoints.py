"""Periodic checkpoints of a training run, and resuming from the last one.

After every epoch the run saves, in ``checkpoints/``, the model's and the
optimizer's variables (a TensorFlow checkpoint, the last two kept) and then
``state.json``: the epochs done, the checkpoint that holds them and the
epoch report's state (history, best score); the best weights so far are in
``best_weights.npz`` beside them (and the best model in ``model.keras``).
``--resume`` restores all of it and continues with the next epoch. Since an
epoch's data depends only on the seed and the epoch (see
:mod:`training.audio.window_stream`), every random layer is reseeded from them at
the start of each epoch, and TensorFlow runs its ops deterministically
(:func:`deterministic_ops`), a resumed run ends with the same weights as one
that was never interrupted, when it resumes on the same replicas with the
same feature cache (or none); the checkpoint refuses other ones.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from sensing.errors import SensingError
from sensing.run_folder import KERAS_MODEL
from training.files import write_atomically
from training.tf_setup import keras, tf

FOLDER = "checkpoints"
KEEP = 2
BEST_WEIGHTS = "best_weights.npz"


def save_best_model(model: keras.Model, run_folder: str | Path) -> None:
    """Keep the best epoch on disk: ``model.keras``, and its weights for ``--resume``."""
    run_folder = Path(run_folder)
    model.save(run_folder / KERAS_MODEL)
    (run_folder / FOLDER).mkdir(exist_ok=True)
    partial = run_folder / FOLDER / (BEST_WEIGHTS + ".partial.npz")
    np.savez(partial, *model.get_weights())
    os.replace(partial, run_folder / FOLDER / BEST_WEIGHTS)


def load_best_weights(run_folder: str | Path) -> list[np.ndarray] | None:
    """The weights :func:`save_best_model` kept, or None when no epoch was kept yet."""
    path = Path(run_folder) / FOLDER / BEST_WEIGHTS
    if not path.is_file():
        return None
    with np.load(path) as saved:
        return [saved[f"arr_{i}"] for i in range(len(saved.files))]


def deterministic_ops() -> None:
    """Make TensorFlow's kernels deterministic (GPU convolutions and reductions are not by default)."""
    tf.config.experimental.enable_op_determinism()


def start_afresh(run_folder: str | Path) -> None:
    """Remove an earlier run's checkpoints from ``run_folder``, so ``--resume`` never mixes runs."""
    shutil.rmtree(Path(run_folder) / FOLDER, ignore_errors=True)


def reseed_random_layers(model: keras.Model, seed: int, epoch: int) -> None:
    """Reset the random generator of every layer that draws random numbers (dropout,
    in-graph masks) from ``(seed, epoch)``, so an epoch's draws do not depend on
    whether the run was resumed. Must run inside the strategy's scope."""
    for number, layer in enumerate(model.submodules):
        generator = getattr(layer, "_random_generator", None)
        if generator is None or not hasattr(generator, "_maybe_init"):
            continue
        generator._maybe_init()  # tf_keras creates a layer's generator lazily
        if getattr(generator, "_generator", None) is not None:
            generator._generator.reset_from_seed(
                int(np.random.default_rng((seed, epoch, number)).integers(2**31))
            )


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the run's state after every epoch (see the module docstring).

    Args:
        run_folder: the run folder (``checkpoints/`` is made inside).
        report: the epoch report whose ``state()`` is saved with it.
        chief: whether this process owns the run folder; other workers save
            to a temporary folder (every worker must take part in a save).
        identity: what must match on resume (replicas, steps per epoch, feature cache).
    """

    def __init__(self, run_folder: str | Path, *, report, chief: bool, identity: dict) -> None:
        super().__init__()
        self.report = report
        self.chief = chief
        self.identity = identity
        self.folder = Path(run_folder) / FOLDER if chief else Path(tempfile.mkdtemp(prefix="sensing-worker-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self._manager = None

    def _checkpoint_manager(self) -> tf.train.CheckpointManager:
        if self._manager is None:
            checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer)
            self._manager = tf.train.CheckpointManager(checkpoint, str(self.folder), max_to_keep=KEEP)
        return self._manager

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        path = self._checkpoint_manager().save(checkpoint_number=epoch + 1)
        if self.chief:
            write_atomically(
                self.folder / "state.json",
                json.dumps(
                    {
                        "epochs_done": epoch + 1,
                        "checkpoint": Path(path).name,
                        **self.identity,
                        "report": self.report.state(),
                    },
                    indent=2,
                )
                + "\n",
            )

    def close(self) -> None:
        """Remove a non-chief worker's temporary folder."""
        if not self.chief:
            shutil.rmtree(self.folder, ignore_errors=True)


def restore(run_folder: str | Path, model: keras.Model, *, identity: dict) -> dict:
    """Load the last checkpoint of ``run_folder`` into ``model`` (and its optimizer).

    Returns the saved state (``epochs_done``, ``report``).

    Raises:
        SensingError: no checkpoint, or one written with other replicas or steps.
    """
    folder = Path(run_folder) / FOLDER
    try:
        state = json.loads((folder / "state.json").read_text())
    except FileNotFoundError:
        raise SensingError(
            f"{run_folder}: no checkpoint to resume from (the run stopped before "
            "its first epoch ended); start it again without --resume"
        ) from None
    for key, value in identity.items():
        if state.get(key) != value:
            raise SensingError(
                f"cannot resume {run_folder}: it was trained with {key} {state.get(key)}, "
                f"this run has {value}; resume with the same --distribute, devices "
                "and --cache"
            )
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    checkpoint.restore(str(folder / state["checkpoint"])).assert_existing_objects_matched()
    return state
