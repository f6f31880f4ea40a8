"""Loading labeled clips into memory, with bad files skipped and counted.

Used to score a finished run's split through the runtime
(:mod:`training.audio.evaluate`); training itself streams its clips
(:mod:`training.audio.clip_store`). Audio is kept at the frontend's sample rate as
float32; the real data set (3,735 clips, about 2.1 hours) takes about 0.5 GB.
"""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import numpy as np

from sensing.audio.clips import ClipRecord, read_clip_list
from sensing.audio.reading import load_audio
from sensing.errors import AudioError, DataError
from sensing.progress import Progress
from sensing.wording import plural


@dataclasses.dataclass(frozen=True)
class LoadedClip:
    """A clip's record and its audio (1-D float32 at the frontend's rate)."""

    record: ClipRecord
    samples: np.ndarray


@dataclasses.dataclass(frozen=True)
class SkippedClip:
    """A clip that could not be used, and the reader's message saying why."""

    record: ClipRecord
    reason: str


SHOWN_DUPLICATES = 3
"""Clips listed more than once that a refusal names (the rest are counted)."""


def read_training_clips(path: str | Path) -> list[ClipRecord]:
    """The clips of a manifest CSV or label-folder tree, each listed once.

    Raises:
        DataError: as :func:`sensing.audio.clips.read_clip_list`, or a clip listed more than
            once (it would be trained on, or counted in the figures, as many times).
    """
    records = read_clip_list(path)
    refuse_duplicates(records, Path(path))
    return records


def refuse_duplicates(records: list[ClipRecord], source: Path) -> None:
    """Refuse a clip list that names one file more than once, naming the lines (the header is line 1,
    each clip one line) and the labels when they differ.

    Raises:
        DataError: a file is listed more than once.
    """
    rows: dict[Path, list[int]] = collections.defaultdict(list)
    for index, record in enumerate(records):
        rows[Path(record.path)].append(index)
    repeated = {path: indices for path, indices in rows.items() if len(indices) > 1}
    if not repeated:
        return
    described = []
    for path, indices in list(repeated.items())[:SHOWN_DUPLICATES]:
        labels = {records[i].label for i in indices}
        lines = ", ".join(f"{i + 2}" + (f" ({records[i].label})" if len(labels) > 1 else "") for i in indices)
        described.append(f"{_shown(path, source)} on lines {lines}")
    more = len(repeated) - SHOWN_DUPLICATES
    raise DataError(
        f"{source}: {len(repeated)} clip{'s are' if len(repeated) > 1 else ' is'} listed more than once: "
        + "; ".join(described)
        + (f"; and {more} more" if more > 0 else "")
        + "; list each clip once (a repeated row would be trained on and counted twice)"
    )


def _shown(path: Path, source: Path) -> str:
    """``path`` as the manifest wrote it: relative to its folder when below it."""
    try:
        return str(path.relative_to(source.resolve().parent))
    except ValueError:
        return str(path)


def load_clips(
    records: list[ClipRecord], *, sr: int, strict: bool
) -> tuple[list[LoadedClip], list[SkippedClip]]:
    """Read every clip, resampled to ``sr`` Hz mono.

    Args:
        records: the clips to read.
        sr: target sample rate in Hz.
        strict: raise on the first unusable file instead of skipping it.

    Returns:
        The loaded clips and the skipped ones with their reasons.

    Raises:
        AudioError: with ``strict``, for the first unusable file.
    """
    loaded, skipped = [], []
    progress = Progress("loading clips", len(records))
    for record in records:
        try:
            clip = load_audio(record.path, sr=sr)
        except AudioError as error:
            if strict:
                raise
            skipped.append(SkippedClip(record, str(error)))
        else:
            loaded.append(LoadedClip(record, clip.samples))
        progress.advance()
    progress.finish(f"{len(skipped)} skipped" if skipped else "")
    return loaded, skipped


def skipped_summary(skipped: list[SkippedClip], *, show: int = 10) -> str:
    """A readable account of skipped files: counts by reason and the first few names."""
    if not skipped:
        return "no files skipped"
    reasons = collections.Counter(item.reason.split(": ", 1)[-1].split(" (")[0] for item in skipped)
    lines = [
        f"{plural(len(skipped), 'unusable file')} skipped (pass --strict to stop at the first): "
        + ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())
    ]
    lines += [f"  {item.reason}" for item in skipped[:show]]
    if len(skipped) > show:
        lines.append(f"  ... and {len(skipped) - show} more (all listed in the run's skipped.csv)")
    return "\n".join(lines)
