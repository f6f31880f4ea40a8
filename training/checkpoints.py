"""Periodic checkpoints of a training run, and resuming from the last one.

After every epoch the run saves, in ``checkpoints/``, the model's and the
optimizer's variables (a TensorFlow checkpoint, the last two kept) and then
``state.json``: the epochs done, the checkpoint that holds them and the
epoch report's state (history, best score); the state of the checkpoint
before it is kept as ``state.previous.json``, and the best weights so far
are in ``best_weights.npz`` beside them (and the best model in ``model.keras``).
``--resume`` restores all of it and continues with the next epoch. Since an
epoch's data depends only on the seed and the epoch (see
:mod:`training.audio.window_stream`), every random layer is reseeded from them at
the start of each epoch, and TensorFlow runs its ops deterministically
(:func:`deterministic_ops`), a resumed run ends with the same weights as one
that was never interrupted, when it resumes on the same replicas with the
same feature cache (or none); the checkpoint refuses other ones.

A damaged run folder (a truncated file, a disk that filled up) is named in one
line: when the newest checkpoint is damaged and the one before it is intact,
the run resumes from that one (and repeats the epoch after it); when
``best_weights.npz`` is damaged its weights are read from ``model.keras``.
Every file is written whole or not at all (:mod:`sensing.files`).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from sensing.errors import SensingError
from sensing.files import atomic_path, make_folder, write_atomically, write_error
from sensing.run_folder import KERAS_MODEL
from training.tf_setup import keras, tf

FOLDER = "checkpoints"
KEEP = 2
BEST_WEIGHTS = "best_weights.npz"
STATE = "state.json"
"""The newest checkpoint's state."""
PREVIOUS_STATE = "state.previous.json"
"""The state of the checkpoint before the newest, for when the newest is damaged."""
STATE_KEYS = ("epochs_done", "checkpoint", "report")
REPORT_KEYS = ("history", "best_score", "best_epoch")
START_AGAIN = "start the run again without --resume"

DAMAGED_FILE_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    IndexError,
    zipfile.BadZipFile,
    tf.errors.OpError,
)
"""What reading a truncated or corrupt checkpoint, ``.npz`` or ``.keras`` file raises."""


class DamagedCheckpoint(SensingError):
    """A file of a run's checkpoint cannot be read."""


def save_keras_model(model: keras.Model, path: str | Path) -> Path:
    """Save ``model`` as a ``.keras`` file, whole or not at all (a full disk leaves the previous file)."""
    with atomic_path(path) as partial:
        model.save(partial)
    return Path(path)


def load_keras_model(path: str | Path) -> keras.Model:
    """The Keras model a run saved in ``path`` (uncompiled).

    Raises:
        SensingError: the file is missing, or damaged (truncated, not a Keras file).
    """
    path = Path(path)
    if not path.is_file():
        raise SensingError(f"{path}: not found; a training run saves its best model there")
    try:
        return keras.models.load_model(path, compile=False)
    except (*DAMAGED_FILE_ERRORS, TypeError) as error:
        raise SensingError(
            f"{path}: damaged, not a readable Keras model ({type(error).__name__}: {error}); "
            "train the run again (or continue it with --resume, which writes it again, if it did not finish)"
        ) from None


def save_best_model(model: keras.Model, run_folder: str | Path) -> None:
    """Keep the best epoch on disk: ``model.keras``, and its weights for ``--resume``."""
    run_folder = Path(run_folder)
    save_keras_model(model, run_folder / KERAS_MODEL)
    folder = make_folder(run_folder / FOLDER)
    with atomic_path(folder / BEST_WEIGHTS) as partial:
        np.savez(partial, *model.get_weights())


