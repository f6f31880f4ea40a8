"""What audio and radar training runs share in their settings: one set of checks, the
``config.json`` they are written to and read from (:mod:`sensing.run_folder` names the file), and
how ``sensing prune`` prunes either."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sensing.errors import SensingError
from sensing.files import write_atomically
from sensing.run_folder import read_json

Settings = TypeVar("Settings")


def check_seed(name: str, seed: object) -> None:
    """Refuse a seed that is not an integer >= 0 (a bool is not one), naming the setting."""
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise SensingError(f"{name} must be an integer >= 0, got {seed!r}")


def check_run_settings(
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    learning_rate: float,
    label_smoothing: float,
    split_fractions: tuple[float, ...],
) -> None:
    """Refuse settings no run can train with, one clear message each.

    Raises:
        SensingError: epochs or batch size below 1, a negative or non-integer seed, a learning
            rate that is not positive, label smoothing outside [0, 1), or split fractions that are
            not three shares >= 0 (validation > 0) summing to 1.
    """
    if epochs < 1 or batch_size < 1:
        raise SensingError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}")
    check_seed("seed", seed)
    if not learning_rate > 0:  # also refuses nan
        raise SensingError(f"learning_rate must be positive, got {learning_rate!r}")
    if not 0 <= label_smoothing < 1:
        raise SensingError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    fractions = split_fractions
    if not (
        len(fractions) == 3 and min(fractions) >= 0 and fractions[1] > 0 and abs(sum(fractions) - 1) < 1e-9
    ):
        raise SensingError(
            f"split_fractions (train, validation, test) must be >= 0, validation > 0, summing to 1; "
            f"got {fractions}"
        )


def write_config(settings: Any, path: str | Path, **extra: Any) -> None:
    """Write a run's settings dataclass, with ``extra`` keys beside them, atomically as JSON."""
    write_atomically(path, json.dumps({**dataclasses.asdict(settings), **extra}, indent=2) + "\n")


def known_settings(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``values`` that are fields of the settings dataclass ``cls`` (a run's
    ``config.json`` also holds its status, command and versions)."""
    known = {field.name for field in dataclasses.fields(cls)}
    settings = {key: value for key, value in values.items() if key in known}
    if "split_fractions" in settings:
        settings["split_fractions"] = tuple(settings["split_fractions"])
    return settings


def read_config(path: str | Path, build: Callable[[dict[str, Any]], Settings]) -> Settings:
    """The settings ``build`` makes of the ``config.json`` in ``path``.

    Raises:
        SensingError: the file is missing, damaged, or holds values no run can have;
            the message names the file.
    """
    values = read_json(path)
    try:
        return build(values)
    except SensingError as error:
        message = str(error)
        raise SensingError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise SensingError(
            f"{path}: not a usable training run configuration ({type(error).__name__}: {error})"
        ) from None


REPRESENTATIVE_WINDOWS = 200
"""Training windows that calibrate the int8 activation ranges."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PruneSettings:
    """How a trained model is pruned and fine-tuned.

    Attributes:
        sparsity: share of each 1x1 convolution's weights set to zero, in (0, 1).
        epochs: fine-tuning epochs.
        learning_rate: peak Adam learning rate (cosine decay to zero), lower
            than training's because the network starts trained (``sensing prune
            --from-scratch`` takes the run's own).
        ramp_fraction: share of the fine-tuning steps over which sparsity
            rises from 0 to ``sparsity``.
        ramp_power: exponent of tfmot's PolynomialDecay schedule (3: prune
            fast at first, gently near the target).
        updates_per_epoch: how often per epoch the pruning masks are
            recomputed during the ramp.
        int8_windows: training windows that calibrate int8 activation ranges (audio runs).
        distill: share of each training target taken from the unpruned model's scores for the
            same input (:mod:`training.distillation`; 0: labels only), in [0, 1].
        seed: random seed of the pruning (batch order, augmentation and dropout of fine-tuning);
            None: the run's own. The split into training, validation and test stays the run's.
    """

    sparsity: float = 0.8
    epochs: int = 12
    learning_rate: float = 1e-3
    ramp_fraction: float = 0.5
    ramp_power: float = 3.0
    updates_per_epoch: int = 4
    int8_windows: int = REPRESENTATIVE_WINDOWS
    distill: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.distill <= 1:
            raise SensingError(f"distill must be from 0 to 1, got {self.distill:g}")
        if self.seed is not None:
            check_seed("seed", self.seed)
        if not 0 < self.sparsity < 1:
            raise SensingError(f"sparsity must be between 0 and 1, got {self.sparsity:g}")
        if not 0 < self.ramp_fraction < 1:
            raise SensingError(f"ramp_fraction must be between 0 and 1, got {self.ramp_fraction:g}")
        if self.epochs < 2:
            raise SensingError(f"pruning needs at least 2 epochs (ramp, then recovery), got {self.epochs}")

    def schedule_steps(self, steps_per_epoch: int) -> dict:
        """Steps of the polynomial schedule: mask update frequency, ramp end, first keepable epoch."""
        frequency = max(1, steps_per_epoch // self.updates_per_epoch)
        ramp_steps = max(1, round(self.ramp_fraction * self.epochs * steps_per_epoch))
        end_step = frequency * math.ceil(ramp_steps / frequency)
        first_eligible_epoch = min(self.epochs, end_step // steps_per_epoch + 1)
        return {
            "begin_step": 0,
            "end_step": end_step,
            "frequency": frequency,
            "first_eligible_epoch": first_eligible_epoch,
        }

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


THRESHOLD_SOURCES = ("own", "dense")
"""Where a pruned audio model's thresholds come from (:attr:`AudioPruneSettings.thresholds`)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class AudioPruneSettings(PruneSettings):
    """How an audio model is pruned: :class:`PruneSettings` with a longer recovery and
    distillation from the unpruned model, which keep the bedside figures closest to the dense
    model's (docs/speed.md measures them).

    Attributes:
        distill: as :class:`PruneSettings`'s, for the same augmented window; on by default here.
        from_scratch: train the run's architecture again from new weights while pruning
            (pruning during training) instead of fine-tuning its trained weights; the trained
            model still gives the distillation targets.
        seed: as :class:`PruneSettings`'s; here it also draws the int8 calibration windows and,
            from scratch, the first weights.
        thresholds: ``"own"``: each pruned file's thresholds let the run's target share of
            validation negatives through, as training's do; ``"dense"``: they make each pruned
            file (float32, sparse, int8) decide as the dense model it came from does on the same
            validation clips (:mod:`training.audio.agreement`).
    """

    epochs: int = 30
    distill: float = 0.75
    from_scratch: bool = False
    thresholds: str = "own"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.thresholds not in THRESHOLD_SOURCES:
            raise SensingError(
                f"thresholds must be one of {', '.join(THRESHOLD_SOURCES)}, got {self.thresholds!r}"
            )
