"""The training loop shared by audio and radar runs: epoch by epoch, scored, checkpointed.

:func:`open_run` makes the distribution strategy and the worker's folder;
:func:`train_checkpointed` trains, resuming from the run's last checkpoint
when asked. Each epoch is one ``model.fit`` call on that epoch's dataset
(which depends only on the run's seed and the epoch, see
:mod:`training.audio.window_stream`), after the model's random layers are reseeded
from the same two numbers; a report scores the epoch on validation data and
keeps the best weights, and a checkpoint saves everything a resumed run needs.
"""

from __future__ import annotations

import dataclasses
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sensing.errors import DataError, SensingError
from sensing.files import make_folder
from sensing.run_folder import CONFIG, KERAS_MODEL
from training.checkpoints import (
    BEST_WEIGHTS,
    FOLDER,
    START_AGAIN,
    EpochCheckpoint,
    load_best_weights,
    reseed_random_layers,
    restore,
    start_afresh,
)
from training.distribute import describe, distributed, is_chief, make_strategy
from training.scale import ScaleSettings
from training.tf_setup import keras, tf


def run_info() -> dict:
    """The command and versions, recorded in every run's ``config.json``."""
    return {"command": " ".join(sys.argv), "python": platform.python_version(), "tensorflow": tf.__version__}


@dataclasses.dataclass(frozen=True)
class RunPlace:
    """Where one process of a run trains and writes.

    Attributes:
        strategy: the distribution strategy.
        chief: whether this process writes the run folder (see :mod:`training.distribute`).
        run_folder: the run folder (``--out``).
        info: command, versions, distribution: recorded in ``config.json``.
    """

    strategy: tf.distribute.Strategy
    chief: bool
    run_folder: Path
    info: dict

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)


def open_run(config, scale: ScaleSettings):
    """Make the strategy (before TensorFlow runs anything), clear old checkpoints from a fresh
    run's folder, and write ``config.json`` with status ``running``.

    Args:
        config: the run's settings (with ``out`` and ``write``).

    Returns:
        ``(config, place)``: the settings this process uses (``out`` is a temporary
        folder on a worker other than the chief) and the :class:`RunPlace`.
    """
    strategy = make_strategy(scale.distribute, cpu_devices=scale.cpu_devices)
    place = RunPlace(
        strategy=strategy,
        chief=is_chief(strategy),
        run_folder=Path(config.out),
        info={**run_info(), **describe(scale.distribute, strategy)},
    )
    if place.chief and not scale.resume:
        start_afresh(place.run_folder)
    if not place.chief:
        config = dataclasses.replace(config, out=tempfile.mkdtemp(prefix="sensing-worker-"))
    make_folder(config.out)
    config.write(Path(config.out) / CONFIG, status="running", **place.info)
    return config, place


class BestEpochReport(keras.callbacks.Callback):
    """After each epoch: score the model, record the epoch, keep the best weights.

    Subclasses give :meth:`score` and :meth:`describe`.

    Args:
        epochs: epochs planned (for the progress line).
        save_best: called with the model whenever an epoch becomes the best,
            so an interrupted run still leaves its best model on disk.
        first_eligible_epoch: earlier epochs are scored but never kept (pruning
            keeps only epochs that reached the target sparsity).
        scoring_model: a model outside any distribution strategy, of the same
            architecture, that is given the trained weights and scored (None:
            score the trained model itself).

    Attributes:
        history: one entry per epoch: loss, accuracy, validation score, the
            seconds spent training (``train_seconds``, validation excluded) and
            since the start (``seconds``).
    """

    def __init__(
        self,
        *,
        epochs: int,
        save_best: Callable[[keras.Model], None],
        first_eligible_epoch: int = 1,
        scoring_model: keras.Model | None = None,
    ) -> None:
        super().__init__()
        self.epochs = epochs
        self.save_best = save_best
        self.first_eligible_epoch = first_eligible_epoch
        self.scoring_model = scoring_model
        self.history: list[dict] = []
        self.best_score = -1.0
        self.best_epoch = 0
        self.best_weights: list[np.ndarray] | None = None
        self.started = time.monotonic()
        self.epoch_started = self.started

    def score(self, model: keras.Model) -> tuple[float, dict]:
        """The validation score to maximise, and extra entries for the history."""
        raise NotImplementedError

    def describe(self, entry: dict, improved: bool) -> None:
        """Print the epoch's line."""
        raise NotImplementedError

    def state(self) -> dict:
        """What a checkpoint keeps of the report (the best weights are saved by ``save_best``)."""
        return {"history": self.history, "best_score": self.best_score, "best_epoch": self.best_epoch}

    def resume(self, state: dict, best_weights: list[np.ndarray] | None) -> None:
        """Continue from a checkpoint's :meth:`state` and the best weights saved then."""
        self.history = state["history"]
        self.best_score, self.best_epoch = state["best_score"], state["best_epoch"]
        self.best_weights = best_weights
        self.started -= self.history[-1]["seconds"] if self.history else 0.0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch_started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        train_seconds = time.monotonic() - self.epoch_started
        scored = self.model
        if self.scoring_model is not None:
            self.scoring_model.set_weights(self.model.get_weights())
            scored = self.scoring_model
        score, extra = self.score(scored)
        entry = {
            "epoch": epoch + 1,
            "loss": float(logs["loss"]),
            "accuracy": float(logs["accuracy"]),
            "validation_score": score,
            **extra,
            "train_seconds": round(train_seconds, 2),
            "seconds": round(time.monotonic() - self.started, 1),
        }
        self.history.append(entry)
        improved = epoch + 1 >= self.first_eligible_epoch and score >= self.best_score  # ties: the later
        if improved:
            self.best_score, self.best_epoch = score, epoch + 1
            self.best_weights = scored.get_weights()
            self.save_best(scored)
        self.describe(entry, improved)


