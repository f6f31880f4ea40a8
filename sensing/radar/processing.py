"""Range x Doppler-frequency x time tensors of the sleeper's range, one per 30 s epoch.

Everything that shapes a tensor lives in :class:`RadarFeatureSettings`, in
physical units, so that recordings with other frame rates, range resolutions
or receiver counts give the same tensor; training and the runtime both call
:class:`TensorStream`. The chain, per chunk of frames:

1. keep the range bins the rows need and average the receivers coherently
   (complex mean over rx: a fixed broadside beam; a 1-rx radar is unchanged,
   and a sleeper in front of a 3-rx array keeps the same amplitude);
2. remove static clutter with :class:`ClutterFilter` (an exponential moving
   average per bin, subtracted);
3. resample slow time to ``settings.frame_rate_hz`` with a windowed-sinc
   interpolator (skipped when the recording already has that rate);
4. short-time Fourier transform per bin (periodic Hann window), power
   normalised by the window sum so a sinusoid of amplitude ``a`` reads ``a**2``,
   folded to ``|f|`` (approaching and receding motion add up) and kept from
   0 to ``max_frequency_hz``;
5. power rebinned in range onto rows ``range_step_m`` apart, centred on the
   sleeper (``centre_m``): each row averages the bins overlapping its cell
   (row +- ``range_step_m / 2``), weighted by the overlap, so 2.7 cm bins, 6 cm
   bins and finely oversampled profiles land on the same rows (a radar with a
   finer resolution still shows a narrower peak);
6. ``log1p(power / power_ref)``.

Any chunking gives bit-identical tensors: every stage processes frames, samples
and windows in a fixed order whatever the chunk boundaries.

Time alignment (defaults in brackets): processed sample ``m`` lies at
``m / frame_rate_hz`` s after the recording's first frame. Time step ``j``
covers ``[j * hop + (hop - window) / 2, ... + window)`` s ([2j - 3, 2j + 5) s;
the start rounded down to a whole sample), so it is centred on hop slot
``[j * hop, (j + 1) * hop)``.
Epoch ``k`` covers ``[30 k, 30 k + 30)`` s, i.e. steps ``15 k`` to ``15 k + 14``;
its tensor holds ``context_epochs`` epochs centred on it (epochs ``k - 2`` to
``k + 2``: steps ``15 (k - 2)`` to ``15 (k + 3) - 1``, 150 s seen through 156 s of
windows), so it is ready 63 s after the epoch ends (64 s when resampling).

Edges: a step whose window is not entirely inside the processed recording
(the first two steps, the last few, every step of a context epoch before the
start or after the end) is all zeros, the value of zero power. A tensor is
made for every epoch whose 30 s lie entirely inside the recording; a trailing
partial epoch gets none. The clutter filter starts from the first frame, so
the first ``clutter_time_constant_s`` seconds carry a decaying offset.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import RadarError
from sensing.radar.recording import EPOCH_S, RadarConfig, Recording

RESAMPLE_HALF_WIDTH_S = 1.0
"""Half-width of the slow-time resampling kernel in seconds."""
RESAMPLE_CUTOFF = 0.45
"""Resampling low-pass cutoff as a fraction of the lower of the two frame rates."""
RESAMPLE_PASSBAND = 0.35
"""When resampling, kept frequencies must lie below this fraction of the recording's frame rate
(there the resampler's amplitude error is below 1 %)."""
CHUNK_S = 60.0
"""Seconds of frames read at a time by :func:`range_doppler_time`."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RadarFeatureSettings:
    """The radar frontend's settings. Frozen: a classifier is trained for one of these.

    Attributes:
        frame_rate_hz: processing rate in Hz; recordings at other rates are
            resampled in slow time.
        range_window_m: width in metres of the window of rows around the
            sleeper's range.
        range_step_m: metres between two rows; ``range_window_m`` must be a
            whole number of steps, giving ``range_window_m / range_step_m + 1``
            rows from ``centre_m - range_window_m / 2`` to ``centre_m + range_window_m / 2``.
        clutter_time_constant_s: time constant in seconds of the moving average
            subtracted as static clutter (a high-pass at about
            ``1 / (2 pi tau)`` Hz).
        stft_window_s: STFT window in seconds; frequency bins are
            ``1 / stft_window_s`` Hz apart.
        stft_hop_s: seconds between two time steps; ``epoch_s`` must be a whole
            number of hops.
        max_frequency_hz: highest Doppler frequency kept, below the Nyquist
            frequency ``frame_rate_hz / 2``.
        epoch_s: length of one labelled epoch in seconds.
        context_epochs: epochs one tensor spans, centred on the labelled one (odd).
        power_ref: power (squared ``iq`` units) that maps to ``log1p(1)``. The
            default suits the simulator's units (a reflectivity-1 scatterer at
            1 m has amplitude 1): thermal noise 25-40 dB below that reads about
            3.3-0.6, a breathing chest about 10-13. Recordings in other units
            (raw ADC counts) must be scaled to these before a model trained on
            them sees their tensors.
    """

    frame_rate_hz: float = 15.0
    range_window_m: float = 0.6
    range_step_m: float = 0.05
    clutter_time_constant_s: float = 10.0
    stft_window_s: float = 8.0
    stft_hop_s: float = 2.0
    max_frequency_hz: float = 3.0
    epoch_s: float = EPOCH_S
    context_epochs: int = 5
    power_ref: float = 1e-6

    def __post_init__(self) -> None:
        positive = (
            "frame_rate_hz",
            "range_window_m",
            "range_step_m",
            "clutter_time_constant_s",
            "stft_window_s",
            "stft_hop_s",
            "max_frequency_hz",
            "epoch_s",
            "power_ref",
        )
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                raise RadarError(
                    f"invalid radar feature settings: {name} must be a positive number, got {value!r}"
                )
        nyquist = self.frame_rate_hz / 2
        checks = [
            (
                _whole(self.range_window_m / self.range_step_m),
                (
                    f"range_window_m {self.range_window_m:g} m must be a whole number of "
                    f"range_step_m {self.range_step_m:g} m"
                ),
            ),
            (
                _whole(self.stft_window_s * self.frame_rate_hz)
                and _whole(self.stft_hop_s * self.frame_rate_hz),
                (
                    f"stft_window_s {self.stft_window_s:g} s and stft_hop_s {self.stft_hop_s:g} s must be "
                    f"whole numbers of frames at {self.frame_rate_hz:g} Hz"
                ),
            ),
            (
                self.stft_hop_s <= self.stft_window_s,
                f"stft_hop_s {self.stft_hop_s:g} s must not exceed stft_window_s {self.stft_window_s:g} s",
            ),
            (
                _whole(self.epoch_s / self.stft_hop_s),
                f"epoch_s {self.epoch_s:g} s must be a whole number of stft_hop_s {self.stft_hop_s:g} s",
            ),
            (
                self.max_frequency_hz < nyquist,
                (
                    f"max_frequency_hz {self.max_frequency_hz:g} Hz must be below the Nyquist frequency "
                    f"{nyquist:g} Hz of frame_rate_hz {self.frame_rate_hz:g} Hz"
                ),
            ),
            (
                self.max_frequency_hz * self.stft_window_s >= 1,
                (
                    f"max_frequency_hz {self.max_frequency_hz:g} Hz keeps only the 0 Hz bin of a "
                    f"{self.stft_window_s:g} s window"
                ),
            ),
            (
                isinstance(self.context_epochs, int)
                and self.context_epochs >= 1
                and self.context_epochs % 2 == 1,
                f"context_epochs must be an odd integer >= 1, got {self.context_epochs!r}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise RadarError(f"invalid radar feature settings: {message}")

    @property
    def n_rows(self) -> int:
        """Range rows in a tensor."""
        return round(self.range_window_m / self.range_step_m) + 1

    @property
    def window_frames(self) -> int:
        """Processed samples in one STFT window."""
        return round(self.stft_window_s * self.frame_rate_hz)

    @property
    def hop_frames(self) -> int:
        """Processed samples between two time steps."""
        return round(self.stft_hop_s * self.frame_rate_hz)

    @property
    def n_frequencies(self) -> int:
        """Frequency bins in a tensor: 0 to ``max_frequency_hz``, ``1 / stft_window_s`` Hz apart."""
        return math.floor(self.max_frequency_hz * self.stft_window_s + 1e-9) + 1

    @property
    def steps_per_epoch(self) -> int:
        return round(self.epoch_s / self.stft_hop_s)

    @property
    def tensor_shape(self) -> tuple[int, int, int]:
        """Shape of one epoch's tensor: (rows, frequencies, time steps)."""
        return (self.n_rows, self.n_frequencies, self.context_epochs * self.steps_per_epoch)

    def frequencies_hz(self) -> np.ndarray:
        """(n_frequencies,) frequency of each tensor column in Hz."""
        return np.arange(self.n_frequencies) / self.stft_window_s

    def rows_m(self, centre_m: float) -> np.ndarray:
        """(n_rows,) range of each tensor row in metres, centred on ``centre_m``."""
        return centre_m + self.range_step_m * (np.arange(self.n_rows) - (self.n_rows - 1) / 2)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RadarFeatureSettings:
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise RadarError(f"unknown radar feature settings {unknown}; known: {sorted(known)}")
        return cls(**values)


