"""What a bedside microphone does to sound: rooms, noise floors and microphone responses.

Close-microphone training clips sound nothing like a cough 2 m away in a
bedroom. Three things change them, and each is drawn from here:

- the room: simulated impulse responses of shoebox bedrooms
  (pyroomacoustics' image-source method; RT60 0.2-0.8 s, the sound 0.5-3 m
  from the microphone), used as waveforms by the evaluation nights and, as
  per-band energy envelopes (:func:`room_kernels`), by the training
  augmentation, which works on cached mel power;
- the noise floor: white, pink and brown noise and mains hum
  (:func:`noise_floors`, mel power);
- the microphone: a band-limited response with a tilt (:func:`mic_gain_db`):
  cheap MEMS roll-off below 100-400 Hz, a top end from 3.4 kHz (telephone
  band) to 8 kHz, and a slope of up to 3 dB per octave either way.

Reverberation in mel power is an approximation: a window's power in each band
is convolved over time with the room's energy envelope in that band (the
reflections add in power on average), with no history before the window.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from sensing.audio.features import (
    FeatureSettings,
    mel_band_edges_hz,
    mel_filterbank,
    power_spectrum,
)
from sensing.errors import SensingError
from sensing.synthetic import sounds as synth

RT60_S = (0.2, 0.8)
"""Reverberation times of the simulated bedrooms, seconds."""

DISTANCE_M = (0.5, 3.0)
"""Distances from the sleeper to the microphone, metres."""


def room_impulse_response(rng: np.random.Generator, *, sr: int) -> tuple[np.ndarray, dict]:
    """One simulated bedroom's impulse response from a sleeper to the microphone.

    Returns:
        ``(rir, room)``: float32 impulse response at ``sr`` Hz starting at the
        direct sound, and what was drawn (``rt60_s``, ``distance_m``, ``dims_m``).
    """
    import pyroomacoustics as pra

    dims = np.array([rng.uniform(3.0, 5.0), rng.uniform(2.8, 4.5), rng.uniform(2.4, 2.9)])
    rt60 = float(rng.uniform(*RT60_S))
    distance = float(rng.uniform(*DISTANCE_M))
    margin = 0.25
    for _ in range(1000):
        mic = rng.uniform(margin, dims - margin)
        direction = rng.standard_normal(3)
        direction[2] *= 0.3  # mostly level with the bed
        source = mic + distance * direction / np.linalg.norm(direction)
        if np.all(source > margin) and np.all(source < dims - margin):
            break
    else:  # a room too small for the distance: put the source at the farthest fit
        source = np.clip(source, margin, dims - margin)
        distance = float(np.linalg.norm(source - mic))
    absorption, max_order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(dims, fs=sr, materials=pra.Material(absorption), max_order=max_order)
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    direct = max(0, int(np.argmax(np.abs(rir))) - 8)  # keep the direct sound's fractional-delay lead-in
    rir = rir[direct:]
    return (rir / np.max(np.abs(rir))).astype(np.float32), {
        "rt60_s": round(rt60, 3),
        "distance_m": round(distance, 3),
        "dims_m": [round(float(d), 2) for d in dims],
    }


def room_kernels(settings: FeatureSettings, *, count: int, seed: int, taps: int) -> np.ndarray:
    """Per-band energy envelopes of ``count`` simulated bedrooms, for reverberating mel power.

    Kernel ``k`` of band ``b`` is the mel power of frame ``k`` of the room's
    impulse response (frame 0 centred on the direct sound), divided by the
    total over frames averaged over bands: it keeps the room's colour and decay
    and leaves the overall level alone. Simulating a room takes up to 2 s, so
    the result is kept in :func:`cache_folder` and read back by later runs.

    Returns:
        float32 array of shape (count, taps, n_mels).
    """
    description = json.dumps(
        {
            "features": settings.to_dict(),
            "count": count,
            "seed": seed,
            "taps": taps,
            "rt60_s": RT60_S,
            "distance_m": DISTANCE_M,
            "format": 1,
        },
        sort_keys=True,
    )
    path = cache_folder() / "rooms" / f"{hashlib.sha256(description.encode()).hexdigest()[:24]}.npy"
    try:
        kernels = np.load(path)
        if kernels.shape == (count, taps, settings.n_mels):
            return kernels
    except (OSError, ValueError):
        pass
    kernels = _simulated_room_kernels(settings, count=count, seed=seed, taps=taps)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as handle:
            np.save(handle, kernels)
        os.replace(handle.name, path)
    except OSError:  # a read-only or full disk: simulate again next time
        pass
    return kernels


def cache_folder() -> Path:
    """Where computed banks are kept: ``$SENSING_CACHE_DIR``, else ``$XDG_CACHE_HOME/sensing``,
    else ``~/.cache/sensing``."""
    if os.environ.get("SENSING_CACHE_DIR"):
        return Path(os.environ["SENSING_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sensing"


def _simulated_room_kernels(settings: FeatureSettings, *, count: int, seed: int, taps: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 0x5200])
    kernels = np.zeros((count, taps, settings.n_mels), dtype=np.float32)
    for i in range(count):
        rir, _ = room_impulse_response(rng, sr=settings.sr)
        needed = settings.n_fft + (taps - 1) * settings.hop_length
        padded = np.zeros(needed, dtype=np.float32)
        body = rir[: needed - settings.n_fft // 2]
        padded[settings.n_fft // 2 : settings.n_fft // 2 + body.size] = body
        energy = power_spectrum(padded, settings) @ mel_filterbank(settings).T
        kernels[i] = energy / np.mean(np.sum(energy, axis=0))
    return kernels


NOISE_KINDS = ("white", "pink", "brown", "hum")


def noise_floor_audio(rng: np.random.Generator, *, kind: str, duration_s: float, sr: int) -> np.ndarray:
    """``duration_s`` seconds of a room's noise floor at unit RMS: coloured noise, or mains
    hum (50 or 60 Hz with harmonics) over pink noise 10-20 dB below it."""
    if kind not in NOISE_KINDS:
        raise SensingError(f"unknown noise floor {kind!r}; known: {', '.join(NOISE_KINDS)}")
    if kind == "hum":
        hum = synth.hum(rng, duration_s=duration_s, sr=sr)
        floor = synth.noise(rng, duration_s=duration_s, color="pink", sr=sr)
        audio = hum / _rms(hum) + floor / _rms(floor) * 10 ** (-rng.uniform(10, 20) / 20)
    else:
        audio = synth.noise(rng, duration_s=duration_s, color=kind, sr=sr)
    return (audio / _rms(audio)).astype(np.float32)


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) + 1e-12


def noise_floors(settings: FeatureSettings, *, count: int, seed: int, frames: int) -> np.ndarray:
    """Mel power of ``count`` noise floors (kinds in turn), each ``frames`` frames long.

    Returns:
        float32 array of shape (count, frames, n_mels).
    """
    rng = np.random.default_rng([seed, 0x4E01])
    samples = settings.n_fft + (frames - 1) * settings.hop_length
    floors = []
    for i in range(count):
        audio = noise_floor_audio(
            rng, kind=NOISE_KINDS[i % len(NOISE_KINDS)], duration_s=samples / settings.sr, sr=settings.sr
        )[:samples]
        floors.append(power_spectrum(audio, settings) @ mel_filterbank(settings).T)
    return np.stack(floors).astype(np.float32)


MIC_LOW_HZ = (100.0, 400.0)
"""Where a microphone's low end rolls off (12 dB per octave below it), Hz."""

