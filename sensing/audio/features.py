"""Log-mel features, defined once for training, runtime and firmware.

Everything that shapes a model's input lives in :class:`FeatureSettings`. The
runtime computes features with the functions below; training calls the same
functions; the firmware header is generated from the same settings. The
implementation matches librosa's ``melspectrogram`` (Slaney mel scale and
normalisation, ``center=False``) and ``feature.delta`` (``mode="nearest"``);
a test pins that.

Level. A bedside microphone hears the same cough anywhere from -50 to -15 dBFS
peak. With ``level="window-peak"`` (the default) each model window's log-mel is
measured from the window's loudest mel bin and clipped ``dynamic_range_db``
below it (:func:`level_normalised`), over a log floor far below any real
microphone's noise (``log_floor=1e-12`` is the mel power of white noise at
about -128 dBFS), so a window and the same window 60 dB quieter give the same
features. It needs no history, so streaming, training from cached log-mel and
the firmware frontend stay window-local. ``level="absolute"`` is the older
fixed-floor log-mel (``log(mel + 1e-6)``), whose values follow the input gain;
models trained with it keep it (metadata without a ``level`` entry reads as
``absolute``).

Shapes: audio is 1-D float32 in [-1, 1] at ``settings.sr``; a log-mel
spectrogram is ``(frames, n_mels)``; model input is ``(window_frames, n_mels, 3)``
(log-mel, delta, delta-delta as channels).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import numpy as np

from sensing.errors import SensingError

LEVELS = ("window-peak", "absolute")
"""How a log-mel window relates to the input level: measured from the window's
loudest bin (gain-invariant), or absolute (the older fixed-floor features)."""

FRONTENDS = ("mel", "leaf")
"""Feature frontends a model can be trained with: the fixed log-mel, or the
learnable LEAF frontend (in ``training.leaf``), which starts as mel. ``level``
applies to the log-mel only: LEAF's sPCEN is its own gain control."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class FeatureSettings:
    """The frontend's settings. Frozen: a model is trained for one of these.

    Attributes:
        sr: sample rate in Hz of the audio the frontend reads.
        n_fft: FFT length and analysis window length in samples (Hann window).
        hop_length: samples between the starts of two frames.
        n_mels: number of mel bands.
        fmin: lowest mel band edge in Hz.
        fmax: highest mel band edge in Hz, at most ``sr / 2``.
        log_floor: added to the mel power before the natural log.
        log_offset: subtracted from the log-mel values ...
        log_scale: ... which are then divided by this, so that typical
            values lie roughly in [-3, 3].
        level: one of :data:`LEVELS`; see the module docstring.
        dynamic_range_db: with ``level="window-peak"``, how far below the
            window's loudest mel bin (in dB of power) the features are clipped.
        peak_floor: with ``level="window-peak"``, the least mel power a window is
            measured from: a window whose loudest bin is below it (digital
            silence, a muted microphone; 1e-10 is white noise at about -108
            dBFS) is measured from this instead, so it reads as quiet, not loud.
        window_frames: frames in one model input window.
        window_hop_frames: frames between the starts of two model windows.
        delta_width: frames used by the delta regression (odd, at least 3).
    """

    sr: int = 16000
    n_fft: int = 512
    hop_length: int = 160
    n_mels: int = 40
    fmin: float = 50.0
    fmax: float = 8000.0
    log_floor: float = 1e-12
    log_offset: float = -6.0
    log_scale: float = 4.0
    level: str = "window-peak"
    dynamic_range_db: float = 60.0
    peak_floor: float = 1e-10
    window_frames: int = 96
    window_hop_frames: int = 48
    delta_width: int = 5

    def __post_init__(self) -> None:
        checks = [
            (self.sr > 0, "sr must be positive"),
            (self.n_fft > 0 and self.hop_length > 0, "n_fft and hop_length must be positive"),
            (0 <= self.fmin < self.fmax <= self.sr / 2, "need 0 <= fmin < fmax <= sr / 2"),
            (self.n_mels > 0, "n_mels must be positive"),
            (self.log_floor > 0 and self.log_scale > 0, "log_floor and log_scale must be positive"),
            (self.window_frames >= self.delta_width, "window_frames must be at least delta_width"),
            (
                0 < self.window_hop_frames <= self.window_frames,
                "window_hop_frames must be in (0, window_frames]",
            ),
            (self.delta_width >= 3 and self.delta_width % 2 == 1, "delta_width must be odd and >= 3"),
            (self.level in LEVELS, f"level must be one of {', '.join(LEVELS)}"),
            (self.dynamic_range_db > 0, "dynamic_range_db must be positive"),
            (
                self.level == "absolute" or self.peak_floor > self.log_floor,
                "peak_floor must exceed log_floor",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise SensingError(f"invalid feature settings: {message} (got {self})")

    @property
    def window_samples(self) -> int:
        """Audio samples covered by one model window."""
        return self.n_fft + (self.window_frames - 1) * self.hop_length

    @property
    def window_hop_samples(self) -> int:
        """Audio samples between the starts of two model windows."""
        return self.window_hop_frames * self.hop_length

    @property
    def window_s(self) -> float:
        """Duration of one model window in seconds."""
        return self.window_samples / self.sr

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Model input shape without the batch axis: (frames, mels, channels)."""
        return (self.window_frames, self.n_mels, 3)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def scaled_peak_floor(self) -> float:
        """:attr:`peak_floor` as a scaled log-mel value (as :func:`log_mel` gives them)."""
        return float((np.log(self.peak_floor + self.log_floor) - self.log_offset) / self.log_scale)

    @property
    def normalised_span(self) -> float:
        """Width of the window-peak features' range in scaled log units:
        ``dynamic_range_db`` of power as a natural log, divided by ``log_scale``."""
        return float(self.dynamic_range_db * np.log(10.0) / 10.0 / self.log_scale)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FeatureSettings:
        """Settings from :meth:`to_dict`; settings written before ``level`` existed
        describe the absolute (fixed-floor) features."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SensingError(f"unknown feature settings {unknown}; known: {sorted(known)}")
        return cls(**{"level": "absolute", **values})


_SLANEY_HZ_PER_MEL = 200.0 / 3  # linear part: 66.7 Hz per mel below 1 kHz
_SLANEY_BREAK_HZ = 1000.0
_SLANEY_BREAK_MEL = _SLANEY_BREAK_HZ / _SLANEY_HZ_PER_MEL
_SLANEY_LOG_STEP = np.log(6.4) / 27.0  # log-Hz per mel above 1 kHz


def hz_to_mel(frequencies_hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    frequencies_hz = np.asarray(frequencies_hz, dtype=np.float64)
    mels = frequencies_hz / _SLANEY_HZ_PER_MEL
    above = frequencies_hz >= _SLANEY_BREAK_HZ
    mels[above] = _SLANEY_BREAK_MEL + np.log(frequencies_hz[above] / _SLANEY_BREAK_HZ) / _SLANEY_LOG_STEP
    return mels


def mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mels = np.asarray(mels, dtype=np.float64)
    hz = _SLANEY_HZ_PER_MEL * mels
    above = mels >= _SLANEY_BREAK_MEL
    hz[above] = _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOG_STEP * (mels[above] - _SLANEY_BREAK_MEL))
    return hz


def mel_band_edges_hz(settings: FeatureSettings) -> np.ndarray:
    """(n_mels + 2,) float64 edges of the mel bands in Hz: band ``i`` rises from edge ``i``,
    peaks at edge ``i + 1`` (its centre) and falls to edge ``i + 2``."""
    return mel_to_hz(
        np.linspace(
            hz_to_mel(np.array([settings.fmin]))[0],
            hz_to_mel(np.array([settings.fmax]))[0],
            settings.n_mels + 2,
        )
    )


@lru_cache(maxsize=8)
def mel_filterbank(settings: FeatureSettings) -> np.ndarray:
    """Slaney-normalised triangular mel filters, shape (n_mels, n_fft // 2 + 1), float32."""
    n_bins = settings.n_fft // 2 + 1
    fft_hz = np.linspace(0.0, settings.sr / 2, n_bins)
    edges_hz = mel_band_edges_hz(settings)
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    weights = weights.astype(np.float32)
    weights.setflags(write=False)
    return weights


@lru_cache(maxsize=8)
def hann_window(n_fft: int) -> np.ndarray:
    """Periodic Hann window (as used for spectral analysis), float64."""
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    window.setflags(write=False)
    return window


def frame_view(audio: np.ndarray, n_frames: int, settings: FeatureSettings) -> np.ndarray:
    """Read-only (n_frames, n_fft) view of overlapping frames of 1-D ``audio``."""
    step = audio.strides[0]
    return np.lib.stride_tricks.as_strided(
        audio, shape=(n_frames, settings.n_fft), strides=(step * settings.hop_length, step), writeable=False
    )


def frame_count(n_samples: int, settings: FeatureSettings) -> int:
    """Number of whole frames in ``n_samples`` of audio (no centring, no padding)."""
    if n_samples < settings.n_fft:
        return 0
    return 1 + (n_samples - settings.n_fft) // settings.hop_length


def power_spectrum(audio: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Short-time power spectrum of ``audio`` (Hann window of ``n_fft`` samples, no scaling).

    Args:
        audio: 1-D float array at ``settings.sr`` Hz, values in [-1, 1].
        settings: the frontend settings.

    Returns:
        float32 array of shape (frames, n_fft // 2 + 1), frames as in :func:`log_mel`.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise SensingError(f"expected 1-D audio, got shape {audio.shape}")
    n_frames = frame_count(audio.size, settings)
    if n_frames == 0:
        return np.zeros((0, settings.n_fft // 2 + 1), dtype=np.float32)
    # float64: numpy's float64 FFT is several times faster than its float32 one
    spectrum = np.fft.rfft(frame_view(audio, n_frames, settings) * hann_window(settings.n_fft), axis=-1)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32, copy=False)


def log_mel(audio: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Scaled log-mel spectrogram of ``audio``.

    Args:
        audio: 1-D float array at ``settings.sr`` Hz, values in [-1, 1].
        settings: the frontend settings.

    Returns:
        float32 array of shape (frames, n_mels) with
        ``frames = 1 + (len(audio) - n_fft) // hop_length`` (0 rows when the
        audio is shorter than one frame). Frame ``i`` covers samples
        ``[i * hop_length, i * hop_length + n_fft)``.
    """
    return log_mel_from_power(power_spectrum(audio, settings), settings)


def log_mel_from_power(power: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Scaled log-mel rows (frames, n_mels) float32 from a (frames, n_fft // 2 + 1)
    :func:`power_spectrum`, as :func:`log_mel` gives them."""
    mel_power: np.ndarray = power @ mel_filterbank(settings).T
    return ((np.log(mel_power + settings.log_floor) - settings.log_offset) / settings.log_scale).astype(
        np.float32
    )


def frame_energy_db(audio: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Mean-square level of each frame in dB relative to full scale, shape (frames,).

    Frames are those of :func:`log_mel` (no window applied); silence is about -100 dB.
    """
    audio = np.asarray(audio, dtype=np.float32)
    n_frames = frame_count(audio.size, settings)
    if n_frames == 0:
        return np.zeros(0, dtype=np.float32)
    frames = frame_view(audio, n_frames, settings)
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64)
    return np.asarray((10 * np.log10(power / settings.n_fft + 1e-10)).astype(np.float32))


ONSET_BAND_HZ = (300.0, 4000.0)
"""Band (Hz) whose level marks a cough's onset: where a cough is loud and a bedroom's rumble,
hum and traffic (mostly below 300 Hz) are not, so the room's noise hardly moves it."""


def band_level_db(
    power: np.ndarray, settings: FeatureSettings, *, band_hz: tuple[float, float] = ONSET_BAND_HZ
) -> np.ndarray:
    """Level of each frame within ``band_hz`` in dB relative to full scale, shape (frames,).

    Args:
        power: (frames, n_fft // 2 + 1) :func:`power_spectrum` of the audio.
        settings: the frontend settings.
        band_hz: lowest and highest frequency in Hz (the top is cut at ``sr / 2``).

    A full-scale sine inside the band reads about -3 dB; silence about -100 dB.
    """
    frequencies_hz = np.fft.rfftfreq(settings.n_fft, 1.0 / settings.sr)
    in_band = (frequencies_hz >= band_hz[0]) & (frequencies_hz <= band_hz[1])
    window_energy = float(np.sum(np.square(hann_window(settings.n_fft))))
    mean_square = 2.0 * power[:, in_band].sum(axis=1, dtype=np.float64) / (settings.n_fft * window_energy)
    return np.asarray((10 * np.log10(mean_square + 1e-10)).astype(np.float32))


def delta_weights(order: int, width: int) -> np.ndarray:
    """(width,) float64 regression weights of frames ``-(width // 2)`` to ``width // 2`` around a frame."""
    half = width // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    if order == 1:
        return offsets / np.sum(offsets**2)
    centred = offsets**2 - np.mean(offsets**2)
    return np.asarray(2.0 * centred / np.sum(centred**2))


@lru_cache(maxsize=16)
def delta_matrix(n_frames: int, order: int, width: int) -> np.ndarray:
    """(n_frames, n_frames) float32 matrix ``M`` with ``delta(x) == M @ x`` (edges repeated)."""
    offsets = np.arange(-(width // 2), width // 2 + 1)
    matrix = np.zeros((n_frames, n_frames), dtype=np.float64)
    rows = np.arange(n_frames)
    for offset, weight in zip(offsets, delta_weights(order, width)):
        np.add.at(matrix, (rows, np.clip(rows + offset, 0, n_frames - 1)), weight)
    matrix = matrix.astype(np.float32)
    matrix.setflags(write=False)
    return matrix


def delta(values: np.ndarray, *, order: int, width: int) -> np.ndarray:
    """Savitzky-Golay derivative along axis 0 with edge frames repeated.

    Matches ``librosa.feature.delta(values.T, width=width, order=order,
    mode="nearest").T``: order 1 is the least-squares slope over ``width``
    frames, order 2 the second derivative of a least-squares parabola.

    Args:
        values: array of shape (frames, bands).
        order: 1 or 2.
        width: odd number of frames in the regression window.

    Returns:
        float32 array of the same shape.
    """
    if order not in (1, 2):
        raise SensingError(f"delta order must be 1 or 2, got {order}")
    return delta_matrix(values.shape[0], order, width) @ values.astype(np.float32, copy=False)


def level_normalised(log_mel_window: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """A window's scaled log-mel as the model sees it, shape (frames, n_mels) float32.

    With ``level="window-peak"``: each value measured from the window's largest
    (or from :attr:`FeatureSettings.scaled_peak_floor` when that is larger),
    clipped :attr:`FeatureSettings.normalised_span` below it, and shifted to
    centre the range on zero, so values lie in [-span / 2, span / 2] and a gain
    applied to the audio changes nothing (until the quietest bins reach
    ``log_floor`` or the loudest fall below ``peak_floor``). With
    ``level="absolute"``: unchanged.
    """
    if settings.level == "absolute":
        return log_mel_window
    span = np.float32(settings.normalised_span)
    relative = log_mel_window - max(np.max(log_mel_window), np.float32(settings.scaled_peak_floor))
    return np.asarray((np.maximum(relative, -span) + span / 2).astype(np.float32))


WINDOW_NORMALISATION = ("level", "dynamic_range_db", "peak_floor", "delta_width")
"""The settings that act on a window's log-mel only (:func:`window_features`): a clip's log-mel
rows do not depend on them, so one feature cache of them serves every value."""


def window_features(log_mel_window: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Model input for one window: (window_frames, n_mels, 3) float32.

    Channels are the window's :func:`level_normalised` scaled log-mel, its
    delta and its delta-delta, computed within the window so that a window's
    features depend on that window alone.
    """
    if log_mel_window.shape != (settings.window_frames, settings.n_mels):
        raise SensingError(
            f"window has shape {log_mel_window.shape}, expected ({settings.window_frames}, {settings.n_mels})"
        )
    log_mel_window = level_normalised(log_mel_window, settings)
    return np.stack(
        [
            log_mel_window,
            delta(log_mel_window, order=1, width=settings.delta_width),
            delta(log_mel_window, order=2, width=settings.delta_width),
        ],
        axis=-1,
    ).astype(np.float32)


def window_starts(n_frames: int, settings: FeatureSettings) -> np.ndarray:
    """First frame of each model window over ``n_frames`` frames.

    Windows step by ``window_hop_frames``; when the last step leaves frames
    uncovered, one more window is aligned to the end, so every frame is seen.
    Returns an empty array when there are fewer frames than one window.
    """
    if n_frames < settings.window_frames:
        return np.zeros(0, dtype=np.int64)
    last = n_frames - settings.window_frames
    starts = np.arange(0, last + 1, settings.window_hop_frames, dtype=np.int64)
    if starts[-1] != last:
        starts = np.append(starts, last)
    return starts


def pad_to_window(audio: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Centre audio shorter than one model window in zeros; longer audio is returned as is."""
    missing = settings.window_samples - audio.size
    if missing <= 0:
        return audio
    before = missing // 2
    return np.pad(audio, (before, missing - before))


def clip_features(audio: np.ndarray, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Every model window of a clip.

    Args:
        audio: 1-D float array at ``settings.sr`` Hz. Clips shorter than one
            window are centred in zeros first.

    Returns:
        ``(features, start_s)``: features of shape (windows, window_frames,
        n_mels, 3) and each window's start time in seconds from the start of
        ``audio`` (negative for a padded clip).
    """
    padded, starts, start_s = clip_windows(audio, settings)
    mel = log_mel(padded, settings)
    features = np.stack([window_features(mel[s : s + settings.window_frames], settings) for s in starts])
    return features, start_s


def clip_windows(audio: np.ndarray, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a clip's model windows lie.

    Returns:
        ``(padded, starts, start_s)``: the audio centred in zeros when shorter than
        one window (else as is), the first frame of each window in ``padded``
        (:func:`window_starts`), and each window's start in seconds from the start
        of ``audio`` (negative for a padded clip).
    """
    padded = pad_to_window(audio, settings)
    offset = (padded.size - audio.size) // 2
    starts = window_starts(frame_count(padded.size, settings), settings)
    return padded, starts, (starts * settings.hop_length - offset) / settings.sr
