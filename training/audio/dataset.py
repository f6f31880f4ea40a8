"""Loading labeled clips into memory, with bad files skipped and counted.

Used to score a finished run's split through the runtime
(:mod:`training.audio.evaluate`); training itself streams its clips
(:mod:`training.audio.clip_store`). Audio is kept at the frontend's sample rate as
float32; the real data set (3,735 clips, about 2.1 hours) takes about 0.5 GB.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from sensing.audio.clips import ClipRecord
from sensing.audio.reading import load_audio
from sensing.errors import AudioError
from sensing.progress import Progress


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
        f"{len(skipped)} unusable files skipped (pass --strict to stop at the first): "
        + ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())
    ]
    lines += [f"  {item.reason}" for item in skipped[:show]]
    if len(skipped) > show:
        lines.append(f"  ... and {len(skipped) - show} more (all listed in the run's skipped.csv)")
    return "\n".join(lines)