MIC_HIGH_HZ = (3400.0, 8000.0)
"""Where its top end rolls off (24 dB per octave above it), Hz: 3.4 kHz is the telephone band."""

MIC_TILT_DB_PER_OCTAVE = (-3.0, 3.0)
"""Its overall slope around 1 kHz."""


def mel_band_centres_hz(settings: FeatureSettings) -> np.ndarray:
    """(n_mels,) float32 centre frequency of each mel band in Hz."""
    return mel_band_edges_hz(settings)[1:-1].astype(np.float32)


def octaves_from_1khz(freqs_hz: np.ndarray) -> np.ndarray:
    """log2(f / 1 kHz) of each frequency, float32."""
    return np.log2(np.asarray(freqs_hz, dtype=np.float64) / 1000.0).astype(np.float32)


def mic_gain_db(octaves, low_octave, high_octave, tilt_db_per_octave):
    """A microphone's gain in dB at frequencies ``octaves`` (:func:`octaves_from_1khz`):
    12 dB/octave below ``low_octave``, 24 dB/octave above ``high_octave``, and
    ``tilt_db_per_octave`` around 1 kHz. Written with arithmetic and ``abs`` only, so
    numpy arrays and TensorFlow tensors both work."""

    def above_zero(values):
        return (values + abs(values)) / 2

    return (
        tilt_db_per_octave * octaves
        - 12.0 * above_zero(low_octave - octaves)
        - 24.0 * above_zero(octaves - high_octave)
    )


@dataclasses.dataclass(frozen=True)
class MicResponse:
    """One microphone's response (see :func:`mic_gain_db`): roll-off points as log2(f / 1 kHz)
    and a tilt in dB per octave."""

    low_octave: float
    high_octave: float
    tilt_db_per_octave: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> MicResponse:
        """A random microphone within :data:`MIC_LOW_HZ`, :data:`MIC_HIGH_HZ` and
        :data:`MIC_TILT_DB_PER_OCTAVE`."""
        low, high = (float(rng.uniform(*np.log2(np.array(r) / 1000.0))) for r in (MIC_LOW_HZ, MIC_HIGH_HZ))
        return cls(low, high, float(rng.uniform(*MIC_TILT_DB_PER_OCTAVE)))

    def apply(self, audio: np.ndarray, *, sr: int) -> np.ndarray:
        """``audio`` (1-D, at ``sr`` Hz) through this response, in the frequency domain; float32."""
        spectrum = np.fft.rfft(audio.astype(np.float64))
        freqs = np.maximum(np.fft.rfftfreq(audio.size, 1 / sr), 1.0)
        gain = 10 ** (
            mic_gain_db(np.log2(freqs / 1000.0), self.low_octave, self.high_octave, self.tilt_db_per_octave)
            / 20
        )
        return np.fft.irfft(spectrum * gain, n=audio.size).astype(np.float32)
