"""A radar file as the commands take it: the toolkit's ``.npz``, or an Acconeer ``.h5`` converted on the fly.

:func:`as_recording` hands on a toolkit recording (:mod:`sensing.radar.recording`)
as it is; an Acconeer Exploration Tool file (told by its ``.h5``/``.hdf5``
suffix or the HDF5 signature) is converted (:func:`~sensing.radar.acconeer.convert_acconeer`)
into a temporary ``.npz`` that is removed when the ``with`` block ends, however it ends.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sensing.files import WriteError
from sensing.radar.acconeer import convert_acconeer

ACCONEER_SUFFIXES = (".h5", ".hdf5")
"""Suffixes of Acconeer Exploration Tool recordings."""
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first 8 bytes of an HDF5 file."""


def is_hdf5(path: Path) -> bool:
    """Whether ``path`` names an HDF5 file: by its suffix, or by its first bytes."""
    if path.suffix.lower() in ACCONEER_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
    except OSError:
        return False  # missing or unreadable: the recording reader names the problem


@contextlib.contextmanager
def as_recording(path: str | Path) -> Iterator[Path]:
    """Yield the path of a toolkit recording holding ``path``'s frames.

    Args:
        path: a toolkit ``.npz`` recording (yielded as it is) or an Acconeer
            ``.h5`` file holding one stream (converted into a temporary folder,
            :func:`tempfile.mkdtemp`'s, which ``TMPDIR`` chooses).

    Raises:
        RadarError: a malformed Acconeer file, or one with several streams
            (convert the one wanted with ``sensing radar convert --entry``).
        WriteError: the temporary folder has no room for the converted frames.
        SensingError: an Acconeer file without h5py installed.
    """
    path = Path(path)
    if not is_hdf5(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="sensing-radar-") as folder:
        converted = Path(folder) / f"{path.stem}.npz"
        try:
            convert_acconeer(path, converted)
        except WriteError as error:
            raise WriteError(
                f"{error} (reading {path} converts it into the temporary folder; set TMPDIR to choose another)"
            ) from None
        yield converted