def _whole(value: float) -> bool:
    return abs(value - round(value)) < 1e-6


def combine_rx(iq: np.ndarray) -> np.ndarray:
    """Coherent mean over receivers: (frames, rx, bins) -> (frames, bins) complex128."""
    return np.asarray(iq.mean(axis=1, dtype=np.complex128))


class ClutterFilter:
    """Subtracts an exponential moving average per bin, chunk by chunk.

    ``y[n] = x[n] - c[n - 1]``, ``c[n] = c[n - 1] + alpha (x[n] - c[n - 1])`` with
    ``alpha = 1 - exp(-1 / (time_constant_s * frame_rate_hz))`` and ``c[-1] = x[0]``,
    so the first output is 0. Frames are processed one by one in order, so any
    chunking gives bit-identical output.
    """

    def __init__(self, *, time_constant_s: float, frame_rate_hz: float) -> None:
        self.alpha = 1.0 - math.exp(-1.0 / (time_constant_s * frame_rate_hz))
        self._average: np.ndarray | None = None

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(frames, ...) complex -> the same shape, complex128, clutter removed."""
        out = np.empty(frames.shape, dtype=np.complex128)
        if len(frames) == 0:
            return out
        if self._average is None:
            self._average = frames[0].astype(np.complex128)
        average = self._average
        for n, frame in enumerate(frames):
            out[n] = frame - average
            average += self.alpha * out[n]
        return out

    def reset(self) -> None:
        """Forget the average: the next frame starts a new recording."""
        self._average = None


class _Resampler:
    """Windowed-sinc slow-time resampling from ``rate_in`` to ``rate_out``, chunk by chunk.

    Output ``m`` lies at ``m / rate_out`` s; input frames before the first are
    zeros (the clutter filter's first output is 0). An output is produced once
    every input under its kernel has arrived, so the last
    ``RESAMPLE_HALF_WIDTH_S`` seconds give none. Each output is a fixed-order
    sum over the kernel's taps: any chunking gives bit-identical output.
    """

    def __init__(self, rate_in: float, rate_out: float, n_bins: int) -> None:
        self.ratio = rate_in / rate_out
        self.rate_in = rate_in
        self.cutoff_hz = RESAMPLE_CUTOFF * min(rate_in, rate_out)
        self.half = math.ceil(RESAMPLE_HALF_WIDTH_S * rate_in)
        self.taps = np.arange(1 - self.half, self.half + 1)
        self._buffer = np.zeros((self.half, n_bins), dtype=np.complex128)
        self._first = -self.half
        self._next = 0

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(frames, bins) at ``rate_in`` -> (samples, bins) complex128 at ``rate_out``."""
        self._buffer = np.concatenate([self._buffer, frames])
        last = self._first + len(self._buffer) - 1
        estimate = int((last - self.half) / self.ratio) + 2
        m = np.arange(self._next, max(self._next, estimate + 1))
        centres = m * self.ratio
        base = np.floor(centres).astype(np.int64)
        ready = base + self.half <= last
        m, centres, base = m[ready], centres[ready], base[ready]
        out = np.zeros((len(m), self._buffer.shape[1]), dtype=np.complex128)
        if len(m):
            lag_s = (base[:, None] + self.taps[None, :] - centres[:, None]) / self.rate_in
            weights = np.sinc(2 * self.cutoff_hz * lag_s) * np.where(
                np.abs(lag_s) < RESAMPLE_HALF_WIDTH_S,
                0.5 + 0.5 * np.cos(np.pi * lag_s / RESAMPLE_HALF_WIDTH_S),
                0.0,
            )
            weights /= weights.sum(axis=1, keepdims=True)
            rows = base - self._first
            for t, tap in enumerate(self.taps):
                out += weights[:, t : t + 1] * self._buffer[rows + tap]
            self._next = int(m[-1]) + 1
        keep_from = math.floor(self._next * self.ratio) + 1 - self.half
        drop = max(0, min(keep_from - self._first, len(self._buffer)))
        self._buffer = self._buffer[drop:]
        self._first += drop
        return out


def _hann(n: int) -> np.ndarray:
    """Periodic Hann window, float64."""
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def _metres(value: float) -> str:
    """A range in metres for an error message: millimetres, or three digits when far off."""
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:.3g}"


