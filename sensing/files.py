"""Writing outputs so that a crash, a full disk or a second run never leaves a damaged or mixed folder.

- :func:`atomic_path` and :func:`write_atomically`: a file is written under a temporary name
  beside its final path and renamed into place only when complete, so a reader (or the
  next run) sees the old file or the new one, never a part. A failed write removes the
  temporary file and raises :class:`WriteError`, whose one-line message names the path and
  the cause ("No space left on device").
- :func:`locked_output_folder`: a run holds an exclusive lock on its output folder; a
  second run into the same folder is refused at once instead of interleaving its lines.
- :func:`clear_outputs`: a run into a folder that holds an earlier run's outputs removes
  them first, so the folder never shows one run's ``events.csv`` beside another's
  ``report.json``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from sensing.errors import SensingError

LOCK_FILE = ".sensing.lock"
"""Name of the lock file a run keeps open in its output folder."""


class WriteError(SensingError):
    """An output could not be written (disk full, no permission, a folder where a file goes)."""


def os_error_cause(error: OSError) -> str:
    """What went wrong in ``error``, in words, without the path."""
    if error.errno == errno.ENOSPC:
        return "no space left on the device; free some space and run again"
    return (error.strerror or str(error) or type(error).__name__).lower()


def write_error(path: str | Path, error: OSError) -> WriteError:
    """The one-line :class:`WriteError` for ``error`` raised while writing ``path``."""
    return WriteError(f"cannot write {path}: {os_error_cause(error)}")


def temporary_name(path: Path) -> Path:
    """A hidden name beside ``path`` with the same suffix (writers that pick a format by suffix
    still pick the right one)."""
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; on success it replaces ``path``.

    On any exception the temporary file is removed and ``path`` is untouched; an
    ``OSError`` (including a full disk) becomes a :class:`WriteError` naming ``path``.
    """
    path = Path(path)
    partial = temporary_name(path)
    try:
        yield partial
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise write_error(path, error) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_atomically(path: str | Path, content: str | bytes) -> Path:
    """Write text or bytes to ``path`` atomically (see :func:`atomic_path`); returns ``path``."""
    with atomic_path(path) as partial:
        if isinstance(content, bytes):
            partial.write_bytes(content)
        else:
            partial.write_text(content)
    return Path(path)


def make_folder(path: str | Path) -> Path:
    """``mkdir -p`` with a one-line error instead of an ``OSError``."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise WriteError(f"cannot create folder {path}: a file of that name is in the way") from None
    except OSError as error:
        raise write_error(path, error) from None
    return path


@contextlib.contextmanager
def locked_output_folder(folder: str | Path) -> Iterator[Path]:
    """Create ``folder`` and hold an exclusive lock on it for the ``with`` block.

    A second run into the same folder (from this machine) is refused with a
    :class:`SensingError` (bad input: choose another folder) rather than writing beside the first. The lock is the
    operating system's (``flock``), so it ends with the process, even on ``kill -9``.
    """
    folder = make_folder(folder)
    lock_path = folder / LOCK_FILE
    try:
        handle = open(lock_path, "a+")
    except OSError as error:
        raise write_error(lock_path, error) from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SensingError(
                f"{folder} is in use by another sensing run; wait for it to finish or choose another --out"
            ) from None
        yield folder
    finally:
        handle.close()


def clear_outputs(folder: Path, names: Iterable[str]) -> None:
    """Remove the files ``names`` that an earlier run left in ``folder``."""
    for name in names:
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError as error:
            raise write_error(folder / name, error) from None
