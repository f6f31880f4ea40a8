"""What the sleep classifier sees: each epoch's radar tensor as three gain-free range bands.

A tensor from :mod:`sensing.radar.processing` holds ``log1p(power / power_ref)``
in (rows, frequencies, time steps), rows ``range_step_m`` apart around the
sleeper's range. The classifier's input keeps frequency (Hz) and time (s) and
folds range into three bands, in metres from the sleeper's range:

- ``nearer``: rows more than :data:`SLEEPER_HALF_WIDTH_M` nearer the radar
  (an arm reaching out, someone standing by the bed);
- ``sleeper``: rows within :data:`SLEEPER_HALF_WIDTH_M` of the sleeper;
- ``further``: rows more than that beyond (a partner's edge, the far body).

Each band is the mean power of its rows, divided by the tensor's noise floor
and compressed: ``log1p(band_power / noise)``. The noise floor is the
:data:`NOISE_PERCENTILE` th percentile of the power over every row, every
time step inside the recording and every frequency from
:data:`NOISE_MIN_FREQUENCY_HZ` up (a body moves little that fast, most of the
time). Dividing by it makes the input independent of the radar's gain and
units (simulator amplitudes, raw ADC counts): a value reads as signal over
noise. Time steps outside the recording (all zero in the tensor) stay 0.

The three bands are also the three input channels the sparse-friendly CNN's
stem needs. The input is then padded with zeros (no power: as outside the
recording) at the end of each axis, time to a multiple of
:data:`TIME_MULTIPLE` steps and frequency to an even number of bins: where a
stride-2 layer's input has an odd height and an odd width, the TFLite
converter folds its explicit padding into SAME padding, which XNNPACK's
sparse inference refuses; with the time axis a multiple of 16, the height of
each of the network's four stride-2 layers is even. Input shape: (time steps, frequencies, 3) float32, 80 x 26
x 3 with the default :class:`~sensing.radar.processing.RadarFeatureSettings`
(75 steps and 25 frequencies of data).

:func:`sleeper_centre` picks the range the tensor is centred on, by
calibration (:func:`~sensing.radar.calibration.calibrate`); training and the
runtime both call it, so a model is trained on the ranges it will be given.
Numpy only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from sensing.radar.breathing import strongest_breathing_range
from sensing.radar.calibration import Calibration, calibrate
from sensing.radar.processing import RadarFeatureSettings, range_doppler_time
from sensing.radar.recording import Recording

BANDS = ("nearer", "sleeper", "further")
"""The input channels, in order."""
SLEEPER_HALF_WIDTH_M = 0.1
"""Rows within this many metres of the sleeper's range form the ``sleeper`` band."""
NOISE_MIN_FREQUENCY_HZ = 1.5
"""The noise floor is estimated from frequencies at and above this, Hz."""
NOISE_PERCENTILE = 20.0
"""Percentile of the power taken as the noise floor."""
TIME_MULTIPLE = 16
"""Time steps are padded to a multiple of this, so four stride-2 layers in a row each get an even height."""
CALIBRATION_S = 1800.0
"""Seconds from the start of a recording scanned for the sleeper (it may lie awake first)."""


def band_rows(settings: RadarFeatureSettings) -> list[np.ndarray]:
    """Row indices of each band of :data:`BANDS`, for a tensor made with ``settings``."""
    offsets_m = settings.rows_m(0.0)
    tolerance = 1e-9
    return [
        np.flatnonzero(offsets_m < -SLEEPER_HALF_WIDTH_M - tolerance),
        np.flatnonzero(np.abs(offsets_m) <= SLEEPER_HALF_WIDTH_M + tolerance),
        np.flatnonzero(offsets_m > SLEEPER_HALF_WIDTH_M + tolerance),
    ]


