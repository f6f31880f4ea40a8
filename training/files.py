"""A run's JSON files: written so that a crash or a concurrent reader never sees half of
one, read with messages that say what is wrong."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from sensing.errors import SensingError


def write_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path = Path(path)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=path.name, suffix=".partial", delete=False
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)


def read_run_json(path: str | Path) -> dict:
    """The JSON object a training run wrote (its ``config.json``).

    Raises:
        SensingError: the file is missing or not valid JSON.
    """
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SensingError(f"{path}: not found; is {path.parent} a training run folder?") from None
    except json.JSONDecodeError as error:
        raise SensingError(f"{path}: not valid JSON ({error})") from None
