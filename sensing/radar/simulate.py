"""Simulated nights of a 60 GHz FMCW radar on the sleeper's bedside table: physics, not pictures.

Every reflector is a point scatterer at range R(t), azimuth theta(t) with
amplitude a(t). Its contribution to receiver r's range profile is

    a * g(theta) * (1 m / R)^2 * h((R - R_b) / dR) * exp(j 4 pi R / lambda)
      * exp(j 2 pi r d sin(theta) / lambda)

at the range R_b of each bin b: ``h`` is the range response of a
Hann-windowed range FFT (:func:`range_response`: a main lobe falling to zero
2 bins either side, sidelobes below -31 dB), ``dR`` the range resolution, ``lambda`` the carrier
wavelength, ``d`` the receiver spacing, ``g(theta) = cos(theta)`` the antenna
pattern and ``(1 m / R)^2`` the radar equation's spreading loss in amplitude.
Frames then get complex Gaussian thermal noise, independent per bin and
receiver.

The scene (all of it in :class:`NightParameters`):

- the sleeper: five body scatterers (:data:`~sensing.radar.night_script.PARTS`)
  that breathe, beat, move, shift posture, walk in and out, following a
  second-by-second script (:mod:`sensing.radar.night_script`);
- static clutter: furniture and a wall, fixed scatterers that a clutter
  filter removes;
- optional interferers: a bed partner (a second scripted body, always further
  from the radar than the sleeper, since the device stands on the sleeper's
  bedside), a ceiling fan (blades whose range swings by 5-30 cm at 1-3
  rotations per second: Doppler at blade-rate harmonics, aliased at 15 frames/s), a
  curtain (folds swaying by mm to cm at 0.02-0.3 Hz, independently) and
  multipath (attenuated copies of every body scatterer at a longer range).

:func:`simulate_night` writes ``NAME.npz`` (see :mod:`sensing.radar.recording`)
chunk by chunk, ``NAME.epochs.csv`` (majority label of each 30 s epoch) and
``NAME.truth.json`` (:class:`NightTruth`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from sensing.errors import RadarError
from sensing.files import make_folder, write_atomically
from sensing.progress import Progress
from sensing.radar.night_script import STATE_LABELS, STATES, Person, Script, plan_script
from sensing.radar.recording import (
    EPOCH_LABELS,
    EPOCH_S,
    RadarConfig,
    RecordingWriter,
    epochs_path,
    write_epochs,
)

SPEED_OF_LIGHT_M_S = 299_792_458.0
KERNEL_SPAN_BINS = 7
"""The range response is tapered to zero this many bins from a scatterer (about -60 dB there)."""
_TAPER_START_BINS = 5
NOISE_BLOCK_FRAMES = 900
MAX_HOURS = 24.0
"""Longest night :func:`simulate_night` makes, in hours."""
"""Thermal noise is drawn in blocks of this many frames, each from its own seed, so any chunking
gives the same noise."""
_CURTAIN_WAVES = 12
"""Sinusoids per curtain fold: enough for an irregular, turbulence-like sway."""
_SCRIPT_STREAM, _PARTNER_STREAM, _ROOM_STREAM, _NOISE_STREAM = 1, 2, 3, 4
_HARDWARE_STREAM, _WIDE_STREAM = 5, 6


@dataclasses.dataclass(frozen=True, kw_only=True)
class RadarHardware:
    """The simulated radar: a Soli-like 60 GHz FMCW sensor with three receivers in a row.

    Attributes:
        start_frequency_hz, stop_frequency_hz: chirp sweep, Hz (58-63.5 GHz).
        frame_rate_hz: range profiles per second (15).
        n_rx: receive antennas, half a wavelength apart (3).
        n_bins: range bins kept (100).
        range_offset_m: range of bin 0, m (0.1; the last bin is then at 2.8 m).
        device: the name written into the recordings' :class:`RadarConfig`.
    """

    start_frequency_hz: float = 58.0e9
    stop_frequency_hz: float = 63.5e9
    frame_rate_hz: float = 15.0
    n_rx: int = 3
    n_bins: int = 100
    range_offset_m: float = 0.1
    device: str = "simulated soli-like"

    def __post_init__(self) -> None:
        if not 0 < self.start_frequency_hz < self.stop_frequency_hz:
            raise RadarError(
                f"radar hardware: need 0 < start_frequency_hz < stop_frequency_hz, got "
                f"{self.start_frequency_hz:g} and {self.stop_frequency_hz:g}"
            )
        for name in ("n_rx", "n_bins"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise RadarError(
                    f"radar hardware: {name} must be an integer >= 1, got {getattr(self, name)!r}"
                )
        if not self.frame_rate_hz > 0 or not self.range_offset_m >= 0:
            raise RadarError(
                f"radar hardware: need frame_rate_hz > 0 and range_offset_m >= 0, got "
                f"{self.frame_rate_hz!r} and {self.range_offset_m!r}"
            )

    @classmethod
    def random(cls, seed: int) -> RadarHardware:
        """Another radar drawn from ``seed``, for training across hardware.

        Frame rate 10, 12, 15 or 20 Hz; 1, 2 or 3 receivers; sweep bandwidth
        4-7 GHz from 57-58.5 GHz (range bins 2.1-3.7 cm apart); bin 0 at
        0.05-0.2 m; bins up to at least 2.8 m.
        """
        rng = np.random.default_rng([_check_seed(seed), _HARDWARE_STREAM])
        start = rng.uniform(57.0e9, 58.5e9)
        stop = start + rng.uniform(4.0e9, 7.0e9)
        offset = rng.uniform(0.05, 0.2)
        resolution = SPEED_OF_LIGHT_M_S / (2 * (stop - start))
        return cls(
            start_frequency_hz=start,
            stop_frequency_hz=stop,
            frame_rate_hz=float(rng.choice([10.0, 12.0, 15.0, 20.0])),
            n_rx=int(rng.integers(1, 4)),
            n_bins=math.ceil((2.8 - offset) / resolution) + 1,
            range_offset_m=offset,
            device="simulated, randomised hardware",
        )

    @property
    def wavelength_m(self) -> float:
        """Wavelength at the centre of the sweep, m (4.93 mm)."""
        return 2 * SPEED_OF_LIGHT_M_S / (self.start_frequency_hz + self.stop_frequency_hz)

    @property
    def range_resolution_m(self) -> float:
        """c / (2 * bandwidth), m (2.73 cm): the spacing of the range bins."""
        return SPEED_OF_LIGHT_M_S / (2 * (self.stop_frequency_hz - self.start_frequency_hz))

    @property
    def rx_spacing_m(self) -> float:
        """Half a wavelength, m."""
        return self.wavelength_m / 2

    def range_m(self) -> np.ndarray:
        """(n_bins,) range of each bin, m."""
        return self.config().range_m(self.n_bins)

    def config(self) -> RadarConfig:
        """The :class:`RadarConfig` its recordings carry."""
        return RadarConfig(
            frame_rate_hz=self.frame_rate_hz,
            range_resolution_m=self.range_resolution_m,
            range_offset_m=self.range_offset_m,
            wavelength_m=self.wavelength_m,
            rx_spacing_m=self.rx_spacing_m,
            device=self.device,
        )


PARTNER_SIDES = ("far", "near")
"""Where a bed partner lies: beyond the sleeper, or between the radar and the sleeper."""
MIN_PARTNER_GAP_M = 0.3
"""A partner lies at least this far from the sleeper, m."""
NEAR_SIDE_SLEEPER_M = 0.9
"""With the partner on the near side, the sleeper lies at least this far from the radar, m."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class NightParameters:
    """Everything that makes one simulated night; :meth:`random` draws it within the brackets.

    Amplitudes are in one unit: a reflectivity-1 scatterer at 1 m on boresight
    has amplitude 1 in the range profile. An interferer is absent when its
    range is None.

    Attributes:
        sleeper: the person the radar watches (:class:`~sensing.radar.night_script.Person`;
            chest at 0.4-1.5 m).
        partner: a second person in the bed, 0.3-0.6 m from the sleeper (further, as when the
            device stands on the sleeper's bedside, or nearer: see :meth:`random`), or None.
        snr_db: amplitude of a reflectivity-1 scatterer at 1 m over the thermal noise's
            standard deviation per frame, bin and receiver, dB [25, 40].
        clutter: static reflectors as (range_m, angle_deg, reflectivity): 4-12 pieces of
            furniture at 0.2-2.8 m, -60-60 degrees, reflectivity 0.05-1 (log-uniform), and a
            wall at 1.8-2.8 m with reflectivity 1-4.
        fan_range_m: range of a ceiling fan's hub, m [sleeper + 0.4 to 2.6], or None.
        fan_angle_deg: its azimuth, degrees [-30, 30].
        fan_rate_hz: rotations per second [1, 3].
        fan_blades: number of blades [3, 5]; each is two scatterers (mid-span and tip).
        fan_radius_m: line-of-sight swing of a blade tip around the hub, m [0.05, 0.3].
        fan_reflectivity: a blade tip's reflectivity [0.2, 0.8]; blades flash (x0.3-1) as
            they turn.
        curtain_range_m: range of a curtain, m [max(sleeper + 0.4, 1.2) to 2.7], or None.
        curtain_angle_deg: its azimuth, degrees [-45, 45].
        curtain_folds: folds, each a scatterer within 0.1 m and 15 degrees of it [3, 6].
        curtain_sway_mm: rms displacement of each fold, mm [3, 15]: an irregular sway, the sum
            of 12 sinusoids at random frequencies in 0.02-0.3 Hz (log-uniform), amplitude
            falling as 1/frequency (most of it below 0.1 Hz).
        curtain_reflectivity: reflectivity of a fold [0.2, 0.6].
        multipath_extra_m: extra range of the bounce path (via a wall or the ceiling) that
            images every body scatterer, m [0.3, 0.9], or None.
        multipath_gain: amplitude of an image re its body scatterer [0.1, 0.3].
        multipath_angle_deg: azimuth of the images re the body, degrees [-40, 40].
    """

    sleeper: Person
    partner: Person | None
    snr_db: float
    clutter: tuple[tuple[float, float, float], ...]
    fan_range_m: float | None
    fan_angle_deg: float
    fan_rate_hz: float
    fan_blades: int
    fan_radius_m: float
    fan_reflectivity: float
    curtain_range_m: float | None
    curtain_angle_deg: float
    curtain_folds: int
    curtain_sway_mm: float
    curtain_reflectivity: float
    multipath_extra_m: float | None
    multipath_gain: float
    multipath_angle_deg: float

    def __post_init__(self) -> None:
        if self.partner is not None and abs(self.partner.range_m - self.sleeper.range_m) < MIN_PARTNER_GAP_M:
            raise RadarError(
                f"night parameters: partner at {self.partner.range_m:.2f} m lies within "
                f"{MIN_PARTNER_GAP_M:g} m of the sleeper at {self.sleeper.range_m:.2f} m"
            )
        if not (self.fan_blades >= 1 and self.curtain_folds >= 1):
            raise RadarError(
                f"night parameters: fan_blades and curtain_folds must be >= 1, got "
                f"{self.fan_blades} and {self.curtain_folds}"
            )

    @classmethod
    def random(
        cls,
        seed: int,
        *,
        partner: bool | None = None,
        fan: bool | None = None,
        curtain: bool | None = None,
        multipath: bool | None = None,
        partner_side: str = "far",
    ) -> NightParameters:
        """A night drawn from ``seed``; each interferer present if True, absent if False.

        None draws its presence: a partner with probability 0.3, a fan 0.2, a
        curtain 0.2, multipath 0.5. Every value is drawn whatever the flags, so
        the flags change only which interferers are there, not the room.
        ``partner_side`` ``far`` puts the partner 0.3-0.6 m beyond the sleeper (the device on
        the sleeper's bedside); ``near`` puts them 0.3-0.6 m nearer, as on a night when the
        device stands on the partner's side, with the sleeper moved out to at least 0.9 m
        so that both lie within the radar's range (the partner stands up nearer still).
        """
        if partner_side not in PARTNER_SIDES:
            raise RadarError(f"partner side {partner_side!r}: expected one of {', '.join(PARTNER_SIDES)}")
        rng = np.random.default_rng([_check_seed(seed), 0])
        sleeper = Person.random(rng, range_m=rng.uniform(0.4, 1.5), bedside_range_m=rng.uniform(0.5, 0.9))
        gap_m, stand_m = rng.uniform(0.3, 0.6), rng.uniform(0.2, 0.5)
        if partner_side == "far":
            partner_range = min(sleeper.range_m + gap_m, 2.4)
            partner_person = Person.random(
                rng, range_m=partner_range, bedside_range_m=partner_range + stand_m
            )
        else:
            sleeper = dataclasses.replace(sleeper, range_m=max(sleeper.range_m, NEAR_SIDE_SLEEPER_M))
            partner_range = sleeper.range_m - gap_m
            partner_person = Person.random(
                rng, range_m=partner_range, bedside_range_m=max(partner_range - stand_m, 0.25)
            )
        furniture = [
            (rng.uniform(0.2, 2.8), rng.uniform(-60, 60), 0.05 ** rng.uniform(0, 1))
            for _ in range(rng.integers(4, 13))
        ]
        wall = (rng.uniform(1.8, 2.8), rng.uniform(-20, 20), rng.uniform(1, 4))
        fan_range = rng.uniform(sleeper.range_m + 0.4, 2.6)
        curtain_range = rng.uniform(max(sleeper.range_m + 0.4, 1.2), 2.7)
        multipath_extra = rng.uniform(0.3, 0.9)
        draws = rng.random(4)
        present = [
            draw < probability if flag is None else flag
            for flag, draw, probability in zip(
                (partner, fan, curtain, multipath), draws, (0.3, 0.2, 0.2, 0.5)
            )
        ]
        return cls(
            sleeper=sleeper,
            partner=partner_person if present[0] else None,
            snr_db=rng.uniform(25, 40),
            clutter=tuple(furniture + [wall]),
            fan_range_m=fan_range if present[1] else None,
            fan_angle_deg=rng.uniform(-30, 30),
            fan_rate_hz=rng.uniform(1, 3),
            fan_blades=int(rng.integers(3, 6)),
            fan_radius_m=rng.uniform(0.05, 0.3),
            fan_reflectivity=rng.uniform(0.2, 0.8),
            curtain_range_m=curtain_range if present[2] else None,
            curtain_angle_deg=rng.uniform(-45, 45),
            curtain_folds=int(rng.integers(3, 7)),
            curtain_sway_mm=rng.uniform(3, 15),
            curtain_reflectivity=rng.uniform(0.2, 0.6),
            multipath_extra_m=multipath_extra if present[3] else None,
            multipath_gain=rng.uniform(0.1, 0.3),
            multipath_angle_deg=rng.uniform(-40, 40),
        )

    def widened(self, seed: int) -> NightParameters:
        """This night with the sleeper's body and habits and the noise redrawn from wider brackets.

        For training a model that must meet rooms and people the default
        brackets leave out: chest azimuth -40-40 degrees, reflectivity 0.4-2
        (log-uniform), breathing 8-24 per minute and 1-10 mm deep (log-uniform),
        heartbeat 0.05-0.6 mm, posture shifts 0.4-4 per hour, limb movements
        0.5-6 per minute awake, twitches 0-12 per hour, sighs 0.1-2 per minute,
        awakenings 0.3-4 per hour, SNR 15-45 dB. Ranges and interferers are kept.
        """
        rng = np.random.default_rng([_check_seed(seed), _WIDE_STREAM])
        sleeper = dataclasses.replace(
            self.sleeper,
            angle_deg=rng.uniform(-40, 40),
            reflectivity=float(np.exp(rng.uniform(np.log(0.4), np.log(2.0)))),
            breathing_rate_bpm=rng.uniform(8, 24),
            breathing_depth_mm=float(np.exp(rng.uniform(np.log(1.0), np.log(10.0)))),
            heart_depth_mm=rng.uniform(0.05, 0.6),
            posture_shifts_per_h=rng.uniform(0.4, 4.0),
            limb_movements_per_min=rng.uniform(0.5, 6.0),
            twitches_per_h=rng.uniform(0, 12),
            sighs_per_min=rng.uniform(0.1, 2.0),
            awakenings_per_h=rng.uniform(0.3, 4.0),
        )
        return dataclasses.replace(self, sleeper=sleeper, snr_db=rng.uniform(15, 45))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every parameter."""
        values: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self)))
        return values


@dataclasses.dataclass(frozen=True, kw_only=True)
class NightTruth:
    """What really happened in a simulated night (written as ``NAME.truth.json``).

    Attributes:
        seed: the seed of the night.
        duration_s: length, s (whole 30 s epochs).
        states: the sleeper's state in each second, one of
            :data:`~sensing.radar.night_script.STATES`.
        breathing_rate_bpm: the sleeper's breathing rate in each second, breaths/min.
        chest_range_m: the sleeper's resting chest range in each second in bed, m; None out of bed.
        epoch_labels: majority label of each 30 s epoch (absent, awake, asleep); a tie goes to
            the label first in :data:`~sensing.radar.recording.EPOCH_LABELS`.
        epoch_breathing_rate_bpm: mean breathing rate over the asleep seconds of each asleep
            epoch, breaths/min; None for other epochs.
        sleeper_range_m, sleeper_angle_deg: the sleeper's chest in bed before any posture shift.
        partner_range_m, fan_range_m, curtain_range_m: the interferers' ranges, m, or None.
        multipath_range_m: range of the sleeper's chest image, m, or None.
        parameters: :meth:`NightParameters.to_dict` of the night.
        hardware: the :class:`RadarHardware` as a dict.
    """

    seed: int
    duration_s: float
    states: tuple[str, ...]
    breathing_rate_bpm: tuple[float, ...]
    chest_range_m: tuple[float | None, ...]
    epoch_labels: tuple[str, ...]
    epoch_breathing_rate_bpm: tuple[float | None, ...]
    sleeper_range_m: float
    sleeper_angle_deg: float
    partner_range_m: float | None
    fan_range_m: float | None
    curtain_range_m: float | None
    multipath_range_m: float | None
    parameters: dict[str, Any]
    hardware: dict[str, Any]

    def write(self, path: str | Path) -> Path:
        """Write the truth as JSON, atomically (:func:`sensing.files.write_atomically`)."""
        return write_atomically(path, json.dumps(dataclasses.asdict(self)))

    @classmethod
    def read(cls, path: str | Path) -> NightTruth:
        """Load a ``NAME.truth.json``; a missing or foreign file raises RadarError."""
        path = Path(path)
        if not path.is_file():
            raise RadarError(f"{path}: truth file not found")
        try:
            values = json.loads(path.read_text())
            return cls(**{field.name: _tuples(values[field.name]) for field in dataclasses.fields(cls)})
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
            raise RadarError(f"{path}: not a simulated night's truth ({error})") from None


def _tuples(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def truth_path(recording_path: str | Path) -> Path:
    """``NAME.truth.json`` beside ``NAME.npz``."""
    path = Path(recording_path)
    return path.with_name(path.stem + ".truth.json")


def range_response(position_bins: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """(positions, bins) float32 amplitude in ``bins`` of point scatterers at ``position_bins``.

    ``position_bins`` (positions,) holds fractional bin indices, ``bins``
    (bins,) integer bin indices. The response of a Hann-windowed FFT at an
    offset x = position - bin is sinc(x) / (1 - x^2): 1 at 0, 0.5 one bin away,
    zero at 2 bins, sidelobes below -31 dB; a smoothstep tapers it to zero
    between 5 and 7 bins away. sin(pi x) is computed once per position as
    (-1)^bin sin(pi position).
    """
    position_bins = np.asarray(position_bins, dtype=np.float64)
    bins = np.asarray(bins)
    x = (position_bins[:, None] - bins[None, :]).astype(np.float32)
    sign = (1 - 2 * (bins & 1)).astype(np.float32)
    numerator = (np.sin(np.pi * position_bins) / np.pi).astype(np.float32)[:, None] * sign
    denominator = x * (1 - x * x)
    singular = np.abs(denominator) < 1e-6
    response = numerator / np.where(singular, np.float32(1), denominator)
    if singular.any():
        response[singular] = np.where(np.abs(x[singular]) < 0.5, 1.0, 0.5)
    edge = np.flatnonzero(np.abs(x).max(axis=0) > _TAPER_START_BINS)
    u = np.clip((np.abs(x[:, edge]) - _TAPER_START_BINS) / (KERNEL_SPAN_BINS - _TAPER_START_BINS), 0, 1)
    response[:, edge] *= 1 - u * u * (3 - 2 * u)
    return response


def range_profiles(
    range_m: np.ndarray, angle_rad: np.ndarray, amplitude: np.ndarray, hardware: RadarHardware
) -> np.ndarray:
    """(frames, rx, bins) complex64 range profiles of point scatterers, without noise.

    Args:
        range_m, angle_rad, amplitude: (frames, scatterers) range (m), azimuth
            (rad, 0 on boresight) and amplitude (before spreading loss and
            antenna pattern) of each scatterer in each frame.
        hardware: the radar.
    """
    n_frames, n_scatterers = range_m.shape
    profiles = np.zeros((n_frames, hardware.n_rx, hardware.n_bins), np.complex64)
    range_m = np.maximum(range_m, 0.05)
    position = (range_m - hardware.range_offset_m) / hardware.range_resolution_m
    gain = amplitude * np.maximum(np.cos(angle_rad), 0.0) / range_m**2
    carrier = (gain * np.exp(4j * np.pi / hardware.wavelength_m * range_m)).astype(np.complex64)
    rx_step = np.exp(2j * np.pi * hardware.rx_spacing_m / hardware.wavelength_m * np.sin(angle_rad)).astype(
        np.complex64
    )
    weights = np.empty((n_frames, n_scatterers, hardware.n_rx), np.complex64)
    weights[..., 0] = carrier
    for rx in range(1, hardware.n_rx):
        weights[..., rx] = weights[..., rx - 1] * rx_step
    for k in range(n_scatterers):
        if not gain[:, k].any():
            continue
        low = max(0, math.ceil(position[:, k].min() - KERNEL_SPAN_BINS))
        high = min(hardware.n_bins, math.floor(position[:, k].max() + KERNEL_SPAN_BINS) + 1)
        if low >= high:
            continue
        kernel = range_response(position[:, k], np.arange(low, high))
        profiles[:, :, low:high] += weights[:, k, :, None] * kernel[:, None, :]
    return profiles


class _Scene:
    """A planned night: every scatterer's motion, and the frames they make."""

    def __init__(
        self, parameters: NightParameters, hardware: RadarHardware, *, seed: int, n_seconds: int
    ) -> None:
        self.parameters, self.hardware, self.seed = parameters, hardware, seed
        self.people: list[Script] = [
            plan_script(
                parameters.sleeper, n_seconds=n_seconds, rng=np.random.default_rng([seed, _SCRIPT_STREAM])
            )
        ]
        if parameters.partner is not None:
            self.people.append(
                plan_script(
                    parameters.partner,
                    n_seconds=n_seconds,
                    rng=np.random.default_rng([seed, _PARTNER_STREAM]),
                )
            )
        rng = np.random.default_rng([seed, _ROOM_STREAM])
        p = parameters
        self.fan_phase = rng.uniform(0, 2 * np.pi)
        folds = p.curtain_folds
        self.fold_range_m = (p.curtain_range_m or 0.0) + rng.uniform(-0.1, 0.1, folds)
        self.fold_angle_rad = np.radians(p.curtain_angle_deg + rng.uniform(-15, 15, folds))
        self.fold_reflectivity = p.curtain_reflectivity * rng.uniform(0.5, 1.5, folds)
        self.fold_frequency_hz = np.exp(rng.uniform(np.log(0.02), np.log(0.3), (folds, _CURTAIN_WAVES)))
        weights = 1 / self.fold_frequency_hz
        self.fold_amplitude_m = (
            p.curtain_sway_mm / 1000 * weights / np.sqrt((weights**2).sum(axis=1, keepdims=True) / 2)
        )
        self.fold_phase_rad = rng.uniform(0, 2 * np.pi, (folds, _CURTAIN_WAVES))
        clutter = np.array(p.clutter, dtype=np.float64).reshape(-1, 3)
        self.clutter = range_profiles(
            clutter[None, :, 0], np.radians(clutter[None, :, 1]), clutter[None, :, 2], hardware
        )
        self.noise_std = 10 ** (-p.snr_db / 20)

    def scatterers(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frames, scatterers) range (m), azimuth (rad) and amplitude of every moving scatterer."""
        p = self.parameters
        ranges, angles, amplitudes = [], [], []
        for script in self.people:
            range_m, angle_rad, reflectivity = script.body(t_s)
            ranges.append(range_m)
            angles.append(angle_rad)
            amplitudes.append(reflectivity)
            if p.multipath_extra_m is not None:
                ranges.append(range_m + p.multipath_extra_m)
                angles.append(angle_rad + np.radians(p.multipath_angle_deg))
                amplitudes.append(reflectivity * p.multipath_gain)
        if p.fan_range_m is not None:
            for blade in range(p.fan_blades):
                turn = 2 * np.pi * (p.fan_rate_hz * t_s + blade / p.fan_blades) + self.fan_phase
                for span in (0.5, 1.0):
                    ranges.append((p.fan_range_m + span * p.fan_radius_m * np.cos(turn))[:, None])
                    angles.append(
                        (np.radians(p.fan_angle_deg) + span * p.fan_radius_m * np.sin(turn) / p.fan_range_m)[
                            :, None
                        ]
                    )
                    flash = 0.3 + 0.7 * np.cos(turn) ** 2
                    amplitudes.append((p.fan_reflectivity * np.sqrt(span) * flash)[:, None])
        if p.curtain_range_m is not None:
            sway = (
                self.fold_amplitude_m[None]
                * np.sin(
                    2 * np.pi * self.fold_frequency_hz[None] * t_s[:, None, None] + self.fold_phase_rad[None]
                )
            ).sum(axis=2)
            ranges.append(self.fold_range_m + sway)
            angles.append(np.broadcast_to(self.fold_angle_rad, sway.shape))
            amplitudes.append(np.broadcast_to(self.fold_reflectivity, sway.shape))
        return (
            np.concatenate(ranges, axis=1),
            np.concatenate(angles, axis=1),
            np.concatenate(amplitudes, axis=1),
        )

    def frames(self, start: int, stop: int) -> np.ndarray:
        """(stop - start, rx, bins) complex64 frames [start, stop) of the night."""
        t_s = np.arange(start, stop) / self.hardware.frame_rate_hz
        profiles = range_profiles(*self.scatterers(t_s), self.hardware)
        profiles += self.clutter
        profiles += self._noise(start, stop)
        return profiles

    def _noise(self, start: int, stop: int) -> np.ndarray:
        """Complex Gaussian noise of std ``noise_std`` for frames [start, stop)."""
        shape = (NOISE_BLOCK_FRAMES, self.hardware.n_rx, self.hardware.n_bins, 2)
        blocks = []
        for block in range(start // NOISE_BLOCK_FRAMES, (stop - 1) // NOISE_BLOCK_FRAMES + 1):
            rng = np.random.default_rng([self.seed, _NOISE_STREAM, block])
            blocks.append(rng.standard_normal(shape, dtype=np.float32).view(np.complex64)[..., 0])
        first = start - start // NOISE_BLOCK_FRAMES * NOISE_BLOCK_FRAMES
        noise = np.concatenate(blocks)[first : first + stop - start]
        return noise * np.float32(self.noise_std / np.sqrt(2))


def simulate_night(
    out_path: str | Path,
    *,
    seed: int,
    hours: float,
    parameters: NightParameters | None = None,
    hardware: RadarHardware | None = None,
    chunk_s: float = 60.0,
    progress: Progress | None = None,
) -> tuple[Path, Path]:
    """Simulate one night; returns the paths of the recording and of its ``epochs.csv``.

    Writes ``out_path`` (``NAME.npz``), ``NAME.epochs.csv`` and
    ``NAME.truth.json`` (:class:`NightTruth`). Frames are made and written
    ``chunk_s`` seconds at a time, so memory does not grow with the night;
    any ``chunk_s`` gives the same frames, bit for bit. Each file is written
    atomically, and a failure (a full disk) removes the night's other files,
    so a night is all three files or none.

    Args:
        out_path: the recording to write.
        seed: integer >= 0; the same seed and parameters give identical frames, epochs and truth.
        hours: length, rounded to whole 30 s epochs (at least one).
        parameters: the night; None draws :meth:`NightParameters.random` from ``seed``.
        hardware: the radar; None is the default :class:`RadarHardware`.
        chunk_s: seconds of frames per write (> 0).
        progress: advanced once per chunk.
    """
    seed = _check_seed(seed)
    n_epochs = _check_length(hours, chunk_s)
    parameters = parameters or NightParameters.random(seed)
    hardware = hardware or RadarHardware()
    n_seconds = round(n_epochs * EPOCH_S)
    n_frames = round(n_seconds * hardware.frame_rate_hz)
    scene = _Scene(parameters, hardware, seed=seed, n_seconds=n_seconds)
    out_path = Path(out_path)
    chunk = max(1, round(chunk_s * hardware.frame_rate_hz))
    try:
        with RecordingWriter(
            out_path, hardware.config(), n_frames=n_frames, n_rx=hardware.n_rx, n_bins=hardware.n_bins
        ) as writer:
            for start in range(0, n_frames, chunk):
                writer.write(scene.frames(start, min(start + chunk, n_frames)))
                if progress is not None:
                    progress.advance()
        truth = _truth(scene, seed, n_epochs)
        truth.write(truth_path(out_path))
        return out_path, write_epochs(epochs_path(out_path), list(truth.epoch_labels))
    except BaseException:  # a night is its three files or none of them
        for path in (out_path, truth_path(out_path), epochs_path(out_path)):
            path.unlink(missing_ok=True)
        raise


def chunks_per_night(hours: float, *, chunk_s: float = 60.0, hardware: RadarHardware | None = None) -> int:
    """Number of chunks :func:`simulate_night` writes for a night of ``hours``."""
    hardware = hardware or RadarHardware()
    n_frames = round(_check_length(hours, chunk_s) * EPOCH_S * hardware.frame_rate_hz)
    return math.ceil(n_frames / max(1, round(chunk_s * hardware.frame_rate_hz)))


def night_seed(seed: int, night: int) -> int:
    """The seed of night ``night`` of a set drawn with ``seed``."""
    return int(np.random.SeedSequence([seed, night]).generate_state(1)[0])


def wide_night(
    seed: int,
    *,
    partner: bool | None = None,
    fan: bool | None = None,
    curtain: bool | None = None,
    multipath: bool | None = None,
    partner_side: str = "far",
) -> tuple[NightParameters, RadarHardware]:
    """A training night: :meth:`NightParameters.random` widened, on :meth:`RadarHardware.random`.

    Interferer flags and ``partner_side`` as :meth:`NightParameters.random` (None: drawn at its odds).
    """
    parameters = NightParameters.random(
        seed, partner=partner, fan=fan, curtain=curtain, multipath=multipath, partner_side=partner_side
    )
    return parameters.widened(seed), RadarHardware.random(seed)


def simulate_nights(
    out_dir: str | Path,
    *,
    nights: int,
    hours: float,
    seed: int,
    partner: bool | None = False,
    fan: bool | None = False,
    curtain: bool | None = False,
    multipath: bool | None = None,
    partner_side: str = "far",
    wide: bool = False,
    stream: TextIO | None = None,
) -> list[tuple[Path, NightTruth]]:
    """Simulate ``nights`` nights as ``out_dir/night_000.npz`` and so on, printing progress.

    Night i takes its own seed from (``seed``, i) (recorded in its truth) and
    draws :meth:`NightParameters.random` with the interferer flags (True:
    present, False: absent, None: drawn) and ``partner_side``. ``wide`` draws each night's body,
    habits and noise from wider brackets (:meth:`NightParameters.widened`)
    and its radar from :meth:`RadarHardware.random`, for training. Progress
    goes to ``stream`` (stderr by default). Returns each recording's path and truth.
    """
    if not (isinstance(nights, int) and nights >= 1):
        raise RadarError(f"nights must be an integer >= 1, got {nights!r}")
    seed = _check_seed(seed)
    out_dir = make_folder(out_dir)
    progress = Progress("simulate radar", nights * chunks_per_night(hours), stream=stream)
    results = []
    for night in range(nights):
        this_seed = night_seed(seed, night)
        flags: dict[str, Any] = {
            "partner": partner,
            "fan": fan,
            "curtain": curtain,
            "multipath": multipath,
            "partner_side": partner_side,
        }
        parameters, hardware = (
            wide_night(this_seed, **flags) if wide else (NightParameters.random(this_seed, **flags), None)
        )
        recording, _ = simulate_night(
            out_dir / f"night_{night:03d}.npz",
            seed=this_seed,
            hours=hours,
            parameters=parameters,
            hardware=hardware,
            progress=progress,
        )
        results.append((recording, NightTruth.read(truth_path(recording))))
    progress.finish(
        f"{nights} {'night' if nights == 1 else 'nights'} of {results[0][1].duration_s / 3600:g} h in {out_dir}"
    )
    return results


def _truth(scene: _Scene, seed: int, n_epochs: int) -> NightTruth:
    """The sleeper's per-second and per-epoch truth and the interferers' ranges."""
    script, p = scene.people[0], scene.parameters
    states = script.states
    labels = np.array([EPOCH_LABELS.index(STATE_LABELS[name]) for name in STATES])[states]
    rate_bpm = script.breathing_rate_hz * 60
    epoch_labels, epoch_rates = [], []
    for epoch in range(n_epochs):
        span = slice(round(epoch * EPOCH_S), round((epoch + 1) * EPOCH_S))
        label = EPOCH_LABELS[int(np.argmax(np.bincount(labels[span], minlength=len(EPOCH_LABELS))))]
        asleep = labels[span] == EPOCH_LABELS.index("asleep")
        epoch_labels.append(label)
        epoch_rates.append(round(float(rate_bpm[span][asleep].mean()), 3) if label == "asleep" else None)
    chest = script.chest_range_m()
    return NightTruth(
        seed=seed,
        duration_s=float(states.size),
        states=tuple(STATES[s] for s in states),
        breathing_rate_bpm=tuple(np.round(rate_bpm, 3).tolist()),
        chest_range_m=tuple(None if np.isnan(r) else round(float(r), 4) for r in chest),
        epoch_labels=tuple(epoch_labels),
        epoch_breathing_rate_bpm=tuple(epoch_rates),
        sleeper_range_m=p.sleeper.range_m,
        sleeper_angle_deg=p.sleeper.angle_deg,
        partner_range_m=None if p.partner is None else p.partner.range_m,
        fan_range_m=p.fan_range_m,
        curtain_range_m=p.curtain_range_m,
        multipath_range_m=(None if p.multipath_extra_m is None else p.sleeper.range_m + p.multipath_extra_m),
        parameters=p.to_dict(),
        hardware=dataclasses.asdict(scene.hardware),
    )


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RadarError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _check_length(hours: float, chunk_s: float) -> int:
    """Whole 30 s epochs in ``hours``; RadarError for a night under one epoch or a bad chunk."""
    if not (
        isinstance(hours, (int, float))
        and np.isfinite(hours)
        and EPOCH_S / 2 <= hours * 3600 <= MAX_HOURS * 3600
    ):
        raise RadarError(
            f"hours must be a number from {EPOCH_S / 3600:.4f} (one 30 s epoch) to {MAX_HOURS:g}, got {hours!r}"
        )
    if not (isinstance(chunk_s, (int, float)) and np.isfinite(chunk_s) and chunk_s > 0):
        raise RadarError(f"chunk_s must be a positive number of seconds, got {chunk_s!r}")
    return max(1, round(hours * 3600 / EPOCH_S))
