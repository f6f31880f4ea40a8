"""The rig's night folders: ``OUTPUT/YYYY-MM-DD/``, a new one for each start, the oldest deleted.

A night is dated by its evening (as the history dates it:
:data:`sensing.history.nights.EVENING_SHIFT`), so a rig restarted at 03:00 writes into the
night of the evening before. A folder of that date that already exists (the night was cut
by a power failure or a crash, and the rig started again) is kept as it is: the new start
writes ``YYYY-MM-DD-2``, then ``-3``. Only folders named this way are ever deleted.
"""

from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path

from sensing.files import make_folder
from sensing.history.nights import EVENING_SHIFT

NIGHT_REPORT = "report.json"
"""A finished night's combined report, in its folder."""
NIGHT_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:-(\d+))?")
"""A rig night folder's name: the evening's date, and a start number from the second start on."""


def night_date(moment: datetime.datetime) -> datetime.date:
    """The evening a night running at ``moment`` belongs to."""
    return (moment - EVENING_SHIFT).date()


def new_night_folder(output: Path, moment: datetime.datetime) -> Path:
    """Create and return a fresh folder for a night starting at ``moment``."""
    make_folder(output)
    date = night_date(moment).isoformat()
    number = 1
    while True:
        folder = output / (date if number == 1 else f"{date}-{number}")
        try:
            folder.mkdir()
        except FileExistsError:
            number += 1
            continue
        return folder


def remove_unfinished(folder: Path) -> None:
    """Remove the folder of a night that failed before its report was written (a radar that
    gave no whole epoch, a model that would not load): it is no night, and left there, one
    per restart, such folders would push real nights out of those kept."""
    if folder.is_dir() and not (folder / NIGHT_REPORT).exists():
        shutil.rmtree(folder)


def _is_night_name(name: str) -> bool:
    match = NIGHT_NAME.fullmatch(name)
    if match is None:
        return False
    try:
        datetime.date.fromisoformat(match[1])
    except ValueError:
        return False
    return True


def _order(folder: Path) -> tuple[str, int]:
    match = NIGHT_NAME.fullmatch(folder.name)
    assert match is not None
    return match[1], int(match[2] or 1)


def night_folders(output: Path) -> list[Path]:
    """The rig's night folders in ``output``, oldest first."""
    if not output.is_dir():
        return []
    found = [path for path in output.iterdir() if path.is_dir() and _is_night_name(path.name)]
    return sorted(found, key=_order)


def delete_old_nights(output: Path, keep: int) -> list[Path]:
    """Delete the oldest night folders beyond the newest ``keep`` (0 keeps all); returns those deleted."""
    if keep <= 0:
        return []
    folders = night_folders(output)
    old = folders[: max(0, len(folders) - keep)]
    for folder in old:
        shutil.rmtree(folder)
    return old
