"""Synthetic coughs, snores and everyday negative sounds, made with numpy alone.

All audio is 1-D float32 of shape (n_samples,) at ``sr`` Hz (16000 by default)
with samples in [-1, 1]; the generators peak-normalise their output to 1.0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

SR = 16000
NEGATIVE_KINDS = ("noise", "hum", "knock", "beep", "babble", "breathing")
NOISE_COLORS = ("white", "pink", "brown")
_NOISE_SLOPES = {"white": 0.0, "pink": 0.5, "brown": 1.0}  # amplitude ~ f ** -slope
_VOWEL_FORMANTS_HZ = (
    (730, 1090, 2440),
    (270, 2290, 3010),
    (530, 1840, 2480),
    (570, 840, 2410),
    (300, 870, 2240),
)


@dataclass(frozen=True)
class Speaker:
    """Per-person sound parameters.

    voice_pitch_hz: fundamental of voiced sounds, Hz.
    formants_hz: vocal-tract resonance frequencies, Hz, ascending.
    snore_f0_hz: snore fundamental, Hz (30-90).
    loudness_db: level offset of this person's sounds, dB (-8 to 0).
    """

    voice_pitch_hz: float
    formants_hz: tuple[float, ...]
    snore_f0_hz: float
    loudness_db: float


def random_speaker(rng: np.random.Generator) -> Speaker:
    """Draw a speaker: pitch 90-260 Hz, three formants, snore fundamental 30-90 Hz."""
    formants = (rng.uniform(400, 900), rng.uniform(1100, 2200), rng.uniform(2400, 3600))
    return Speaker(
        voice_pitch_hz=float(rng.uniform(90, 260)),
        formants_hz=tuple(float(f) for f in formants),
        snore_f0_hz=float(rng.uniform(30, 90)),
        loudness_db=float(rng.uniform(-8, 0)),
    )


def n_samples(duration_s: float, sr: int = SR) -> int:
    """Number of samples in ``duration_s`` seconds at ``sr`` Hz."""
    return int(round(duration_s * sr))


def peak_normalise(audio: np.ndarray, *, level_dbfs: float = 0.0) -> np.ndarray:
    """Scale ``audio`` (n,) so its largest absolute sample sits at ``level_dbfs`` dBFS."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    gain = 10 ** (level_dbfs / 20) / peak if peak > 0 else 1.0
    return (audio * gain).astype(np.float32)


def place(event: np.ndarray, *, duration_s: float, start_s: float, sr: int = SR) -> np.ndarray:
    """Put ``event`` (m,) into silence of ``duration_s`` seconds at ``start_s`` seconds; overflow is cut."""
    out = np.zeros(n_samples(duration_s, sr), dtype=np.float32)
    start = min(n_samples(start_s, sr), out.size)
    segment = out[start : start + event.size]
    segment += event[: segment.size]
    return out


def mix(signal: np.ndarray, background: np.ndarray, *, snr_db: float) -> np.ndarray:
    """Add ``background`` to ``signal`` (both (n,)) scaled to a mean-power ratio of ``snr_db`` dB."""
    signal_power = np.mean(signal.astype(np.float64) ** 2)
    background_power = np.mean(background.astype(np.float64) ** 2)
    gain = np.sqrt(signal_power / (background_power * 10 ** (snr_db / 10))) if background_power > 0 else 0.0
    return (signal + gain * background).astype(np.float32)


def _filter(audio: np.ndarray, gain_of_hz: Callable[[np.ndarray], np.ndarray], sr: int) -> np.ndarray:
    """Zero-phase FFT filter: multiply the spectrum of ``audio`` (n,) by ``gain_of_hz(freqs_hz)``.

    The signal is zero-padded to a power-of-two length for speed; the output has shape (n,).
    """
    n_fft = 1 << max(audio.size - 1, 1).bit_length()
    freqs_hz = np.fft.rfftfreq(n_fft, 1 / sr)
    return np.fft.irfft(np.fft.rfft(audio, n=n_fft) * gain_of_hz(freqs_hz), n=n_fft)[: audio.size]


