"""Raw FMCW ADC cubes turned into the toolkit's recording format.

An ADC cube holds the samples of every chirp: shape (frames, chirps, rx,
samples), real (int16, float) or complex (IQ sampling). Each chirp gives a
range profile through a windowed FFT over its samples; the chirps of a frame
are averaged coherently into one complex profile per receiver, which is what
:mod:`sensing.radar.recording` stores.

Bin ``k`` of the FFT holds beat frequency ``k * adc_rate_hz / samples``, which
is the range ``k * range_resolution_m``. Real samples keep bins
``0 .. samples/2 - 1`` (the rest mirrors them). Complex samples keep all
``samples`` bins, as a complex (IQ) mixer has no negative beat frequencies: a
target that shows up at bin ``samples - k`` instead of ``k`` means the IQ
convention is the other way round; pass ``np.conj(cube)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sensing.errors import RadarError
from sensing.radar.recording import RadarConfig, RecordingWriter, is_finite_number

SPEED_OF_LIGHT_M_S = 299_792_458.0
"""Speed of light in vacuum in metres per second."""
FRAMES_PER_CHUNK = 256
"""Frames of a cube converted at once by :func:`convert_adc_cube`."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChirpSettings:
    """How an FMCW radar's chirps were sent and sampled.

    Attributes:
        start_frequency_hz: carrier frequency at the first ADC sample of a chirp
            in Hz (for radars with an ADC start delay: start + slope * delay).
        bandwidth_hz: frequency swept over the whole ramp in Hz.
        ramp_time_s: duration of the ramp in seconds.
        adc_rate_hz: ADC samples per second.
        frame_rate_hz: frames per second.
        rx_spacing_m: distance between neighbouring receive antennas in metres
            (0 for one receiver).
        device: free text naming the radar, stored in the recording.
    """

    start_frequency_hz: float
    bandwidth_hz: float
    ramp_time_s: float
    adc_rate_hz: float
    frame_rate_hz: float
    rx_spacing_m: float
    device: str

    def __post_init__(self) -> None:
        for name in ("start_frequency_hz", "bandwidth_hz", "ramp_time_s", "adc_rate_hz", "frame_rate_hz"):
            if not (is_finite_number(getattr(self, name)) and getattr(self, name) > 0):
                raise RadarError(
                    f"chirp settings: {name} must be a positive number, got {getattr(self, name)!r}"
                )
        if not (is_finite_number(self.rx_spacing_m) and self.rx_spacing_m >= 0):
            raise RadarError(f"chirp settings: rx_spacing_m must be a number >= 0, got {self.rx_spacing_m!r}")
        if not (isinstance(self.device, str) and self.device.strip()):
            raise RadarError(f"chirp settings: device must be a non-empty string, got {self.device!r}")

    @property
    def slope_hz_per_s(self) -> float:
        """Frequency slope of the ramp in Hz per second."""
        return self.bandwidth_hz / self.ramp_time_s

    def sampled_bandwidth_hz(self, n_samples: int) -> float:
        """Bandwidth in Hz swept while ``n_samples`` ADC samples are taken."""
        return self.slope_hz_per_s * n_samples / self.adc_rate_hz

    def range_resolution_m(self, n_samples: int) -> float:
        """Metres between two range bins for chirps of ``n_samples`` samples."""
        return SPEED_OF_LIGHT_M_S / (2.0 * self.sampled_bandwidth_hz(n_samples))

    def centre_frequency_hz(self, n_samples: int) -> float:
        """Carrier frequency in Hz in the middle of the sampled part of the ramp."""
        return self.start_frequency_hz + self.sampled_bandwidth_hz(n_samples) / 2.0

    def wavelength_m(self, n_samples: int) -> float:
        """Carrier wavelength in metres at :meth:`centre_frequency_hz`."""
        return SPEED_OF_LIGHT_M_S / self.centre_frequency_hz(n_samples)

    def check_samples(self, n_samples: int, source: str) -> None:
        """Raise :class:`RadarError` naming ``source`` if ``n_samples`` outlast the ramp."""
        if n_samples / self.adc_rate_hz > self.ramp_time_s * (1 + 1e-9):
            raise RadarError(
                f"{source}: {n_samples} samples at {self.adc_rate_hz:g} Hz last "
                f"{n_samples / self.adc_rate_hz:g} s, longer than the {self.ramp_time_s:g} s "
                f"ramp of the chirp settings"
            )

    def radar_config(self, n_samples: int) -> RadarConfig:
        """The recording's :class:`RadarConfig` for chirps of ``n_samples`` samples (bin 0 at 0 m)."""
        return RadarConfig(
            frame_rate_hz=float(self.frame_rate_hz),
            range_resolution_m=float(self.range_resolution_m(n_samples)),
            range_offset_m=0.0,
            wavelength_m=float(self.wavelength_m(n_samples)),
            rx_spacing_m=float(self.rx_spacing_m),
            device=self.device,
        )


