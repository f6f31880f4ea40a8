"""What TensorFlow prints: nothing of its own, unless a command runs with ``--verbose``.

TensorFlow writes from C++ straight to file descriptor 2: notices when it loads
(oneDNN, CUDA drivers), error-level lines that are no errors of the run (``failed
call to cuInit`` on a machine without a GPU, ``NodeDef mentions attribute ...``
from ``tf.data``), and the TFLite converter's dumps. ``TF_CPP_MIN_LOG_LEVEL``
silences most of them, but only if set before TensorFlow's first import, and the
lines printed while TensorFlow loads ignore it. So the choice is kept in the
environment (:func:`set_verbose`, inherited by worker processes), read by
:mod:`training.tf_setup`, and what C++ writes at import and conversion is caught
by :func:`captured_native_stderr` and shown only when verbose or when the call fails.

This module imports nothing heavy: the command line calls :func:`set_verbose` before
TensorFlow is imported.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

VERBOSE_VARIABLE = "SENSING_VERBOSE"
"""Environment variable that asks for TensorFlow's own output (``1``)."""
TF_LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
"""TensorFlow's C++ log threshold: 0 everything, 3 nothing but fatal errors."""


def set_verbose(verbose: bool) -> None:
    """Show (``True``) or hide TensorFlow's own output; call before TensorFlow is imported."""
    if verbose:
        os.environ[VERBOSE_VARIABLE] = "1"
        os.environ[TF_LOG_LEVEL_VARIABLE] = "0"
    else:
        os.environ.pop(VERBOSE_VARIABLE, None)
        os.environ[TF_LOG_LEVEL_VARIABLE] = "3"


def is_verbose() -> bool:
    """Whether TensorFlow's own output is shown."""
    return os.environ.get(VERBOSE_VARIABLE, "") == "1"


@contextlib.contextmanager
def captured_native_stderr() -> Iterator[None]:
    """Catch what native code writes to file descriptor 2 during the ``with`` block.

    The text is written to stderr after the block when :func:`is_verbose`, or when the
    block raises (it may say why); otherwise it is dropped. Verbose runs are not redirected.
    """
    if is_verbose():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            _restore(saved)
            _replay(captured)
            raise
        _restore(saved)


def _restore(saved: int) -> None:
    """Point file descriptor 2 back at ``saved`` (and close the copy)."""
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)


def _replay(captured) -> None:
    """Write the caught text to stderr."""
    captured.seek(0)
    text = captured.read().decode("utf-8", "replace")
    if text:
        sys.stderr.write(text)
        sys.stderr.flush()
