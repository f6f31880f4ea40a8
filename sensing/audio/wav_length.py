"""Whether a WAV file holds the audio its header declares.

libsndfile reads what is there without a word: a WAV cut short (a copy that stopped
part-way, a recorder whose card filled up) reads as a shorter recording, and one whose
header was never finished (a recorder that lost power) reads as empty or too short.
:func:`wav_length_warning` compares the size the header declares for the ``data``
chunk with the bytes the file really holds after it.
"""

from __future__ import annotations

import struct
from pathlib import Path

from sensing.errors import AudioError

UNKNOWN_SIZE = 0xFFFFFFFF
"""A ``data`` size that writers use for "not known" (streams, RF64): no check is made."""

IGNORED_SHORTFALL_S = 0.1
"""Differences between the declared and held audio below this (seconds) are not reported."""

CHUNK_HEADER_BYTES = 8


def _data_chunk(head: bytes, file_bytes: int) -> tuple[int, int, int] | None:
    """``(byte_rate, data_offset, declared_bytes)`` of a little-endian RIFF/WAVE file's
    ``data`` chunk, from the file's first bytes ``head``; None for anything else."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    byte_rate = 0
    position = 12
    while position + CHUNK_HEADER_BYTES <= len(head):
        chunk_id = head[position : position + 4]
        (size,) = struct.unpack("<I", head[position + 4 : position + 8])
        body = position + CHUNK_HEADER_BYTES
        if chunk_id == b"fmt " and body + 12 <= len(head):
            (byte_rate,) = struct.unpack("<I", head[body + 8 : body + 12])
        if chunk_id == b"data":
            return (byte_rate, body, size) if byte_rate > 0 else None
        position = body + size + (size & 1)
        if position > file_bytes:
            return None
    return None


def _chunk_follows(tail: bytes) -> bool:
    """Whether ``tail`` (the bytes after the declared audio) starts with a RIFF chunk header."""
    return len(tail) >= CHUNK_HEADER_BYTES and all(32 <= byte < 127 for byte in tail[:4])


def wav_length_warning(path: Path, *, head_bytes: int = 1 << 16) -> str | None:
    """A one-line warning when the WAV file ``path`` holds less (or, after an unfinished
    recording, more) audio than its header declares; None when they agree or the file is
    not a RIFF/WAVE file (other formats are checked by their decoder).

    Raises:
        AudioError: the header declares no audio although audio follows it, so the file
            would read as empty (a recording that was never closed).
    """
    file_bytes = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(head_bytes)
        found = _data_chunk(head, file_bytes)
        if found is None:
            return None
        byte_rate, offset, declared = found
        held = file_bytes - offset
        if declared == UNKNOWN_SIZE:
            return None
        declared_s, held_s = declared / byte_rate, held / byte_rate
        if declared < held:
            handle.seek(offset + declared + (declared & 1))
            if _chunk_follows(handle.read(CHUNK_HEADER_BYTES)):
                return None
    if declared == 0 and held_s >= IGNORED_SHORTFALL_S:
        raise AudioError(
            f"{path}: the header declares no audio but {held_s:.1f} s follow it (a recording that "
            "was never closed); rewrite it with a tool that ignores the header, e.g. "
            "sox --ignore-length IN.wav OUT.wav"
        )
    if declared_s - held_s >= IGNORED_SHORTFALL_S:
        return (
            f"{path}: cut short: the header declares {declared_s:.1f} s of audio but the file "
            f"holds {held_s:.1f} s; only those are read (was the file copied or written in full?)"
        )
    if held_s - declared_s >= IGNORED_SHORTFALL_S:
        return (
            f"{path}: the header declares {declared_s:.1f} s of audio but {held_s:.1f} s follow it "
            "(a recording that was not closed properly); only the declared part is read"
        )
    return None