def input_shape(settings: RadarFeatureSettings) -> tuple[int, int, int]:
    """(time steps, frequencies, 3): the classifier's input for ``settings``, padding included."""
    _, frequencies, steps = settings.tensor_shape
    return (-(-steps // TIME_MULTIPLE) * TIME_MULTIPLE, frequencies + frequencies % 2, len(BANDS))


def model_input(tensor: np.ndarray, settings: RadarFeatureSettings) -> np.ndarray:
    """One epoch's classifier input from its radar tensor.

    Args:
        tensor: (rows, frequencies, time steps) float32 from
            :class:`~sensing.radar.processing.TensorStream` with ``settings``.
        settings: the frontend settings the tensor was made with.

    Returns:
        (time steps, frequencies, 3) float32 of shape :func:`input_shape`, the
        data in ``[:steps, :frequencies]`` and zeros after; see the module docstring.
    """
    if tensor.shape != settings.tensor_shape:
        raise ValueError(f"tensor of shape {tensor.shape}, settings give {settings.tensor_shape}")
    power = np.expm1(tensor.astype(np.float64))
    inside = tensor.any(axis=(0, 1))
    fast = settings.frequencies_hz() >= NOISE_MIN_FREQUENCY_HZ
    floor_values = power[:, fast][:, :, inside]
    noise = float(np.percentile(floor_values, NOISE_PERCENTILE)) if floor_values.size else 0.0
    padded = np.zeros(input_shape(settings), dtype=np.float32)
    if noise <= 0:
        return padded
    bands = np.stack([power[rows].mean(axis=0) for rows in band_rows(settings)], axis=-1)
    values = np.log1p(bands / noise)
    values[:, ~inside] = 0.0
    _, frequencies, steps = settings.tensor_shape
    padded[:steps, :frequencies] = values.transpose(1, 0, 2)
    return padded


@dataclasses.dataclass(frozen=True)
class SleeperRange:
    """The range a night's tensors are centred on, and how it was chosen.

    Attributes:
        centre_m: the sleeper's range, m.
        calibration: the calibration's verdict and evidence.
        how: ``calibrated`` (the calibration found the sleeper) or
            ``strongest breathing`` (it did not; the range with the most
            breathing-band power over the whole recording was taken instead).
    """

    centre_m: float
    calibration: Calibration
    how: str


def sleeper_centre(recording: Recording, settings: RadarFeatureSettings) -> SleeperRange:
    """Where to centre a night's tensors: the calibrated sleeper, else the strongest breathing.

    The centre is then moved, if need be, so every row lies inside the
    recording's range bins.
    """
    calibration = calibrate(recording, seconds=min(CALIBRATION_S, recording.duration_s))
    if calibration.centre_m is not None:
        centre, how = calibration.centre_m, "calibrated"
    else:
        centre, how = strongest_breathing_range(recording), "strongest breathing"
    ranges = recording.config.range_m(recording.n_bins)
    half = settings.range_window_m / 2
    low, high = float(ranges[0]) + half, float(ranges[-1]) - half
    return SleeperRange(
        centre_m=float(np.clip(centre, low, max(low, high))), calibration=calibration, how=how
    )


@dataclasses.dataclass(frozen=True)
class NightInputs:
    """A whole recording as classifier inputs.

    Attributes:
        inputs: (epochs, time steps, frequencies, 3) float32, one per whole 30 s epoch.
        sleeper: where the tensors were centred.
    """

    inputs: np.ndarray
    sleeper: SleeperRange


def night_inputs(path: str | Path, settings: RadarFeatureSettings) -> NightInputs:
    """Calibrate, then stream a recording into classifier inputs (25 kB per epoch).

    Raises:
        RadarError: a malformed recording, or one shorter than one epoch.
    """
    with Recording(path) as recording:
        sleeper = sleeper_centre(recording, settings)
        inputs = [
            model_input(tensor, settings)
            for _, tensor in range_doppler_time(recording, settings, centre_m=sleeper.centre_m)
        ]
    return NightInputs(inputs=np.stack(inputs), sleeper=sleeper)