def compile_for_training(
    model: keras.Model, *, learning_rate: float, steps: int, label_smoothing: float
) -> None:
    """Adam with a cosine decay from ``learning_rate`` to zero over ``steps``, smoothed cross-entropy."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=max(1, steps))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )


def train_epochs(
    model: keras.Model,
    windows,
    *,
    epochs: int,
    report: BestEpochReport,
    strategy: tf.distribute.Strategy | None = None,
    checkpoint: EpochCheckpoint | None = None,
    start_epoch: int = 0,
    seed: int = 0,
    extra_callbacks: tuple = (),
) -> tuple[keras.Model, bool]:
    """Train ``model`` (built and compiled under ``strategy``'s scope) and restore its best epoch.

    Args:
        windows: has ``dataset(epoch, input_context)`` and ``steps_per_epoch``.
        epochs: the epoch to end after; ``start_epoch`` epochs are already done.
        report: scores each epoch and keeps the best weights.
        strategy: the distribution strategy (None: the default one).
        checkpoint: saves the run's state after the report, each epoch.
        seed: reseeds the model's random layers each epoch.
        extra_callbacks: run before the report (pruning steps).

    Every worker of a multi-worker run scores every epoch too: reading the trained
    weights, and anything the model creates while Keras holds the strategy's scope
    during a callback, are steps all workers must take together.

    Returns the model and whether Ctrl-C interrupted training.
    """
    strategy = strategy or tf.distribute.get_strategy()
    callbacks = [*extra_callbacks, report, *([checkpoint] if checkpoint else [])]
    interrupted = False
    try:
        for epoch in range(start_epoch, epochs):
            with strategy.scope():
                reseed_random_layers(model, seed, epoch)
            dataset = distributed(strategy, lambda context, epoch=epoch: windows.dataset(epoch, context))
            model.fit(
                dataset,
                initial_epoch=epoch,
                epochs=epoch + 1,
                steps_per_epoch=windows.steps_per_epoch,
                callbacks=callbacks,
                verbose=0,
            )
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: finishing the run with the best epoch so far", file=sys.stderr)
    if report.best_weights is None:
        raise DataError("training stopped before an epoch could be kept; nothing to export")
    model.set_weights(report.best_weights)
    return model, interrupted


def train_checkpointed(
    model: keras.Model,
    windows,
    *,
    place: RunPlace,
    out: Path,
    resume: bool,
    report: BestEpochReport,
    identity: dict,
    epochs: int,
    seed: int,
    epoch_name: str = "epoch",
) -> tuple[keras.Model | None, bool]:
    """:func:`train_epochs` with a checkpoint after every epoch, resumed from the run's last one.

    Args:
        out: this process's folder (the run folder on the chief).
        resume: continue from the run folder's last checkpoint.
        identity: what a resumed run must share with the stopped one (replicas, steps...).
        epoch_name: what the progress line calls an epoch.

    Returns:
        The model at its best epoch (outside any strategy), or None on a worker
        other than the chief (its folder is removed), and whether Ctrl-C stopped training.
        A resumed run saves its best model again at the end (``report.save_best``).
    """
    checkpoint = EpochCheckpoint(out, report=report, chief=place.chief, identity=identity)
    start_epoch = 0
    if resume:
        state = restore(place.run_folder, model, identity=identity)
        best_weights = load_best_weights(place.run_folder)
        if best_weights is None and state["report"]["best_epoch"] > 0:
            raise SensingError(
                f"{place.run_folder}: the best epoch's weights ({KERAS_MODEL}, "
                f"{FOLDER}/{BEST_WEIGHTS}) are gone; {START_AGAIN}"
            )
        report.resume(state["report"], best_weights)
        start_epoch = state["epochs_done"]
        print(f"resuming after {epoch_name} {start_epoch} of {epochs}", file=sys.stderr)
    try:
        model, interrupted = train_epochs(
            model,
            windows,
            epochs=epochs,
            report=report,
            strategy=place.strategy,
            checkpoint=checkpoint,
            start_epoch=start_epoch,
            seed=seed,
        )
    finally:
        checkpoint.close()
    if not place.chief:  # worker 0 writes the run folder
        shutil.rmtree(out, ignore_errors=True)
        return None, interrupted
    if report.scoring_model is not None:
        model = report.scoring_model
        model.set_weights(report.best_weights)
    if resume:  # write the best model again: a damaged model.keras is not read on resume
        report.save_best(model)
    return model, interrupted
