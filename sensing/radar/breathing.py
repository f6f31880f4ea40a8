"""Breathing rate from the phase of the sleeper's range bin.

The method, for one span of frames:

1. average the receivers coherently (:func:`~sensing.radar.processing.combine_rx`);
2. among the candidate bins, take the one with the most power in the
   breathing band (0.1-0.5 Hz, 6-30 breaths per minute) after removing its mean;
3. fit a circle to that bin's I/Q trajectory (least squares) and subtract its
   centre, the static echo sharing the bin, so the phase turns only with the
   sleeper's displacement; unwrap it: displacement = phase * wavelength / (4 pi);
4. remove the linear trend, Hann window, zero-padded FFT; the band-pass is done
   in the frequency domain: the peak is the highest local maximum in 0.1-0.5 Hz,
   refined by parabolic interpolation of the log power (none: the rate is NaN).

:func:`breathing_per_epoch` slides a 60 s span over the recording, one per
30 s epoch, centred on it.

Confidence is the share of the displacement power between 0.05 and 2 Hz that
lies in the breathing peak and its second harmonic (each the Hann window's
main lobe, ``2 / seconds`` Hz either side): near 1 for steady breathing, about
0.1 for noise. It is set to 0 when nothing moves at that range (the bin's
mean-removed power is less than ``MIN_MOTION_TO_BACKGROUND`` times the median
over all bins, most of which see only noise and static echoes) or when the
displacement swings more than ``MAX_BREATHING_DISPLACEMENT_M`` peak to peak
(movement: at 60 GHz and 15 frames/s anything faster than about 2 cm/s also
aliases in slow time, which breaks the unwrapping); ``note`` says which.
An estimate is :attr:`~BreathingEstimate.confident` from ``MIN_CONFIDENCE``.
Numpy only.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from sensing.errors import RadarError
from sensing.radar.processing import combine_rx
from sensing.radar.recording import EPOCH_S, RadarConfig, Recording, is_finite_number

BREATHING_BAND_HZ = (0.1, 0.5)
"""Breathing rates searched, in Hz (6 to 30 breaths per minute)."""
MOTION_BAND_HZ = (0.05, 2.0)
"""Band of the displacement spectrum that confidence is a share of, in Hz."""
MIN_CONFIDENCE = 0.5
"""Confidence from which an estimate counts as breathing."""
MIN_MOTION_TO_BACKGROUND = 4.0
"""Mean-removed power of the chosen bin over the median bin's, under which nothing moves there."""
MAX_BREATHING_DISPLACEMENT_M = 0.02
"""Peak-to-peak displacement above which a span counts as movement, in metres."""
MIN_SECONDS = 20.0
"""Shortest span analysed: two cycles of the slowest breathing rate."""
EPOCH_WINDOW_S = 60.0
"""Span analysed per epoch by :func:`breathing_per_epoch`, centred on the epoch."""


