"""Lists of labeled clips: from a CSV manifest or a folder with one subfolder per label.

A manifest has the columns ``path`` and ``label``, and optionally ``group``
(speaker, recording or source file; a group never straddles a data split) and
``category`` (what kind of sound a negative is). Paths are relative to the CSV.
A folder ``DATA/`` holds ``DATA/<label>/*.wav`` (any format soundfile reads);
each file is then its own group.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import difflib
from pathlib import Path

from sensing.errors import DataError
from sensing.wording import plural

AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".au", ".caf", ".w64", ".rf64"}
)
REQUIRED_COLUMNS = ("path", "label")
OPTIONAL_COLUMNS = ("group", "category")


@dataclasses.dataclass(frozen=True)
class ClipRecord:
    """One labeled clip. ``category`` defaults to the label."""

    path: Path
    label: str
    group: str
    category: str


def read_manifest(csv_path: str | Path) -> list[ClipRecord]:
    """Clips listed in a CSV manifest (see the module docstring).

    Raises:
        DataError: the file is missing or empty, a required column is missing,
            or a row has an empty path or label.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: manifest not found")
    try:
        return _parse_manifest(csv_path)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{csv_path}: not a readable UTF-8 CSV file ({error})") from None


def _parse_manifest(csv_path: Path) -> list[ClipRecord]:
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [name.strip() for name in (reader.fieldnames or [])]
        if not columns:
            raise DataError(
                f"{csv_path}: empty manifest, expected a header with columns {', '.join(REQUIRED_COLUMNS)}"
            )
        for required in REQUIRED_COLUMNS:
            if required not in columns:
                hint = difflib.get_close_matches(required, columns, n=1)
                raise DataError(
                    f"{csv_path}: missing column '{required}' (columns found: {', '.join(columns)}"
                    + (f"; did you mean '{hint[0]}'?" if hint else "")
                    + f"); a manifest needs {', '.join(REQUIRED_COLUMNS)} and may have "
                    f"{', '.join(OPTIONAL_COLUMNS)}"
                )
        records = []
        for line_number, raw_row in enumerate(reader, start=2):
            if None in raw_row:
                raise DataError(
                    f"{csv_path}, line {line_number}: more fields than the header's "
                    f"{len(columns)} columns (an unquoted comma in a path?)"
                )
            row = {(key or "").strip(): (value or "").strip() for key, value in raw_row.items()}
            if not row["path"] or not row["label"]:
                raise DataError(f"{csv_path}, line {line_number}: empty path or label")
            clip_path = (csv_path.parent / row["path"]).resolve()
            records.append(
                ClipRecord(
                    path=clip_path,
                    label=row["label"],
                    group=row.get("group") or str(clip_path),
                    category=row.get("category") or row["label"],
                )
            )
    if not records:
        raise DataError(f"{csv_path}: manifest has a header but no clips")
    return records


def read_folder(folder: str | Path) -> list[ClipRecord]:
    """Clips in ``folder/<label>/`` (searched recursively below each label folder).

    Raises:
        DataError: the folder is missing, has no label subfolders, or holds no audio.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    label_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not label_dirs:
        raise DataError(
            f"{folder}: no label subfolders; expected {folder}/<label>/<clip>.wav, "
            f"for example {folder}/cough/ and {folder}/other/"
        )
    records = []
    for label_dir in label_dirs:
        for clip_path in sorted(label_dir.rglob("*")):
            if clip_path.is_file() and clip_path.suffix.lower() in AUDIO_SUFFIXES:
                resolved = clip_path.resolve()
                records.append(
                    ClipRecord(
                        path=resolved, label=label_dir.name, group=str(resolved), category=label_dir.name
                    )
                )
    if not records:
        raise DataError(
            f"{folder}: no audio files in its label subfolders "
            f"({', '.join(d.name for d in label_dirs)}); "
            f"recognised suffixes: {', '.join(sorted(AUDIO_SUFFIXES))}"
        )
    return records


def read_clip_list(path: str | Path) -> list[ClipRecord]:
    """A manifest CSV or a label-folder tree, whichever ``path`` is."""
    path = Path(path)
    if path.is_dir():
        return read_folder(path)
    if path.suffix.lower() == ".csv":
        return read_manifest(path)
    if not path.exists():
        raise DataError(f"{path}: not found (expected a manifest .csv or a folder of label folders)")
    raise DataError(f"{path}: expected a manifest .csv or a folder of label folders")


def check_label_counts(records: list[ClipRecord], *, min_clips: int, min_groups: int) -> None:
    """Refuse labels with too few clips or groups to train and validate on.

    Raises:
        DataError: naming every label below the limits, with its counts.
    """
    clips = collections.Counter(r.label for r in records)
    groups = collections.defaultdict(set)
    for record in records:
        groups[record.label].add(record.group)
    if len(clips) < 2:
        raise DataError(f"need at least 2 labels to train a classifier, found {sorted(clips)}")
    too_few = [
        f"'{label}' ({plural(clips[label], 'clip')} in {plural(len(groups[label]), 'group')})"
        for label in sorted(clips)
        if clips[label] < min_clips or len(groups[label]) < min_groups
    ]
    if too_few:
        raise DataError(
            f"too few examples for label {', '.join(too_few)}; each label needs at "
            f"least {min_clips} clips in {min_groups} groups"
        )
