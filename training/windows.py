"""Which stretch of each clip becomes a training window, and how it is augmented.

Clips shorter than a model window are centred in zeros. In a longer positive
clip (an 8 s recording with three coughs) only windows that hold the event are
used: windows whose loudest frame, away from the window's edges, is within
``event_margin_db`` of the clip's loudest frame. Negative clips use every
window. Each epoch draws fresh windows at random positions, mixes negative
audio into them (background, overlapping sounds) at a random level, and masks
a random band and time span of some windows' log-mel (SpecAugment).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sensing.features import (FeatureSettings, frame_count, frame_energy_db, log_mel,
                              pad_to_window, window_features)

CANDIDATE_STEP_FRAMES = 8
"""Frames between candidate window positions (80 ms at the default hop)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class AugmentSettings:
    """Waveform augmentation for training windows.

    Attributes:
        mix_probability: chance that a window gets a random negative mixed in.
        mix_snr_db: range of the window-to-mix energy ratio in dB.
        gain_db: range of a random gain applied to the window in dB.
        event_margin_db: a positive window's loudest frame must be at most
            this far below the clip's loudest frame.
        edge_frames: frames at each window edge ignored when finding its loudest frame.
        mask_probability: chance that a window's log-mel gets one band mask and
            one time mask (SpecAugment), filled with the window's mean.
        max_masked_bands: widest band mask, in mel bands.
        max_masked_frames: longest time mask, in frames.
    """

    mix_probability: float = 0.8
    mix_snr_db: tuple[float, float] = (0.0, 25.0)
    gain_db: tuple[float, float] = (-18.0, 6.0)
    event_margin_db: float = 6.0
    edge_frames: int = 12
    mask_probability: float = 0.5
    max_masked_bands: int = 6
    max_masked_frames: int = 12


def candidate_starts(samples: np.ndarray, *, is_negative: bool, settings: FeatureSettings,
                     augment: AugmentSettings) -> np.ndarray:
    """Sample offsets where a training window may start in a (padded) clip.

    Returns an int64 array, never empty.
    """
    n_frames = frame_count(samples.size, settings)
    last = n_frames - settings.window_frames
    starts = np.arange(0, last + 1, CANDIDATE_STEP_FRAMES)
    if starts[-1] != last:
        starts = np.append(starts, last)
    if is_negative or starts.size == 1:
        return starts * settings.hop_length
    frame_db = frame_energy_db(samples, settings)
    inner = slice(augment.edge_frames, settings.window_frames - augment.edge_frames)
    window_peak = np.array([frame_db[s:s + settings.window_frames][inner].max() for s in starts])
    keep = window_peak >= frame_db.max() - augment.event_margin_db
    loudest_frame = int(np.argmax(frame_db))
    centred = np.argmin(np.abs(starts + settings.window_frames // 2 - loudest_frame))
    keep[centred] = True
    return starts[keep] * settings.hop_length


@dataclasses.dataclass
class TrainingClip:
    """A clip prepared for window sampling: padded audio, class index, candidate starts."""

    samples: np.ndarray
    class_index: int
    starts: np.ndarray


def prepare_clips(samples_list: list[np.ndarray], class_indices: list[int], *,
                  negative_index: int | None, settings: FeatureSettings,
                  augment: AugmentSettings) -> list[TrainingClip]:
    """Pad each clip to at least one window and find where its training windows may start.

    Args:
        samples_list: 1-D float32 clips at ``settings.sr`` Hz.
        class_indices: each clip's class index.
        negative_index: class index of the negative label (every window usable), or None.
    """
    prepared = []
    for samples, class_index in zip(samples_list, class_indices):
        padded = pad_to_window(samples, settings)
        starts = candidate_starts(padded, is_negative=class_index == negative_index,
                                  settings=settings, augment=augment)
        prepared.append(TrainingClip(padded, class_index, starts))
    return prepared


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)) + 1e-8)


def augmented_window(clip: TrainingClip, *, rng: np.random.Generator, mix_pool: list[TrainingClip],
                     settings: FeatureSettings, augment: AugmentSettings) -> np.ndarray:
    """One randomly placed, mixed and scaled training window: (window_samples,) float32."""
    start = int(rng.choice(clip.starts))
    window = clip.samples[start:start + settings.window_samples].astype(np.float32)
    if mix_pool and rng.random() < augment.mix_probability:
        other = mix_pool[rng.integers(len(mix_pool))]
        other_start = int(rng.choice(other.starts))
        mix = other.samples[other_start:other_start + settings.window_samples]
        snr_db = rng.uniform(*augment.mix_snr_db)
        window = window + mix * (_rms(window) / _rms(mix)) * 10 ** (-snr_db / 20)
    window = window * 10 ** (rng.uniform(*augment.gain_db) / 20)
    peak = np.max(np.abs(window))
    if peak > 1.0:
        window = window / peak
    return window.astype(np.float32)


def masked_features(window: np.ndarray, *, rng: np.random.Generator, settings: FeatureSettings,
                    augment: AugmentSettings) -> np.ndarray:
    """(window_frames, n_mels, 3) model input for one window of audio, maybe with
    a band and a time span of its log-mel replaced by the window's mean before
    the deltas are taken."""
    mel = log_mel(window, settings)
    if rng.random() < augment.mask_probability:
        mean = mel.mean()
        width = rng.integers(1, augment.max_masked_bands + 1)
        first = rng.integers(0, settings.n_mels - width + 1)
        mel[:, first:first + width] = mean
        length = rng.integers(1, augment.max_masked_frames + 1)
        start = rng.integers(0, settings.window_frames - length + 1)
        mel[start:start + length] = mean
    return window_features(mel, settings)
