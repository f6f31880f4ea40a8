"""Output folders for runs and reports."""

from __future__ import annotations

from pathlib import Path

from sensing.errors import SensingError


def output_folder(path: str | Path) -> Path:
    """Create ``path`` as a folder (with its parents) and return it.

    Raises:
        SensingError: ``path`` exists and is a file.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SensingError(f"{path}: exists and is not a folder; --out needs a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path
