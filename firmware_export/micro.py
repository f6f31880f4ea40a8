"""The model in TensorFlow Lite Micro's own interpreter (the ``tflite-micro`` package).

Used to measure the tensor arena a model needs, instead of guessing it, and
to prove that the firmware interpreter computes what ai-edge-litert does.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from sensing.errors import SensingError

ARENA_ALIGNMENT = 16
"""Arena sizes are measured to, and rounded up to, this many bytes."""
ARENA_MARGIN = 1.1
"""The exported arena size: the measured minimum times this, for allocator differences
between TFLite Micro versions and targets."""
_LARGEST_ARENA = 1 << 26


def _runtime():
    try:
        from tflite_micro import runtime
    except ImportError as error:
        raise SensingError(
            f"the firmware export needs TFLite Micro's interpreter ({error}): pip install -e '.[firmware]'"
        ) from None
    return runtime


@contextlib.contextmanager
def _quiet_native_output():
    """Silence what the C++ interpreter prints on failed allocations (file descriptors 1 and 2)."""
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "wb") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)


def _runs_in(model_path: Path, arena_size: int) -> bool:
    runtime = _runtime()
    try:
        with _quiet_native_output():
            interpreter = runtime.Interpreter.from_file(str(model_path), arena_size=arena_size)
            detail = interpreter.get_input_details(0)
            interpreter.set_input(np.zeros(detail["shape"], dtype=detail["dtype"]), 0)
            interpreter.invoke()
    except (RuntimeError, ValueError):
        return False
    return True


def minimum_arena(model_path: str | Path) -> int:
    """Smallest tensor arena, in bytes (a multiple of 16), in which the model loads and runs.

    Found by bisection: each try builds the interpreter with that arena and
    invokes it once.

    Raises:
        SensingError: the model does not run in TFLite Micro at all.
    """
    model_path = Path(model_path)
    if not _runs_in(model_path, _LARGEST_ARENA):
        raise SensingError(
            f"{model_path}: TFLite Micro cannot run this model even with a "
            f"{_LARGEST_ARENA >> 20} MB arena (unsupported op or tensor type?)"
        )
    low, high = 0, _LARGEST_ARENA // ARENA_ALIGNMENT
    while high - low > 1:
        middle = (low + high) // 2
        if _runs_in(model_path, middle * ARENA_ALIGNMENT):
            high = middle
        else:
            low = middle
    return high * ARENA_ALIGNMENT


def exported_arena(minimum: int) -> int:
    """The arena size written to the header: the minimum plus the margin, 16-byte aligned."""
    with_margin = int(np.ceil(minimum * ARENA_MARGIN))
    return -(-with_margin // ARENA_ALIGNMENT) * ARENA_ALIGNMENT


def micro_outputs(model_path: str | Path, inputs: np.ndarray, arena_size: int) -> np.ndarray:
    """Raw (quantized) outputs of the model in TFLite Micro for each input in ``inputs``.

    Args:
        inputs: (n, *input_shape) in the model's input dtype (int8 for int8 models).

    Returns:
        (n, *output_shape[1:]) in the model's output dtype.
    """
    runtime = _runtime()
    interpreter = runtime.Interpreter.from_file(str(model_path), arena_size=arena_size)
    outputs = []
    for item in inputs:
        interpreter.set_input(item[None], 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0)[0].copy())
    return np.stack(outputs)