def load_best_weights(run_folder: str | Path) -> list[np.ndarray] | None:
    """The weights :func:`save_best_model` kept, or None when no epoch was kept yet.

    A missing or damaged ``best_weights.npz`` is replaced by the weights of ``model.keras``,
    saved with it (a note on stderr says so).

    Raises:
        SensingError: both files are damaged.
    """
    run_folder = Path(run_folder)
    path = run_folder / FOLDER / BEST_WEIGHTS
    keras_path = run_folder / KERAS_MODEL
    if not path.is_file() and not keras_path.is_file():
        return None
    try:
        with np.load(path) as saved:
            return [saved[f"arr_{i}"] for i in range(len(saved.files))]
    except FileNotFoundError:
        damage = f"{path}: missing"
    except DAMAGED_FILE_ERRORS as error:
        damage = f"{path}: damaged ({type(error).__name__}: {error})"
    try:
        weights = load_keras_model(keras_path).get_weights()
    except SensingError:
        raise SensingError(f"{damage}, and {keras_path} is damaged too; {START_AGAIN}") from None
    print(f"note: {damage}; the best weights are read from {keras_path}", file=sys.stderr)
    return weights


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
        self.folder = (
            make_folder(Path(run_folder) / FOLDER)
            if chief
            else Path(tempfile.mkdtemp(prefix="sensing-worker-"))
        )
        self._manager = None

    def _checkpoint_manager(self) -> tf.train.CheckpointManager:
        if self._manager is None:
            checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer)
            self._manager = tf.train.CheckpointManager(checkpoint, str(self.folder), max_to_keep=KEEP)
        return self._manager

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        try:
            path = self._checkpoint_manager().save(checkpoint_number=epoch + 1)
        except tf.errors.OpError as error:
            shutil.rmtree(self.folder / f"ckpt-{epoch + 1}_temp", ignore_errors=True)
            raise write_error(self.folder / f"ckpt-{epoch + 1}", as_os_error(error)) from None
        if self.chief:
            state = {"epochs_done": epoch + 1, "checkpoint": Path(path).name, **self.identity}
            newest = self.folder / STATE
            if newest.is_file():
                os.replace(newest, self.folder / PREVIOUS_STATE)
            write_atomically(newest, json.dumps({**state, "report": self.report.state()}, indent=2) + "\n")

    def close(self) -> None:
        """Remove a non-chief worker's temporary folder."""
        if not self.chief:
            shutil.rmtree(self.folder, ignore_errors=True)


def as_os_error(error: tf.errors.OpError) -> OSError:
    """TensorFlow's error for a failed write (``ResourceExhaustedError`` for a full disk), as the
    ``OSError`` it stands for, so that :func:`sensing.files.write_error` can word it."""
    message = error.message or str(error)
    if "space left" in message.lower():
        return OSError(errno.ENOSPC, message)
    return OSError(errno.EIO, message)


def read_state(path: Path) -> dict:
    """A checkpoint's state (``state.json``).

    Raises:
        DamagedCheckpoint: the file is not a JSON object with the keys a checkpoint writes.
    """
    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedCheckpoint(f"{path}: damaged ({error})") from None
    if (
        not isinstance(state, dict)
        or any(key not in state for key in STATE_KEYS)
        or not isinstance(state["report"], dict)
        or any(key not in state["report"] for key in REPORT_KEYS)
    ):
        raise DamagedCheckpoint(
            f"{path}: damaged (not a checkpoint's state: it needs {', '.join(STATE_KEYS)})"
        )
    return state


def check_checkpoint_files(prefix: Path) -> None:
    """Read every tensor of the TensorFlow checkpoint ``prefix`` (``.index`` and ``.data-*`` files).

    Raises:
        DamagedCheckpoint: a file is missing, truncated or corrupt.
    """
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except DAMAGED_FILE_ERRORS as error:
        files = sorted(path.name for path in prefix.parent.glob(f"{prefix.name}.*"))
        raise DamagedCheckpoint(
            f"{prefix.parent}: checkpoint {prefix.name} is damaged or incomplete "
            f"({', '.join(files) or 'no files'}: {type(error).__name__}: {error})"
        ) from None


def _check_identity(run_folder: Path, state: dict, identity: dict) -> None:
    for key, value in identity.items():
        if state.get(key) != value:
            raise SensingError(
                f"cannot resume {run_folder}: it was trained with {key} {state.get(key)}, "
                f"this run has {value}; resume with the same --distribute, devices "
                "and --cache"
            )


def restore(run_folder: str | Path, model: keras.Model, *, identity: dict) -> dict:
    """Load the last intact checkpoint of ``run_folder`` into ``model`` (and its optimizer).

    The newest checkpoint is used, or the one before it when the newest is damaged
    (a note on stderr says so). Returns the saved state (``epochs_done``, ``report``).

    Raises:
        SensingError: no checkpoint; one written with other replicas or steps; or every
            checkpoint damaged (the message names the damaged file).
    """
    run_folder = Path(run_folder)
    folder = run_folder / FOLDER
    candidates = [path for path in (folder / STATE, folder / PREVIOUS_STATE) if path.is_file()]
    if not candidates:
        raise SensingError(
            f"{run_folder}: no checkpoint to resume from (the run stopped before "
            f"its first epoch ended); {START_AGAIN}"
        )
    damage: list[str] = []
    for path in candidates:
        try:
            state = read_state(path)
            _check_identity(run_folder, state, identity)
            check_checkpoint_files(folder / state["checkpoint"])
        except DamagedCheckpoint as error:
            damage.append(str(error))
            continue
        checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
        checkpoint.restore(str(folder / state["checkpoint"])).assert_existing_objects_matched()
        if damage:
            print(
                f"note: {damage[0]}; resuming from the checkpoint before it ({state['checkpoint']})",
                file=sys.stderr,
            )
        return state
    raise SensingError(f"{damage[0]}; no intact checkpoint is left to resume from: {START_AGAIN}")
