"""A training run's folder: the files ``sensing train`` and ``sensing prune`` write, by name, and its
JSON files read with messages that say what is wrong.

The runtime reads run folders too (``sensing export firmware`` takes one), so this lives in
``sensing``; the typed settings of a run are ``training.audio.config.AudioTrainConfig`` and
``training.radar.config.RadarTrainConfig``, which read :attr:`RunFolder.config_path`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sensing.errors import SensingError
from sensing.files import write_atomically

CONFIG = "config.json"
"""The run's settings, its status (``running``, ``interrupted``, ``finished``) and where it ran."""
METRICS = "metrics.json"
"""What the run measured: history, thresholds, validation and test figures."""
MODEL = "model.tflite"
"""The exported float32 model with the toolkit's metadata."""
KERAS_MODEL = "model.keras"
"""The best weights as a Keras model, for pruning and int8 quantization."""
INT8_MODEL = "model_int8.tflite"
"""The full-integer model (``sensing prune``, or the microcontroller model)."""
SPARSE_MODEL = "model_sparse.tflite"
"""The pruned model stored sparse (``sensing prune``)."""


def read_json(path: str | Path) -> dict[str, Any]:
    """The JSON object in ``path``, a file a training run wrote.

    Raises:
        SensingError: the file is missing, not valid JSON, or not an object.
    """
    path = Path(path)
    try:
        values = json.loads(path.read_text())
    except FileNotFoundError:
        raise SensingError(f"{path}: not found; is {path.parent} a training run folder?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SensingError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(values, dict):
        raise SensingError(f"{path}: not a JSON object")
    return values


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """The folder of one training run and the files in it."""

    path: Path

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS

    @property
    def model(self) -> Path:
        return self.path / MODEL

    @property
    def keras_model(self) -> Path:
        return self.path / KERAS_MODEL

    @property
    def int8_model(self) -> Path:
        return self.path / INT8_MODEL

    def is_run(self) -> bool:
        """Whether the folder holds a run's ``config.json``."""
        return self.config_path.is_file()

    def config(self) -> dict[str, Any]:
        """``config.json`` as written (settings and what the run added beside them)."""
        return read_json(self.config_path)

    def metrics(self) -> dict[str, Any]:
        """``metrics.json`` as written."""
        return read_json(self.metrics_path)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Write ``metrics.json``, whole or not at all."""
        write_atomically(self.metrics_path, json.dumps(metrics, indent=2) + "\n")

    def status(self) -> str | None:
        """``running``, ``interrupted`` or ``finished``; None without a readable ``config.json``."""
        try:
            status = self.config().get("status")
        except SensingError:
            return None
        return status if isinstance(status, str) else None

    def finished(self) -> bool:
        """Whether the run went to its end (an interrupted one still leaves a model)."""
        return self.status() == "finished"

    def kind(self) -> str:
        """``radar`` for a sleep-classifier run (only its settings hold ``simulate``), else ``audio``.

        Raises:
            SensingError: no readable ``config.json``.
        """
        return "radar" if "simulate" in self.config() else "audio"

    def frontend(self) -> str:
        """The run's feature frontend (``mel`` for runs that predate LEAF)."""
        frontend = self.config().get("frontend", "mel")
        return str(frontend)


def resolve_model(path: Path | None, default: Path) -> Path:
    """The ``.tflite`` file a ``--model`` option names: ``default`` when None, the run's
    ``model.tflite`` for a training run folder, else the file itself.

    Raises:
        SensingError: the path does not exist, or is a folder without a model.
    """
    if path is None:
        return default
    if path.is_dir():
        model = RunFolder(path).model
        if not model.is_file():
            raise SensingError(
                f"{path} is a folder without {MODEL}; give a .tflite file or a finished training run folder"
            )
        return model
    if not path.exists():
        raise SensingError(f"{path}: no such model file or run folder")
    return path