def _range_weights(
    rows_m: np.ndarray, range_step_m: float, config: RadarConfig, n_bins: int, source: str
) -> tuple[slice, np.ndarray, np.ndarray, np.ndarray]:
    """Rebinning in range: each row's power is the mean over the row's cell of the bins' power.

    Row ``r``'s cell is ``rows_m[r] +- range_step_m / 2`` and bin ``i``'s is its
    range ``+- range_resolution_m / 2``; a bin counts in proportion to the overlap
    of the two. A finely sampled profile thus contributes every bin in the
    cell, a coarse one its one or two nearest.

    Returns:
        the bins to keep, and the non-zero weights as three (pairs,) arrays:
        row, bin (counted from the start of the kept slice) and weight; each
        row's weights sum to 1.
    """
    if not np.isfinite(rows_m).all():
        raise RadarError(f"{source}: the sleeper's range (centre_m) must be a finite number of metres")
    position = (rows_m - config.range_offset_m) / config.range_resolution_m
    if position.min() < -1e-6 or position.max() > n_bins - 1 + 1e-6:
        covered = config.range_m(n_bins)[[0, -1]]
        raise RadarError(
            f"{source}: rows {_metres(rows_m.min())} to {_metres(rows_m.max())} m lie outside "
            f"the recording's range bins ({covered[0]:.3f} to {covered[1]:.3f} m); "
            f"move centre_m or narrow range_window_m"
        )
    half = range_step_m / 2 / config.range_resolution_m
    bins = np.arange(n_bins)
    overlap = np.clip(
        np.minimum(position[:, None] + half, bins + 0.5) - np.maximum(position[:, None] - half, bins - 0.5),
        0,
        None,
    )
    row, bin_ = np.nonzero(overlap > 1e-9 * half)
    weights = overlap[row, bin_] / overlap.sum(axis=1)[row]
    kept = slice(int(bin_.min()), int(bin_.max()) + 1)
    return kept, row, bin_ - kept.start, weights