def max_bins(cube: np.ndarray) -> int:
    """Number of positive-range bins a cube gives: samples/2 for real samples, samples for complex."""
    n_samples = cube.shape[-1]
    return int(n_samples if np.iscomplexobj(cube) else n_samples // 2)


def range_profiles(cube: np.ndarray, settings: ChirpSettings, *, n_bins: int | None = None) -> np.ndarray:
    """Complex range profiles of an ADC cube, one per frame and receiver.

    Each chirp's mean is subtracted (DC), a Hann window applied over the
    samples, and the FFT divided by the window's sum (a complex tone of
    amplitude A peaks at about A, a real one at about A/2). The spectra of a
    frame's chirps are then averaged (coherent mean).

    Args:
        cube: (frames, chirps, rx, samples) ADC samples: integers, floats or complex.
        settings: the chirp settings (the samples must fit in the ramp).
        n_bins: range bins kept from bin 0; default all positive-range bins
            (:func:`max_bins`).

    Returns:
        (frames, rx, n_bins) complex64.

    Raises:
        RadarError: wrong dtype or shape, NaN or infinite samples, more samples than
            the ramp holds, ``n_bins`` out of range.
    """
    cube = np.asarray(cube)
    _check_cube(cube, "ADC cube")
    n_bins = _check_n_bins(n_bins, cube, "ADC cube")
    settings.check_samples(cube.shape[-1], "ADC cube")
    return _profiles(cube, n_bins, first_frame=0, source="ADC cube")


def convert_adc_cube(
    cube_or_path: np.ndarray | str | Path,
    settings: ChirpSettings,
    out_path: str | Path,
    *,
    n_bins: int | None = None,
    frames_per_chunk: int = FRAMES_PER_CHUNK,
) -> Path:
    """Write an ADC cube as a recording, ``frames_per_chunk`` frames at a time.

    Args:
        cube_or_path: a (frames, chirps, rx, samples) array or a ``.npy`` file
            holding one; the file is memory-mapped, so a cube larger than memory
            is read chunk by chunk.
        settings: the chirp settings.
        out_path: the ``.npz`` recording to write.
        n_bins: range bins kept, as in :func:`range_profiles`.
        frames_per_chunk: frames processed at once (a positive integer).

    Returns:
        ``out_path``.

    Raises:
        RadarError: a missing or unreadable file, or a cube :func:`range_profiles` rejects.
    """
    if (
        isinstance(frames_per_chunk, bool)
        or not isinstance(frames_per_chunk, (int, np.integer))
        or frames_per_chunk < 1
    ):
        raise RadarError(f"frames_per_chunk must be a positive integer, got {frames_per_chunk!r}")
    if isinstance(cube_or_path, np.ndarray):
        cube, source = cube_or_path, "ADC cube"
    else:
        cube, source = _load_npy(Path(cube_or_path)), str(cube_or_path)
    _check_cube(cube, source)
    n_bins = _check_n_bins(n_bins, cube, source)
    settings.check_samples(cube.shape[-1], source)
    config = settings.radar_config(cube.shape[-1])
    n_frames, _, n_rx, _ = cube.shape
    chunks = (
        _profiles(
            np.asarray(cube[start : start + frames_per_chunk]), n_bins, first_frame=start, source=source
        )
        for start in range(0, n_frames, frames_per_chunk)
    )
    return write_profiles(out_path, config, chunks, n_frames=n_frames, n_rx=n_rx, n_bins=n_bins)


def write_profiles(
    out_path: str | Path,
    config: RadarConfig,
    chunks: Iterable[np.ndarray],
    *,
    n_frames: int,
    n_rx: int,
    n_bins: int,
) -> Path:
    """Write a recording from consecutive (frames, n_rx, n_bins) complex64 chunks.

    An error raised while the chunks are made (a NaN frame, an unreadable
    input) comes out as it is, and the half-written file is removed.

    Returns:
        ``out_path``.
    """
    with RecordingWriter(out_path, config, n_frames=n_frames, n_rx=n_rx, n_bins=n_bins) as writer:
        for chunk in chunks:
            writer.write(chunk)
    return Path(out_path)


def _load_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise RadarError(f"{path}: ADC cube not found")
    try:
        cube = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as error:
        raise RadarError(f"{path}: not a readable .npy array ({error})") from None
    if not isinstance(cube, np.ndarray):
        raise RadarError(f"{path}: holds several arrays (an .npz archive); save the cube alone with np.save")
    return cube


def _check_cube(cube: np.ndarray, source: str) -> None:
    if cube.dtype.kind not in "iufc":
        raise RadarError(f"{source}: ADC samples must be integers, floats or complex, got {cube.dtype}")
    if cube.ndim != 4 or 0 in cube.shape:
        raise RadarError(
            f"{source}: ADC cube must have shape (frames, chirps, rx, samples), got {cube.shape}"
        )
    if cube.shape[-1] < 2:
        raise RadarError(f"{source}: {cube.shape[-1]} sample per chirp; a range FFT needs at least 2")


def _check_n_bins(n_bins: int | None, cube: np.ndarray, source: str) -> int:
    available = max_bins(cube)
    if n_bins is None:
        return available
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or not 1 <= n_bins <= available:
        raise RadarError(
            f"{source}: n_bins must be an integer from 1 to {available} "
            f"({cube.shape[-1]} {'complex' if np.iscomplexobj(cube) else 'real'} samples), "
            f"got {n_bins!r}"
        )
    return int(n_bins)


def _profiles(chunk: np.ndarray, n_bins: int, *, first_frame: int, source: str) -> np.ndarray:
    """(frames, rx, n_bins) complex64 profiles of (frames, chirps, rx, samples) samples."""
    samples = chunk.astype(np.complex128 if np.iscomplexobj(chunk) else np.float64)
    bad = ~np.isfinite(samples).all(axis=(1, 2, 3))
    if bad.any():
        raise RadarError(f"{source}: frame {first_frame + int(np.argmax(bad))} holds NaN or infinite samples")
    window = np.hanning(samples.shape[-1])
    samples = (samples - samples.mean(axis=-1, keepdims=True)) * window
    fft = np.fft.fft if np.iscomplexobj(samples) else np.fft.rfft
    spectra = fft(samples, axis=-1)[..., :n_bins] / window.sum()
    return np.asarray(spectra.mean(axis=1).astype(np.complex64))
