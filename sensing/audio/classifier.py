"""Running an exported audio classifier on clips, with no TensorFlow.

>>> classifier = AudioClassifier("runs/mel/model.tflite")
>>> result = classifier.classify_file("clip.wav")
>>> result.label, result.scores["cough"]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.decision import clip_scores, decide
from sensing.audio.model_file import ModelMetadata, read_metadata
from sensing.audio.model_input import clip_inputs, input_shape
from sensing.audio.reading import SILENCE_PEAK
from sensing.audio.stream import open_audio_stream
from sensing.audio.streaming import stream_clip_inputs
from sensing.errors import AudioError, ModelError
from sensing.tflite.interpreter import load_interpreter


@dataclasses.dataclass(frozen=True)
class ClipResult:
    """The classifier's verdict on one clip.

    Attributes:
        duration_s: clip duration in seconds (after resampling).
        scores: per label, the highest window probability in the clip.
        label: the decision (see :func:`sensing.audio.decision.decide`).
        window_probabilities: (windows, labels) softmax outputs.
        warnings: what makes the verdict less sure (a file cut short, a low sample rate).
    """

    duration_s: float
    scores: dict[str, float]
    label: str
    window_probabilities: np.ndarray
    warnings: tuple[str, ...] = ()


def _quantization(detail: dict[str, Any], model_path: Path) -> tuple[float, int] | None:
    """(scale, zero point) of an integer input or output tensor; None for float tensors."""
    if not np.issubdtype(np.dtype(detail["dtype"]), np.integer):
        return None
    scale, zero_point = detail["quantization"]
    if scale <= 0:
        raise ModelError(
            f"{model_path}: integer tensor {detail['name']!r} has no quantization "
            f"scale; export it with representative data (sensing prune writes "
            f"model_int8.tflite)"
        )
    return float(scale), int(zero_point)


class AudioClassifier:
    """A ``.tflite`` audio classifier with its embedded labels and settings.

    Args:
        model_path: a model exported by ``sensing train audio``.
        num_threads: CPU threads for inference (None: the backend's default).
    """

    def __init__(self, model_path: str | Path, *, num_threads: int | None = None) -> None:
        self.model_path = Path(model_path)
        self.metadata: ModelMetadata = read_metadata(self.model_path)
        self.interpreter, self.backend = load_interpreter(self.model_path, num_threads=num_threads)
        input_detail = self.interpreter.get_input_details()[0]
        output_detail = self.interpreter.get_output_details()[0]
        expected = (1, *input_shape(self.metadata.frontend, self.metadata.features))
        if tuple(input_detail["shape"]) != expected:
            raise ModelError(
                f"{self.model_path}: input shape {tuple(input_detail['shape'])} does "
                f"not match its {self.metadata.frontend} frontend's {expected}"
            )
        if output_detail["shape"][-1] != len(self.metadata.labels):
            raise ModelError(
                f"{self.model_path}: {output_detail['shape'][-1]} outputs for "
                f"{len(self.metadata.labels)} labels"
            )
        self._input_index = input_detail["index"]
        self._output_index = output_detail["index"]
        self._input_dtype = np.dtype(input_detail["dtype"])
        self._input_quantization = _quantization(input_detail, self.model_path)
        self._output_quantization = _quantization(output_detail, self.model_path)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.metadata.labels

    @property
    def is_quantized(self) -> bool:
        """Whether the model takes integer input (a full-integer int8 export)."""
        return self._input_quantization is not None

    @property
    def input_quantization(self) -> tuple[float, int] | None:
        """(scale, zero point) of an integer model's input; None for a float model."""
        return self._input_quantization

    @property
    def output_quantization(self) -> tuple[float, int] | None:
        """(scale, zero point) of an integer model's output; None for a float model."""
        return self._output_quantization

    @property
    def frontend(self) -> str:
        """What the model takes as input (see :mod:`sensing.audio.model_input`)."""
        return self.metadata.frontend

    def predict_window(self, features: np.ndarray) -> np.ndarray:
        """Softmax output (labels,) float32 for one window's model input: (frames, mels, 3)
        log-mel features for a ``mel`` model, see :mod:`sensing.audio.model_input` for others.

        Integer models get their input quantized and their output dequantized
        with the scale and zero point stored in the model.
        """
        window = features[None]
        if self._input_quantization is not None:
            scale, zero_point = self._input_quantization
            limits = np.iinfo(self._input_dtype)
            window = np.clip(np.round(window / scale) + zero_point, limits.min, limits.max)
        self.interpreter.set_tensor(self._input_index, window.astype(self._input_dtype, copy=False))
        self.interpreter.invoke()
        output = self.interpreter.get_tensor(self._output_index)[0]
        if self._output_quantization is not None:
            scale, zero_point = self._output_quantization
            return np.asarray(((output.astype(np.float32) - zero_point) * scale).astype(np.float32))
        return np.asarray(output.copy())

    def predict_windows(self, features: np.ndarray) -> np.ndarray:
        """Softmax outputs for a stack of windows.

        Args:
            features: (windows, *input shape) float32 from
                :func:`sensing.audio.model_input.clip_inputs`.

        Returns:
            (windows, labels) float32 probabilities.
        """
        probabilities = np.empty((features.shape[0], len(self.labels)), dtype=np.float32)
        for i, window in enumerate(features):
            probabilities[i] = self.predict_window(window)
        return probabilities

    def classify_audio(self, samples: np.ndarray) -> ClipResult:
        """Classify mono audio at the model's sample rate (1-D float32 in [-1, 1])."""
        settings = self.metadata.features
        features, _ = clip_inputs(samples, self.frontend, settings)
        return self._result(self.predict_windows(features), duration_s=samples.size / settings.sr)

    def classify_file(self, path: str | Path) -> ClipResult:
        """Classify an audio file of any format, rate, channel count and length soundfile reads.

        The file is read block by block (:func:`sensing.audio.stream.open_audio_stream`) with
        the windows the whole clip would give, so memory does not grow with its length.

        Raises:
            AudioError: the file is missing, unreadable, empty or silent.
        """
        settings = self.metadata.features
        info, blocks = open_audio_stream(path, sr=settings.sr)
        loudness = _PeakMeter(blocks)
        probabilities = [
            self.predict_window(window) for _, window in stream_clip_inputs(loudness, self.frontend, settings)
        ]
        if loudness.peak < SILENCE_PEAK:
            raise AudioError(
                f"{path}: silent audio (peak amplitude {loudness.peak:.2g}, "
                f"at least {SILENCE_PEAK:g} of full scale expected)"
            )
        result = self._result(np.stack(probabilities), duration_s=loudness.samples / settings.sr)
        return dataclasses.replace(result, warnings=info.warnings)

    def _result(self, probabilities: np.ndarray, *, duration_s: float) -> ClipResult:
        """The verdict from (windows, labels) window probabilities."""
        scores = clip_scores(probabilities, self.labels)
        label = decide(
            scores, thresholds=self.metadata.thresholds, negative_label=self.metadata.negative_label
        )
        return ClipResult(
            duration_s=duration_s, scores=scores, label=label, window_probabilities=probabilities
        )


class _PeakMeter:
    """Passes audio blocks through, counting their samples and keeping their peak amplitude."""

    def __init__(self, blocks: Iterable[np.ndarray]) -> None:
        self._blocks = blocks
        self.samples = 0
        self.peak = 0.0

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in self._blocks:
            self.samples += block.size
            if block.size:
                self.peak = max(self.peak, float(np.max(np.abs(block))))
            yield block
