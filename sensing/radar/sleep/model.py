"""The sleep classifier at run time: a ``.tflite`` file with its settings inside, no TensorFlow.

Training embeds a JSON document (format :data:`METADATA_FORMAT`) in the
model's TFLite metadata table, as audio models carry theirs: the labels
(:data:`~sensing.radar.recording.EPOCH_LABELS`), the radar frontend settings
and the smoothing settings (transitions, prior, shortest awakening). The model
takes one epoch's input (:func:`~sensing.radar.sleep.input.model_input`,
(time steps, frequencies, 3) float32) and gives (3,) probabilities.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from sensing.bundled import SLEEP_RADAR
from sensing.errors import ModelError, RadarError
from sensing.radar.processing import RadarFeatureSettings
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.radar.sleep.input import input_shape
from sensing.radar.sleep.smoothing import SmoothingSettings
from sensing.tflite.interpreter import load_interpreter
from sensing.tflite.metadata import read_toolkit_document

METADATA_FORMAT = "sensing-radar-sleep/1"
DEFAULT_MODEL = SLEEP_RADAR
"""The bundled sleep model; see ``sensing/models/MODEL_CARD_sleep.md``."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SleepModelMetadata:
    """What the runtime needs to know about a sleep classifier.

    Attributes:
        labels: class names in the order of the model's output (EPOCH_LABELS).
        features: the radar frontend the model was trained on.
        smoothing: the HMM smoothing: transitions counted from the training
            nights, and the prior the classifier's outputs assume.
        extra: anything else training recorded (command, metrics).
    """

    labels: tuple[str, ...]
    features: RadarFeatureSettings
    smoothing: SmoothingSettings
    extra: dict[str, Any] = dataclasses.field(default_factory=dict[str, Any])

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": METADATA_FORMAT,
                "labels": list(self.labels),
                "features": self.features.to_dict(),
                "smoothing": dataclasses.asdict(self.smoothing),
                "extra": self.extra,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> SleepModelMetadata:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ModelError(f"{source}: malformed toolkit metadata ({error})") from None
        if not isinstance(values, dict) or values.get("format") != METADATA_FORMAT:
            found = values.get("format") if isinstance(values, dict) else None
            raise ModelError(
                f"{source}: not a sleep model (metadata format {found!r}, expected "
                f"{METADATA_FORMAT!r}); audio models go to 'sensing detect'"
            )
        try:
            smoothing = values["smoothing"]
            return cls(
                labels=tuple(values["labels"]),
                features=RadarFeatureSettings.from_dict(values["features"]),
                smoothing=SmoothingSettings(
                    transitions=tuple(map(tuple, smoothing["transitions"])),
                    prior=tuple(smoothing["prior"]),
                    min_awakening_epochs=smoothing["min_awakening_epochs"],
                ),
                extra=values.get("extra", {}),
            )
        except (KeyError, TypeError, RadarError) as error:
            raise ModelError(f"{source}: malformed sleep model metadata ({error})") from None


def read_sleep_metadata(path: str | Path) -> SleepModelMetadata:
    """The metadata of a sleep model file.

    Raises:
        ModelError: missing, truncated or foreign file, or an audio model.
    """
    return SleepModelMetadata.from_json(read_toolkit_document(path), source=str(path))


def default_sleep_model() -> Path:
    """The bundled sleep model's path, checked to exist."""
    if not DEFAULT_MODEL.is_file():
        raise ModelError(f"the bundled sleep model is missing ({DEFAULT_MODEL}); pass --model")
    return DEFAULT_MODEL


class SleepClassifier:
    """A ``.tflite`` sleep classifier with its embedded settings.

    Args:
        model_path: a model from ``sensing train radar`` (default: the bundled one).
        num_threads: CPU threads for inference (None: the backend's default).
    """

    def __init__(self, model_path: str | Path | None = None, *, num_threads: int | None = None) -> None:
        self.model_path = Path(model_path) if model_path is not None else default_sleep_model()
        self.metadata = read_sleep_metadata(self.model_path)
        if tuple(self.metadata.labels) != EPOCH_LABELS:
            raise ModelError(f"{self.model_path}: labels {self.metadata.labels}, expected {EPOCH_LABELS}")
        if abs(self.metadata.features.epoch_s - EPOCH_S) > 1e-9:
            raise ModelError(
                f"{self.model_path}: {self.metadata.features.epoch_s:g} s epochs; epoch labels, "
                f"summaries and gating here are in {EPOCH_S:g} s epochs"
            )
        self.interpreter, self.backend = load_interpreter(self.model_path, num_threads=num_threads)
        input_detail = self.interpreter.get_input_details()[0]
        output_detail = self.interpreter.get_output_details()[0]
        expected = (1, *input_shape(self.metadata.features))
        if tuple(input_detail["shape"]) != expected:
            raise ModelError(
                f"{self.model_path}: input shape {tuple(input_detail['shape'])} does not "
                f"match its radar settings {expected}"
            )
        if tuple(output_detail["shape"]) != (1, len(EPOCH_LABELS)):
            raise ModelError(
                f"{self.model_path}: output shape {tuple(output_detail['shape'])}, expected "
                f"(1, {len(EPOCH_LABELS)}): one probability per label"
            )
        if np.dtype(input_detail["dtype"]) != np.float32:
            raise ModelError(
                f"{self.model_path}: takes {np.dtype(input_detail['dtype'])} input; the "
                f"sleep runtime runs float models"
            )
        self._input_index = input_detail["index"]
        self._output_index = output_detail["index"]

    @property
    def features(self) -> RadarFeatureSettings:
        return self.metadata.features

    def predict(self, model_input: np.ndarray) -> np.ndarray:
        """(3,) float32 probabilities for one (time steps, frequencies, 3) input."""
        self.interpreter.set_tensor(self._input_index, model_input[None].astype(np.float32, copy=False))
        self.interpreter.invoke()
        return np.asarray(self.interpreter.get_tensor(self._output_index)[0].copy())

    def predict_epochs(self, inputs: np.ndarray) -> np.ndarray:
        """(epochs, 3) float32 probabilities for (epochs, time steps, frequencies, 3) inputs."""
        return (
            np.stack([self.predict(item) for item in inputs]) if len(inputs) else np.zeros((0, 3), np.float32)
        )
