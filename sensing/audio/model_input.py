"""What an audio model takes as input, and how the runtime makes it from audio.

A model's ``frontend`` (recorded in its metadata) decides its input, for one
window of ``settings.window_samples`` samples at ``settings.sr`` Hz:

- ``mel``: (window_frames, n_mels, 3) log-mel features with deltas, computed
  here (:func:`sensing.audio.features.window_features`).
- ``leaf``: (window_samples,) raw audio; the model holds the whole learned
  LEAF frontend (exact, but its Gabor convolution alone is about 0.5 G
  multiply-adds per second of audio).
- ``leaf-fast``: (window_frames, n_fft // 2 + 1) short-time power spectrum,
  computed here as for mel; the model applies the learned filterbank matrix
  and the learned compression (close to ``leaf`` at about mel's cost).

Every input is built frame by frame: :func:`frame_rows` gives one row per
frame (log-mel bands, the frame's samples, or power bins) and
:func:`window_input` turns ``window_frames`` consecutive rows into the model
input, so streaming keeps only the rows of an unfinished window.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sensing.audio.features import (
    FeatureSettings,
    clip_features,
    clip_windows,
    frame_count,
    frame_view,
    log_mel_from_power,
    power_spectrum,
    window_features,
)
from sensing.errors import SensingError


class ModelInput(Protocol):
    """How one kind of model input is made from audio, frame by frame (see the module docstring)."""

    def input_shape(self, settings: FeatureSettings) -> tuple[int, ...]: ...

    def row_width(self, settings: FeatureSettings) -> int: ...

    def frame_rows(self, audio: np.ndarray, power: np.ndarray, settings: FeatureSettings) -> np.ndarray: ...

    def window_input(self, rows: np.ndarray, settings: FeatureSettings) -> np.ndarray: ...

    def clip_inputs(self, audio: np.ndarray, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]: ...


class _MelInput:
    """``mel``: (window_frames, n_mels, 3) log-mel features with deltas; one log-mel row per frame."""

    def input_shape(self, settings: FeatureSettings) -> tuple[int, ...]:
        return settings.input_shape

    def row_width(self, settings: FeatureSettings) -> int:
        return settings.n_mels

    def frame_rows(self, audio: np.ndarray, power: np.ndarray, settings: FeatureSettings) -> np.ndarray:
        return log_mel_from_power(power, settings)

    def window_input(self, rows: np.ndarray, settings: FeatureSettings) -> np.ndarray:
        return window_features(rows, settings)

    def clip_inputs(self, audio: np.ndarray, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
        return clip_features(audio, settings)


class _LeafInput:
    """``leaf``: (window_samples,) raw audio; one row of ``n_fft`` samples per frame."""

    def input_shape(self, settings: FeatureSettings) -> tuple[int, ...]:
        return (settings.window_samples,)

    def row_width(self, settings: FeatureSettings) -> int:
        return settings.n_fft

    def frame_rows(self, audio: np.ndarray, power: np.ndarray, settings: FeatureSettings) -> np.ndarray:
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise SensingError(f"expected 1-D audio, got shape {audio.shape}")
        return np.array(frame_view(audio, frame_count(audio.size, settings), settings))

    def window_input(self, rows: np.ndarray, settings: FeatureSettings) -> np.ndarray:
        # frame i starts hop_length samples after frame i - 1: its first hop_length
        # samples, then the whole last frame, are the window's samples in order
        return np.concatenate([rows[:-1, : settings.hop_length].ravel(), rows[-1]])

    def clip_inputs(self, audio: np.ndarray, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
        padded, starts, start_s = clip_windows(np.asarray(audio, dtype=np.float32), settings)
        windows = [padded[s * settings.hop_length :][: settings.window_samples] for s in starts]
        return np.stack(windows), start_s


class _LeafFastInput:
    """``leaf-fast``: (window_frames, n_fft // 2 + 1) power spectrum; one power row per frame."""

    def input_shape(self, settings: FeatureSettings) -> tuple[int, ...]:
        return (settings.window_frames, settings.n_fft // 2 + 1)

    def row_width(self, settings: FeatureSettings) -> int:
        return settings.n_fft // 2 + 1

    def frame_rows(self, audio: np.ndarray, power: np.ndarray, settings: FeatureSettings) -> np.ndarray:
        return power

    def window_input(self, rows: np.ndarray, settings: FeatureSettings) -> np.ndarray:
        return rows.astype(np.float32, copy=True)

    def clip_inputs(self, audio: np.ndarray, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
        padded, starts, start_s = clip_windows(np.asarray(audio, dtype=np.float32), settings)
        rows = power_spectrum(padded, settings)
        return np.stack([rows[s : s + settings.window_frames] for s in starts]), start_s


MODEL_INPUTS: dict[str, ModelInput] = {
    "mel": _MelInput(),
    "leaf": _LeafInput(),
    "leaf-fast": _LeafFastInput(),
}
"""The inputs an exported audio model can take, by the ``frontend`` name its metadata records."""
MODEL_FRONTENDS = tuple(MODEL_INPUTS)
"""Frontends an exported audio model can hold, by the input it takes."""


def _model_input(frontend: str) -> ModelInput:
    if frontend not in MODEL_INPUTS:
        raise SensingError(f"unknown model frontend {frontend!r}; known: {', '.join(MODEL_FRONTENDS)}")
    return MODEL_INPUTS[frontend]


def input_shape(frontend: str, settings: FeatureSettings) -> tuple[int, ...]:
    """The model's input shape without the batch axis."""
    return _model_input(frontend).input_shape(settings)


def row_width(frontend: str, settings: FeatureSettings) -> int:
    """Values per frame in :func:`frame_rows`."""
    return _model_input(frontend).row_width(settings)


def frame_rows(audio: np.ndarray, power: np.ndarray, frontend: str, settings: FeatureSettings) -> np.ndarray:
    """(frames, :func:`row_width`) float32, one row per frame of ``audio`` as in
    :func:`sensing.audio.features.log_mel`.

    ``power`` is the audio's (frames, n_fft // 2 + 1) :func:`power_spectrum`, computed once by
    the caller, who also measures the frames' levels from it.
    """
    return _model_input(frontend).frame_rows(audio, power, settings)


def window_input(rows: np.ndarray, frontend: str, settings: FeatureSettings) -> np.ndarray:
    """The model input for one window from its ``window_frames`` rows of :func:`frame_rows`."""
    if rows.shape != (settings.window_frames, row_width(frontend, settings)):
        raise SensingError(
            f"window rows have shape {rows.shape}, expected "
            f"({settings.window_frames}, {row_width(frontend, settings)})"
        )
    return _model_input(frontend).window_input(rows, settings)


def clip_inputs(audio: np.ndarray, frontend: str, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Every model window of a clip, as :func:`sensing.audio.features.clip_features` gives them.

    Returns:
        ``(inputs, start_s)``: inputs of shape (windows, *:func:`input_shape`) and
        each window's start time in seconds (negative for a clip padded to one window).
    """
    return _model_input(frontend).clip_inputs(audio, settings)
