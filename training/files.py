"""A run's files, written so that a crash or a concurrent reader never sees half of one
(:mod:`sensing.run_folder` reads them)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path = Path(path)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=path.name, suffix=".partial", delete=False
    ) as handle:
        handle.write(text)
    os.replace(handle.name, path)
