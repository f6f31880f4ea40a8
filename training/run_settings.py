"""What audio and radar training runs share in their settings: one set of checks, and the
``config.json`` they are written to and read from (:mod:`sensing.run_folder` names the file)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sensing.errors import SensingError
from sensing.files import write_atomically
from sensing.run_folder import read_json

Settings = TypeVar("Settings")


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
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise SensingError(f"seed must be an integer >= 0, got {seed!r}")
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
