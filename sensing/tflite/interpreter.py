"""Finding a TensorFlow Lite interpreter on this machine.

Backends are tried in order: ``ai-edge-litert`` (the maintained runtime),
``tflite-runtime`` (still common on Raspberry Pis with numpy 1.x; it cannot run
with numpy 2), then TensorFlow's own ``tf.lite``. The first one that loads and
allocates the model wins, and its name is reported so a user knows what runs.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from sensing.errors import ModelError

BACKENDS = ("ai_edge_litert", "tflite_runtime", "tensorflow")
BACKEND_ENV = "SENSING_TFLITE_BACKEND"
"""Environment variable naming one backend to use instead of trying them in order."""

_INTERPRETER_MODULES = {
    "ai_edge_litert": ("ai_edge_litert.interpreter", "Interpreter"),
    "tflite_runtime": ("tflite_runtime.interpreter", "Interpreter"),
    "tensorflow": ("tensorflow", "lite.Interpreter"),
}


def _interpreter_class(backend: str) -> Any:
    module_name, attribute_path = _INTERPRETER_MODULES[backend]
    found = importlib.import_module(module_name)
    for attribute in attribute_path.split("."):
        found = getattr(found, attribute)
    return found


def load_interpreter(
    model_path: str | Path, *, num_threads: int | None = None, backend: str | None = None
) -> tuple[Any, str]:
    """An allocated interpreter for ``model_path`` and the backend's name.

    Args:
        model_path: a ``.tflite`` file.
        num_threads: CPU threads for inference (None: the backend's default).
        backend: one of :data:`BACKENDS`; default: the ``SENSING_TFLITE_BACKEND``
            environment variable, else the first backend that works.

    Raises:
        ModelError: no backend is installed, or none can load this model.
    """
    backend = backend or os.environ.get(BACKEND_ENV) or None
    if backend is not None and backend not in BACKENDS:
        raise ModelError(f"unknown TFLite backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    failures = []
    for name in (backend,) if backend else BACKENDS:
        try:
            interpreter_class = _interpreter_class(name)
        except ImportError as error:
            failures.append(f"{name}: not installed ({error})")
            continue
        try:
            interpreter = interpreter_class(model_path=str(model_path), num_threads=num_threads)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError, AttributeError, ImportError) as error:
            failures.append(f"{name}: {str(error).strip().splitlines()[0] if str(error) else error!r}")
            continue
        return interpreter, name
    raise ModelError(
        f"{model_path}: no TensorFlow Lite interpreter could run it ("
        + "; ".join(failures)
        + "). Install one with: pip install ai-edge-litert"
    )