class SpectrogramStream:
    """Log Doppler power per time step at chosen ranges, fed chunks of raw frames.

    ``feed`` returns the time steps completed by a chunk: ``(first_step,
    columns)`` with ``columns`` float32 of shape (steps, rows, frequencies).
    Only steps whose window lies entirely inside the recording are returned,
    consecutively from step ``first_valid_step``; see the module docstring for
    their time alignment.

    Raises:
        RadarError: the rows lie outside the recording's range bins, or the
            recording's frame rate is too low for ``max_frequency_hz``.
    """

    def __init__(
        self,
        config: RadarConfig,
        settings: RadarFeatureSettings,
        *,
        n_bins: int,
        rows_m: np.ndarray,
        source: str = "recording",
    ) -> None:
        self.settings = settings
        rows_m = np.asarray(rows_m, dtype=np.float64)
        self.n_rows = len(rows_m)
        self._bins, self._pair_row, self._pair_bin, self._pair_weight = _range_weights(
            rows_m, settings.range_step_m, config, n_bins, source
        )
        rate = config.frame_rate_hz
        resampling = abs(rate - settings.frame_rate_hz) > 1e-9
        if resampling and settings.max_frequency_hz > RESAMPLE_PASSBAND * rate:
            raise RadarError(
                f"{source}: {rate:g} Hz frames are resampled to {settings.frame_rate_hz:g} "
                f"Hz and then resolve up to {RESAMPLE_PASSBAND * rate:g} Hz; the settings "
                f"keep up to {settings.max_frequency_hz:g} Hz (lower max_frequency_hz)"
            )
        self._clutter = ClutterFilter(time_constant_s=settings.clutter_time_constant_s, frame_rate_hz=rate)
        n_selected = self._bins.stop - self._bins.start
        self._resample = _Resampler(rate, settings.frame_rate_hz, n_selected) if resampling else None
        self._offset = (settings.hop_frames - settings.window_frames) // 2
        self.first_valid_step = -(self._offset // settings.hop_frames)
        self._next_step = self.first_valid_step
        self._window = _hann(settings.window_frames)
        self._samples = np.zeros((0, n_selected), dtype=np.complex128)
        self._samples_start = 0
        self.frames_fed = 0

    def feed(self, frames: np.ndarray) -> tuple[int, np.ndarray]:
        """Process (frames, rx, bins) raw frames; returns (first new step, (steps, rows, freqs))."""
        self.frames_fed += len(frames)
        cleaned = self._clutter(combine_rx(frames[:, :, self._bins]))
        samples = self._resample(cleaned) if self._resample else cleaned
        self._samples = np.concatenate([self._samples, samples])
        settings = self.settings
        available = self._samples_start + len(self._samples)
        stop = (available - settings.window_frames - self._offset) // settings.hop_frames + 1
        starts = np.arange(self._next_step, max(self._next_step, stop)) * settings.hop_frames + self._offset
        first = self._next_step
        columns = self._columns(starts - self._samples_start)
        self._next_step += len(starts)
        drop = self._next_step * settings.hop_frames + self._offset - self._samples_start
        drop = max(0, min(drop, len(self._samples)))
        self._samples = self._samples[drop:]
        self._samples_start += drop
        return first, columns

    def _columns(self, starts: np.ndarray) -> np.ndarray:
        settings = self.settings
        n_freqs = settings.n_frequencies
        if len(starts) == 0:
            return np.zeros((0, self.n_rows, n_freqs), dtype=np.float32)
        index = starts[:, None] + np.arange(settings.window_frames)[None, :]
        spectrum = np.fft.fft(self._samples[index] * self._window[None, :, None], axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        folded = power[:, :n_freqs].copy()
        folded[:, 1:] += power[:, -1:-n_freqs:-1]
        folded /= self._window.sum() ** 2
        rows = np.zeros((len(starts), self.n_rows, n_freqs))
        for row, bin_, weight in zip(self._pair_row, self._pair_bin, self._pair_weight):
            rows[:, row] += weight * folded[:, :, bin_]
        return np.log1p(rows / settings.power_ref).astype(np.float32)


class TensorStream:
    """One tensor per epoch from chunks of raw frames, in bounded memory.

    >>> stream = TensorStream(recording.config, settings, n_bins=recording.n_bins, centre_m=0.9)
    >>> for _, frames in recording.chunks(900):
    ...     for epoch, tensor in stream.feed(frames): ...
    >>> for epoch, tensor in stream.finish(): ...

    Tensors are float32 of shape ``settings.tensor_shape`` (rows, frequencies,
    time steps); epochs come in order from 0. Any chunking gives the same
    tensors, bit for bit.
    """

    def __init__(
        self,
        config: RadarConfig,
        settings: RadarFeatureSettings,
        *,
        n_bins: int,
        centre_m: float,
        source: str = "recording",
    ) -> None:
        self.config = config
        self.settings = settings
        self._spectrogram = SpectrogramStream(
            config, settings, n_bins=n_bins, rows_m=settings.rows_m(centre_m), source=source
        )
        self._columns: dict[int, np.ndarray] = {}
        self._next_epoch = 0

    def feed(self, frames: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Process (frames, rx, bins) raw frames; returns the (epoch, tensor) pairs now complete."""
        first, columns = self._spectrogram.feed(frames)
        for offset, column in enumerate(columns):
            self._columns[first + offset] = column
        known_steps = first + len(columns)
        ready = []
        while self._epoch_steps(self._next_epoch)[1] <= known_steps:
            ready.append(self._emit())
        return ready

    def finish(self) -> list[tuple[int, np.ndarray]]:
        """The remaining epochs whose 30 s lie inside the recording, missing steps zero."""
        duration_s = self._spectrogram.frames_fed / self.config.frame_rate_hz
        n_epochs = math.floor(duration_s / self.settings.epoch_s + 1e-9)
        return [self._emit() for _ in range(self._next_epoch, n_epochs)]

    def _epoch_steps(self, epoch: int) -> tuple[int, int]:
        """[first, stop) global steps of ``epoch``'s tensor."""
        per_epoch = self.settings.steps_per_epoch
        half = self.settings.context_epochs // 2
        return (epoch - half) * per_epoch, (epoch + half + 1) * per_epoch

    def _emit(self) -> tuple[int, np.ndarray]:
        epoch = self._next_epoch
        first, stop = self._epoch_steps(epoch)
        tensor = np.zeros(self.settings.tensor_shape, dtype=np.float32)
        for step in range(first, stop):
            if step in self._columns:
                tensor[:, :, step - first] = self._columns[step]
        self._next_epoch += 1
        keep_from = self._epoch_steps(self._next_epoch)[0]
        for step in [step for step in self._columns if step < keep_from]:
            del self._columns[step]
        return epoch, tensor


def check_duration(recording: Recording, settings: RadarFeatureSettings) -> None:
    """Raise RadarError when ``recording`` is too short for one STFT window or one epoch."""
    duration = recording.duration_s
    for needed, what in ((settings.stft_window_s, "one STFT window"), (settings.epoch_s, "one epoch")):
        if duration < needed - 1e-9:
            raise RadarError(
                f"{recording.path}: {duration:.1f} s recorded ({recording.n_frames} frames "
                f"at {recording.config.frame_rate_hz:g} Hz), shorter than {what} "
                f"({needed:g} s)"
            )


def range_doppler_time(
    recording: Recording,
    settings: RadarFeatureSettings,
    *,
    centre_m: float,
    frames_per_chunk: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """(epoch, tensor) for each whole epoch of ``recording``, reading it in chunks.

    Args:
        recording: an open recording.
        settings: the frontend settings.
        centre_m: the sleeper's range in metres (the middle row).
        frames_per_chunk: frames read at a time; default ``CHUNK_S`` seconds.

    Yields:
        epoch index ``k`` (covering ``[30 k, 30 k + 30)`` s) and its float32
        tensor of shape ``settings.tensor_shape``.

    Raises:
        RadarError: the recording is shorter than one STFT window or one epoch,
            the rows lie outside its range bins, or its frame rate is too low.
    """
    check_duration(recording, settings)
    stream = TensorStream(
        recording.config, settings, n_bins=recording.n_bins, centre_m=centre_m, source=str(recording.path)
    )
    chunk = frames_per_chunk or max(1, round(CHUNK_S * recording.config.frame_rate_hz))
    for _, frames in recording.chunks(chunk):
        yield from stream.feed(frames)
    yield from stream.finish()


def epoch_tensors(path: str | Path, settings: RadarFeatureSettings, *, centre_m: float) -> np.ndarray:
    """All epochs' tensors of a recording: float32 (epochs, rows, frequencies, time steps).

    Holds them all in memory (97.5 kB per epoch by default, 94 MB for an 8-hour
    night); :func:`range_doppler_time` streams them instead. Errors as there.
    """
    with Recording(path) as recording:
        tensors = [tensor for _, tensor in range_doppler_time(recording, settings, centre_m=centre_m)]
    return np.stack(tensors)
