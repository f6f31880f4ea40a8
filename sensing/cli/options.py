"""What every command group of the ``sensing`` command line shares: option types and lazy imports.

Commands that train or export import their heavy dependencies lazily (through
:func:`import_extra`), so the runtime install (a Raspberry Pi) runs ``detect``
without TensorFlow and is told which extra to install for the rest.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
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
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value:g}")
    return value


def at_least(minimum: float) -> Callable[[str], float]:
    """An argparse type: a number no smaller than ``minimum``."""

    def parse(text: str) -> float:
        value = float(text)
        if not value >= minimum:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, got {value:g}")
        return value

    return parse


def between(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high``."""

    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {value:g}")
        return value

    return parse


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
