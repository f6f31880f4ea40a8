"""What every command group of the ``sensing`` command line shares: option types and lazy imports.

Commands that train or export import their heavy dependencies lazily (through
:func:`import_extra`), so the runtime install (a Raspberry Pi) runs ``detect``
without TensorFlow and is told which extra to install for the rest.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sensing.errors import SensingError

EXTRA_PACKAGES = {
    "train": {
        "tensorflow",
        "tf_keras",
        "tensorflow_model_optimization",
        "librosa",
        "matplotlib",
        "pyroomacoustics",
        "scipy",
    },
    "firmware": {"tflite_micro"},
}
"""The top-level packages each extra of ``setup.cfg`` installs, to name the extra a user lacks."""


def missing_extra_message(error: ImportError, extra: str) -> str:
    """The one-line error for a command whose extra is not installed."""
    return (
        f"this command needs the {extra} extra ({error.name} is not installed): "
        f"pip install 'sensing[{extra}]'  (from a clone: pip install -e '.[{extra}]')"
    )


def import_extra(module: str) -> ModuleType:
    """Import ``module``, turning a dependency missing from an extra into a clear message."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = (error.name or "").split(".")[0]
        for extra, packages in EXTRA_PACKAGES.items():
            if top in packages:
                raise SensingError(missing_extra_message(error, extra)) from None
        raise


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number of 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    value = finite_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value:g}")
    return value


def finite_float(text: str) -> float:
    """An argparse type: any finite number (``nan`` and ``inf`` refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def at_least(minimum: float) -> Callable[[str], float]:
    """An argparse type: a finite number no smaller than ``minimum``."""

    def parse(text: str) -> float:
        value = finite_float(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, got {value:g}")
        return value

    return parse


def positive(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value:g}")
    return value


def between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number from ``low`` to ``high``."""

    def parse(text: str) -> float:
        value = finite_float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {value:g}")
        return value

    return parse


def clock_time(text: str) -> datetime.datetime:
    """An argparse type: a clock time ``HH:MM`` (today's date assumed) or a date and time
    ``YYYY-MM-DDTHH:MM``."""
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.datetime.combine(datetime.date.today(), datetime.time.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a clock time such as 23:10 or a date and time such as 2024-03-01T23:10, got {text!r}"
        ) from None


def add_start_time_option(
    parser: argparse.ArgumentParser,
    what: str = "radar recording",
    default: str = "the recording's own, which Acconeer files carry; else time from the start",
) -> None:
    """``--start-time``: the clock time the ``what`` started, for the pictures and the summary."""
    parser.add_argument(
        "--start-time",
        type=clock_time,
        default=None,
        metavar="HH:MM",
        help=f"the clock time the {what} started, so pictures read in clock time (default: {default})",
    )


def add_model_option(parser: argparse.ArgumentParser, what: str, default: str | None) -> None:
    """``--model``, the same on every command: a ``.tflite`` file or a training run folder (its
    ``model.tflite``); ``default`` names what is used without it (None: the option is required).
    Resolve it with :func:`sensing.run_folder.resolve_model`."""
    where = f" (default: {default})" if default else ""
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        required=default is None,
        help=f"{what}: a .tflite file or a training run folder{where}",
    )


def field_default(settings: type, name: str) -> Any:
    """The default of field ``name`` of the settings dataclass ``settings``, so that an option's
    default is written once, where the setting is defined."""
    for field in dataclasses.fields(settings):
        if field.name == name:
            if field.default is not dataclasses.MISSING:
                return field.default
            if field.default_factory is not dataclasses.MISSING:
                return field.default_factory()
    raise KeyError(f"{settings.__name__} has no field {name!r} with a default")


def format_score(value: float | None) -> str:
    """A figure with three decimals, or ``n/a``."""
    return "n/a" if value is None else f"{value:.3f}"


def display_path(path: Path) -> Path:
    """Relative to the working directory when below it, else absolute."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path.resolve()
