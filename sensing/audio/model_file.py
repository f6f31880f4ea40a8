"""An audio classifier's settings inside its ``.tflite`` file, read without TensorFlow.

Training embeds a JSON document (labels, feature settings, thresholds) as a
named entry of the TFLite model's ``metadata`` table (:mod:`sensing.tflite.metadata`),
so a model file alone is enough to run it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from sensing.audio.features import FeatureSettings
from sensing.audio.model_input import MODEL_FRONTENDS
from sensing.errors import ModelError
from sensing.tflite.metadata import read_toolkit_document

METADATA_FORMAT = "sensing-audio-classifier/1"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelMetadata:
    """What the runtime needs to know about an audio classifier.

    Attributes:
        labels: class names in the order of the model's output.
        negative_label: the label meaning "neither target sound", or None when
            every label is a target.
        thresholds: per target label, the clip score (highest window
            probability) at or above which a clip gets that label.
        features: the frontend settings the model was trained on.
        frontend: what the model takes as input, one of
            :data:`sensing.audio.model_input.MODEL_FRONTENDS` (older models: ``mel``).
        extra: anything else training recorded (training command, metrics).
    """

    labels: tuple[str, ...]
    negative_label: str | None
    thresholds: dict[str, float]
    features: FeatureSettings
    frontend: str = "mel"
    extra: dict[str, Any] = dataclasses.field(default_factory=dict[str, Any])

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": METADATA_FORMAT,
                "labels": list(self.labels),
                "negative_label": self.negative_label,
                "thresholds": self.thresholds,
                "features": self.features.to_dict(),
                "frontend": self.frontend,
                "extra": self.extra,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> ModelMetadata:
        try:
            values = json.loads(text)
            if values.get("format") != METADATA_FORMAT:
                raise ModelError(
                    f"{source}: metadata format {values.get('format')!r}, "
                    f"this version reads {METADATA_FORMAT!r}"
                )
            return cls(
                labels=tuple(values["labels"]),
                negative_label=values["negative_label"],
                thresholds={k: float(v) for k, v in values["thresholds"].items()},
                features=FeatureSettings.from_dict(values["features"]),
                frontend=_frontend(values.get("frontend", "mel"), source),
                extra=values.get("extra", {}),
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ModelError(f"{source}: malformed toolkit metadata ({error})") from None


def _frontend(name: str, source: str) -> str:
    if name not in MODEL_FRONTENDS:
        raise ModelError(
            f"{source}: model frontend {name!r} is not one this version runs ({', '.join(MODEL_FRONTENDS)})"
        )
    return name


def read_metadata(path: str | Path) -> ModelMetadata:
    """The toolkit metadata embedded in a ``.tflite`` file.

    Raises:
        ModelError: the file is missing, truncated, not TFLite, or was not
            written by this toolkit.
    """
    return ModelMetadata.from_json(read_toolkit_document(path), source=str(path))
