"""The training loop shared by audio and radar runs: epoch by epoch, scored, checkpointed.

Each epoch is one ``model.fit`` call on that epoch's dataset (which depends
only on the run's seed and the epoch, see :mod:`training.window_stream`),
after the model's random layers are reseeded from the same two numbers; a
report scores the epoch on validation data and keeps the best weights, and
a checkpoint saves everything a resumed run needs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from sensing.errors import DataError
from training.checkpoints import EpochCheckpoint, reseed_random_layers
from training.distribute import distributed
from training.tf_setup import keras, tf


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

    def __init__(self, *, epochs: int, save_best: Callable[[keras.Model], None],
                 first_eligible_epoch: int = 1, scoring_model: keras.Model | None = None) -> None:
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
        entry = {"epoch": epoch + 1, "loss": float(logs["loss"]), "accuracy": float(logs["accuracy"]),
                 "validation_score": score, **extra, "train_seconds": round(train_seconds, 2),
                 "seconds": round(time.monotonic() - self.started, 1)}
        self.history.append(entry)
        improved = epoch + 1 >= self.first_eligible_epoch and score >= self.best_score  # ties: the later
        if improved:
            self.best_score, self.best_epoch = score, epoch + 1
            self.best_weights = scored.get_weights()
            self.save_best(scored)
        self.describe(entry, improved)


def train_epochs(model: keras.Model, windows, *, epochs: int, report: BestEpochReport,
                 strategy: tf.distribute.Strategy | None = None, checkpoint: EpochCheckpoint | None = None,
                 start_epoch: int = 0, seed: int = 0,
                 extra_callbacks: tuple = ()) -> tuple[keras.Model, bool]:
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
            model.fit(dataset, initial_epoch=epoch, epochs=epoch + 1, steps_per_epoch=windows.steps_per_epoch,
                      callbacks=callbacks, verbose=0)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: finishing the run with the best epoch so far", file=sys.stderr)
    if report.best_weights is None:
        raise DataError("training stopped before an epoch could be kept; nothing to export")
    model.set_weights(report.best_weights)
    return model, interrupted