def _resonances(freqs_hz: np.ndarray, centres_hz: Iterable[float], bandwidth_hz: float) -> np.ndarray:
    """Sum of resonance peaks (Lorentzian magnitude, half-width ``bandwidth_hz``) at ``centres_hz``."""
    return np.asarray(sum(1 / (1 + ((freqs_hz - c) / bandwidth_hz) ** 2) for c in centres_hz))


def _lowpass(freqs_hz: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """Fourth-order low-pass magnitude response."""
    return 1 / (1 + (freqs_hz / cutoff_hz) ** 4)


def _bandpass(freqs_hz: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    """Fourth-order band-pass magnitude response between ``low_hz`` and ``high_hz``."""
    return np.asarray((1 - _lowpass(freqs_hz, low_hz)) * _lowpass(freqs_hz, high_hz))


def _pulse_train(f0_hz: np.ndarray, sr: int) -> np.ndarray:
    """Unit impulses, one per period of the per-sample fundamental track ``f0_hz`` (n,) in Hz."""
    cycles = np.floor(np.cumsum(f0_hz / sr))
    return np.diff(cycles, prepend=0.0).clip(0, 1)


def _wobble(rng: np.random.Generator, n: int, *, spread: float, n_knots: int) -> np.ndarray:
    """A smooth random factor track (n,) around 1.0 varying by up to +-``spread``."""
    knots = rng.uniform(-spread, spread, max(n_knots, 2))
    return 1 + np.interp(np.linspace(0, knots.size - 1, n), np.arange(knots.size), knots)


def _hann_envelope(n: int, *, skew: float = 1.0) -> np.ndarray:
    """Smooth rise and fall over n samples; ``skew`` < 1 peaks late, > 1 peaks early."""
    return np.sin(np.pi * np.linspace(0, 1, n) ** skew) ** 2


def _single_cough(rng: np.random.Generator, speaker: Speaker, sr: int) -> np.ndarray:
    """One cough, 0.25-0.6 s: resonant noise burst with a 5-15 ms attack, then a voiced tail."""
    n = n_samples(rng.uniform(0.25, 0.6), sr)
    t = np.arange(n) / sr
    attack_s = rng.uniform(0.005, 0.015)
    burst_envelope = np.minimum(t / attack_s, 1) * np.exp(
        -np.maximum(t - attack_s, 0) / rng.uniform(0.025, 0.06)
    )
    burst = (
        _filter(
            rng.standard_normal(n),
            lambda f: (0.3 + _resonances(f, speaker.formants_hz, 300)) * (1 - _lowpass(f, 150)),
            sr,
        )
        * burst_envelope
    )
    tail_start = n_samples(attack_s + rng.uniform(0.04, 0.1), sr)
    m = n - tail_start
    pitch_hz = speaker.voice_pitch_hz * np.linspace(1.1, 0.9, m)
    voiced = _filter(
        _pulse_train(pitch_hz, sr) + 0.05 * rng.standard_normal(m),
        lambda f: _resonances(f, speaker.formants_hz, 120),
        sr,
    )
    tail_t = np.arange(m) / sr
    tail = voiced * np.minimum(tail_t / 0.01, 1) * np.exp(-tail_t / (0.25 * m / sr))
    out = peak_normalise(burst)
    out[tail_start:] += rng.uniform(0.2, 0.5) * peak_normalise(tail)
    return out


def cough(
    rng: np.random.Generator, *, speaker: Speaker, n_coughs: int | None = None, sr: int = SR
) -> np.ndarray:
    """A bout of ``n_coughs`` coughs (random 1-3 if None), 0.15-0.4 s apart; (n,) float32."""
    if n_coughs is None:
        n_coughs = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    parts = []
    for i in range(n_coughs):
        if i:
            parts.append(np.zeros(n_samples(rng.uniform(0.15, 0.4), sr)))
        parts.append(_single_cough(rng, speaker, sr) * 0.8**i)
    return peak_normalise(np.concatenate(parts))


def snore(rng: np.random.Generator, *, speaker: Speaker, sr: int = SR) -> np.ndarray:
    """One snore, 0.8-1.6 s: jittered low-passed pulse train at the snore fundamental plus breath noise."""
    n = n_samples(rng.uniform(0.8, 1.6), sr)
    periods = int(n / sr * speaker.snore_f0_hz)
    f0_hz = (
        speaker.snore_f0_hz
        * _wobble(rng, n, spread=0.1, n_knots=5)
        * _wobble(rng, n, spread=0.03, n_knots=periods)
    )
    cutoff_hz = rng.uniform(300, 600)
    voiced = _filter(_pulse_train(f0_hz, sr), lambda f: _lowpass(f, cutoff_hz) * (1 - _lowpass(f, 25)), sr)
    breath = _filter(rng.standard_normal(n), lambda f: _bandpass(f, 200, 1200), sr)
    audio = peak_normalise(voiced) + rng.uniform(0.05, 0.2) * peak_normalise(breath)
    return peak_normalise(audio * _hann_envelope(n, skew=rng.uniform(0.7, 1.3)))


def noise(rng: np.random.Generator, *, duration_s: float, color: str = "white", sr: int = SR) -> np.ndarray:
    """``duration_s`` seconds of white, pink or brown noise (power ~ 1, 1/f, 1/f^2)."""
    slope = _NOISE_SLOPES[color]
    white = rng.standard_normal(n_samples(duration_s, sr))
    return peak_normalise(_filter(white, lambda f: np.maximum(f, 20.0) ** -slope, sr))


def hum(rng: np.random.Generator, *, duration_s: float, sr: int = SR) -> np.ndarray:
    """``duration_s`` seconds of 50 or 60 Hz mains hum with six decaying harmonics."""
    t = np.arange(n_samples(duration_s, sr)) / sr
    mains_hz = rng.choice([50, 60])
    harmonics = np.arange(1, 7)
    amplitudes = rng.uniform(0.2, 1.0, harmonics.size) / harmonics
    phases = rng.uniform(0, 2 * np.pi, harmonics.size)
    return peak_normalise(
        sum(a * np.sin(2 * np.pi * k * mains_hz * t + p) for k, a, p in zip(harmonics, amplitudes, phases))
    )


def _scatter(rng: np.random.Generator, n: int, events: list[np.ndarray]) -> np.ndarray:
    """Add each event at a random start inside n samples of silence, scaled by 0.4-1."""
    out = np.zeros(n)
    for event in events:
        start = int(rng.integers(0, max(1, n - event.size)))
        segment = out[start : start + event.size]
        segment += rng.uniform(0.4, 1.0) * event[: segment.size]
    return out


def _hit(rng: np.random.Generator, sr: int) -> np.ndarray:
    """A 0.15 s damped impact: a 1-3 ms click plus 2-4 decaying modes at 150-2500 Hz."""
    t = np.arange(n_samples(0.15, sr)) / sr
    click = rng.standard_normal(t.size) * np.exp(-t / rng.uniform(0.001, 0.003))
    modes = sum(
        np.sin(2 * np.pi * rng.uniform(150, 2500) * t) * np.exp(-t / rng.uniform(0.008, 0.04))
        for _ in range(rng.integers(2, 5))
    )
    return click + modes


def knock(rng: np.random.Generator, *, duration_s: float, sr: int = SR) -> np.ndarray:
    """``duration_s`` seconds holding 1-4 short damped impulsive hits (door knocks, taps)."""
    hits = [_hit(rng, sr) for _ in range(rng.integers(1, 5))]
    return peak_normalise(_scatter(rng, n_samples(duration_s, sr), hits))


def beep(rng: np.random.Generator, *, duration_s: float, sr: int = SR) -> np.ndarray:
    """``duration_s`` seconds holding 1-4 device beeps (0.08-0.4 s tones at 400-3000 Hz, 5 ms fades)."""
    tone_hz = rng.uniform(400, 3000) * np.array([1.0, rng.uniform(1.1, 1.6)])
    tones = []
    for _ in range(rng.integers(1, 5)):
        t = np.arange(n_samples(rng.uniform(0.08, 0.4), sr)) / sr
        fade = np.clip(np.minimum(t, t[-1] - t) / 0.005, 0, 1)
        tones.append(np.sin(2 * np.pi * rng.choice(tone_hz) * t) * fade)
    return peak_normalise(_scatter(rng, n_samples(duration_s, sr), tones))


def _sequence(
    rng: np.random.Generator,
    n: int,
    make_segment: Callable[[], np.ndarray],
    gap_s: tuple[float, float],
    sr: int,
) -> np.ndarray:
    """Fill n samples with segments from ``make_segment`` separated by random gaps (seconds)."""
    parts, filled = [np.zeros(n_samples(rng.uniform(0, gap_s[1]), sr))], 0
    while filled < n:
        parts += [make_segment(), np.zeros(n_samples(rng.uniform(*gap_s), sr))]
        filled = sum(p.size for p in parts)
    return np.concatenate(parts)[:n]


def babble(rng: np.random.Generator, *, duration_s: float, sr: int = SR) -> np.ndarray:
    """``duration_s`` seconds of speech-like syllables (vowel-formant pulse trains, pitch 100-250 Hz)."""
    base_pitch_hz = rng.uniform(100, 250)

    def syllable() -> np.ndarray:
        m = n_samples(rng.uniform(0.08, 0.3), sr)
        pitch_hz = np.clip(base_pitch_hz * rng.uniform(0.8, 1.25), 100, 250) * np.linspace(1.05, 0.95, m)
        formants_hz = _VOWEL_FORMANTS_HZ[rng.integers(len(_VOWEL_FORMANTS_HZ))]
        source = _pulse_train(pitch_hz, sr) + 0.03 * rng.standard_normal(m)
        return np.asarray(_filter(source, lambda f: _resonances(f, formants_hz, 80), sr) * _hann_envelope(m))

    return peak_normalise(_sequence(rng, n_samples(duration_s, sr), syllable, (0.02, 0.35), sr))


def breathing(rng: np.random.Generator, *, duration_s: float, sr: int = SR) -> np.ndarray:
    """``duration_s`` seconds of breaths: band-passed noise under slow 0.5-1.2 s envelopes."""

    def breath() -> np.ndarray:
        m = n_samples(rng.uniform(0.5, 1.2), sr)
        low_hz, high_hz = rng.uniform(200, 600), rng.uniform(1500, 4000)
        hiss = _filter(rng.standard_normal(m), lambda f: _bandpass(f, low_hz, high_hz), sr)
        return np.asarray(hiss * _hann_envelope(m, skew=rng.uniform(0.7, 1.3)) * rng.uniform(0.5, 1.0))

    return peak_normalise(_sequence(rng, n_samples(duration_s, sr), breath, (0.2, 0.8), sr))


def negative(rng: np.random.Generator, *, kind: str, duration_s: float, sr: int = SR) -> np.ndarray:
    """``duration_s`` seconds of the negative sound ``kind`` (one of NEGATIVE_KINDS); noise color is random."""
    if kind == "noise":
        return noise(rng, duration_s=duration_s, color=str(rng.choice(NOISE_COLORS)), sr=sr)
    generators = {"hum": hum, "knock": knock, "beep": beep, "babble": babble, "breathing": breathing}
    return generators[kind](rng, duration_s=duration_s, sr=sr)