@dataclasses.dataclass(frozen=True)
class BreathingEstimate:
    """The breathing rate over one span.

    Attributes:
        rate_per_min: breaths per minute at the spectral peak (6 to 30); NaN
            when the spectrum has no peak in that range.
        confidence: 0 to 1, see the module docstring.
        range_m: range in metres of the bin analysed.
        start_s, seconds: the span, in seconds from the recording's start.
        note: how the estimate was judged, in words (why it is not confident).
    """

    rate_per_min: float
    confidence: float
    range_m: float
    start_s: float
    seconds: float
    note: str

    @property
    def confident(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE


def band_power(
    signal: np.ndarray, frame_rate_hz: float, band_hz: tuple[float, float] = BREATHING_BAND_HZ
) -> np.ndarray:
    """Power per bin in a frequency band.

    Args:
        signal: complex (frames, bins) slow-time signal at ``frame_rate_hz``.
        frame_rate_hz: frames per second.
        band_hz: (low, high) band edges in Hz, both included.

    Returns:
        (bins,) float64: power of the mean-removed, Hann-windowed signal in the
        band, in squared signal units (the window's sum normalises it).
    """
    window = np.hanning(len(signal))[:, None]
    spectrum = np.fft.fft((signal - signal.mean(axis=0)) * window, axis=0)
    frequencies = np.abs(np.fft.fftfreq(len(signal), 1 / frame_rate_hz))
    in_band = (frequencies >= band_hz[0]) & (frequencies <= band_hz[1])
    power = spectrum.real[in_band] ** 2 + spectrum.imag[in_band] ** 2
    return np.asarray(power.sum(axis=0) / window.sum() ** 2)


def estimate_breathing(
    iq: np.ndarray, config: RadarConfig, *, bins: Sequence[int] | None = None, start_s: float = 0.0
) -> BreathingEstimate:
    """Breathing rate over a span of frames held in memory.

    Args:
        iq: complex (frames, rx, range_bins) frames, at least ``MIN_SECONDS`` long.
        config: the recording's config.
        bins: range bins that may hold the sleeper; default all.
        start_s: time of the first frame, only reported back.

    Raises:
        RadarError: fewer than ``MIN_SECONDS`` of frames, a frame rate of 4 Hz
            or less (the displacement spectrum is judged up to 2 Hz), or a bin
            out of range.
    """
    rate = config.frame_rate_hz
    seconds = len(iq) / rate
    if seconds < MIN_SECONDS - 1e-9:
        raise RadarError(f"breathing: {seconds:.1f} s of frames; needs at least {MIN_SECONDS:g} s")
    if rate / 2 <= MOTION_BAND_HZ[1]:
        raise RadarError(f"breathing: {rate:g} Hz frames; needs more than {2 * MOTION_BAND_HZ[1]:g} Hz")
    candidates = np.arange(iq.shape[2]) if bins is None else np.asarray(bins, dtype=np.int64)
    if candidates.size == 0 or candidates.min() < 0 or candidates.max() >= iq.shape[2]:
        raise RadarError(
            f"breathing: bins must be a non-empty list of indices in [0, "
            f"{iq.shape[2]}), got {list(candidates)}"
        )
    signal = combine_rx(iq)
    best = int(candidates[np.argmax(band_power(signal[:, candidates], rate))])
    range_m = float(config.range_m(iq.shape[2])[best])
    displacement = _displacement(signal[:, best], config.wavelength_m)
    rate_per_min, share = _spectral_peak(displacement, rate)
    spread = np.var(signal, axis=0)
    motion = float(spread[best] / max(np.median(spread), 1e-300))
    confidence, note = _judge(
        share,
        rate_per_min,
        motion=motion,
        range_m=range_m,
        swing_m=float(displacement.max() - displacement.min()),
    )
    return BreathingEstimate(
        rate_per_min=rate_per_min,
        confidence=confidence,
        range_m=range_m,
        start_s=start_s,
        seconds=seconds,
        note=note,
    )


def _judge(
    share: float, rate_per_min: float, *, motion: float, swing_m: float, range_m: float
) -> tuple[float, str]:
    """(confidence, note) from the peak's share, the bin's power over the median bin's and the swing."""
    if motion < MIN_MOTION_TO_BACKGROUND:
        return 0.0, (
            f"nothing moves at {range_m:.3f} m (its power {motion:.1f}x the median bin's, "
            f"needs {MIN_MOTION_TO_BACKGROUND:g}x): no person?"
        )
    if swing_m > MAX_BREATHING_DISPLACEMENT_M:
        return 0.0, (
            f"movement at {range_m:.3f} m: {swing_m * 1000:.0f} mm peak to peak (breathing "
            f"moves less than {MAX_BREATHING_DISPLACEMENT_M * 1000:g} mm)"
        )
    if math.isnan(rate_per_min):
        return 0.0, (
            f"no spectral peak between {60 * BREATHING_BAND_HZ[0]:g} and "
            f"{60 * BREATHING_BAND_HZ[1]:g} /min at {range_m:.3f} m"
        )
    return share, (
        f"breathing peak holds {share:.1%} of the {MOTION_BAND_HZ[0]:g}-{MOTION_BAND_HZ[1]:g} "
        f"Hz displacement power at {range_m:.3f} m"
        + ("" if share >= MIN_CONFIDENCE else f" (weak: under {MIN_CONFIDENCE:.0%})")
    )


def _displacement(trace: np.ndarray, wavelength_m: float) -> np.ndarray:
    """(frames,) complex bin -> (frames,) detrended displacement in metres."""
    mean = trace.mean()
    centred = trace - mean
    design = np.column_stack([centred.real, centred.imag, np.ones(len(trace))])
    (x, y, _), *_ = np.linalg.lstsq(design, np.abs(centred) ** 2, rcond=None)
    phase = np.unwrap(np.angle(centred - (x + 1j * y) / 2))
    displacement = phase * wavelength_m / (4 * np.pi)
    time = np.arange(len(trace))
    return np.asarray(displacement - np.polyval(np.polyfit(time, displacement, 1), time))


def _spectral_peak(displacement: np.ndarray, frame_rate_hz: float) -> tuple[float, float]:
    """(rate per minute, share of motion-band power in the peak and its second harmonic).

    The peak is the highest local maximum of the power spectrum inside
    ``BREATHING_BAND_HZ``; without one (the power only rises towards a band
    edge) the rate is NaN and the share 0.
    """
    n_fft = 2 ** math.ceil(math.log2(8 * len(displacement)))
    power = np.abs(np.fft.rfft(displacement * np.hanning(len(displacement)), n_fft)) ** 2
    frequencies = np.fft.rfftfreq(n_fft, 1 / frame_rate_hz)
    in_band = np.flatnonzero((frequencies >= BREATHING_BAND_HZ[0]) & (frequencies <= BREATHING_BAND_HZ[1]))
    maxima = in_band[(power[in_band] >= power[in_band - 1]) & (power[in_band] >= power[in_band + 1])]
    if maxima.size == 0:
        return math.nan, 0.0
    peak = int(maxima[np.argmax(power[maxima])])
    below, centre, above = np.log(power[peak - 1 : peak + 2] + 1e-300)
    curvature = below - 2 * centre + above
    shift = 0.5 * (below - above) / curvature if curvature < 0 else 0.0
    peak_hz = (peak + shift) * frame_rate_hz / n_fft
    lobe_hz = 2 * frame_rate_hz / len(displacement)
    in_motion = (frequencies >= MOTION_BAND_HZ[0]) & (frequencies <= MOTION_BAND_HZ[1])
    in_peak = in_motion & (
        (np.abs(frequencies - peak_hz) <= lobe_hz) | (np.abs(frequencies - 2 * peak_hz) <= lobe_hz)
    )
    share = float(power[in_peak].sum() / max(power[in_motion].sum(), 1e-300))
    return float(60.0 * peak_hz), share


def breathing_rate(
    recording: Recording,
    *,
    bins: Sequence[int] | None = None,
    start_s: float = 0.0,
    seconds: float | None = None,
) -> BreathingEstimate:
    """Breathing rate over ``[start_s, start_s + seconds)`` of a recording (default: to its end).

    Reads only that span. See :func:`estimate_breathing` for ``bins`` and errors.
    """
    rate = recording.config.frame_rate_hz
    if not is_finite_number(start_s) or (seconds is not None and not is_finite_number(seconds)):
        raise RadarError(
            f"{recording.path}: the span to analyse must be finite seconds, got start {start_s!r} "
            f"and length {seconds!r}"
        )
    start = round(start_s * rate)
    stop = recording.n_frames if seconds is None else start + round(seconds * rate)
    if not 0 <= start < stop <= recording.n_frames:
        raise RadarError(
            f"{recording.path}: cannot analyse {start_s:g} s + "
            f"{'rest' if seconds is None else f'{seconds:g} s'} of a "
            f"{recording.duration_s:.1f} s recording"
        )
    frames = recording.read(start, stop)
    try:
        return estimate_breathing(frames, recording.config, bins=bins, start_s=start / rate)
    except RadarError as error:
        raise RadarError(f"{recording.path}: {error}") from None


def breathing_per_epoch(
    recording: Recording, *, bins: Sequence[int] | None = None, window_s: float = EPOCH_WINDOW_S
) -> list[BreathingEstimate]:
    """One estimate per whole 30 s epoch, each over ``window_s`` centred on the epoch.

    The span of epoch ``k`` is ``[30 k + 15 - window_s / 2, 30 k + 15 + window_s / 2)``
    s, clipped to the recording; a trailing partial epoch gets no estimate.
    """
    n_epochs = math.floor(recording.duration_s / EPOCH_S + 1e-9)
    estimates = []
    for epoch in range(n_epochs):
        middle = (epoch + 0.5) * EPOCH_S
        start = max(0.0, middle - window_s / 2)
        stop = min(recording.duration_s, middle + window_s / 2)
        estimates.append(breathing_rate(recording, bins=bins, start_s=start, seconds=stop - start))
    return estimates


def strongest_breathing_range(recording: Recording, *, window_s: float = EPOCH_WINDOW_S) -> float:
    """Range in metres of the bin with the most breathing-band power over the recording.

    The power is summed over consecutive ``window_s`` spans (a last span
    shorter than ``MIN_SECONDS`` is left out), reading one span at a time.
    """
    rate = recording.config.frame_rate_hz
    if recording.duration_s < MIN_SECONDS - 1e-9:
        raise RadarError(
            f"{recording.path}: {recording.duration_s:.1f} s recorded; finding the "
            f"sleeper's range needs at least {MIN_SECONDS:g} s"
        )
    span = max(round(window_s * rate), round(MIN_SECONDS * rate))
    total = np.zeros(recording.n_bins)
    for _, frames in recording.chunks(span):
        if len(frames) >= round(MIN_SECONDS * rate):
            total += band_power(combine_rx(frames), rate)
    return float(recording.config.range_m(recording.n_bins)[int(np.argmax(total))])
