"""Training-window augmentation in TensorFlow, in the domain a run's clips are stored in.

A ``mel`` run stores log-mel rows, so its windows are augmented as mel power,
in the order a bedside recording happens: the sound moves in time (a window
holds only part of it), a simulated bedroom reverberates
the sound (per-band energy envelopes, :mod:`training.audio.bedside`), a negative
window is added (independent sounds add in power on average), a gain scales
it, a noise floor is added under it, and a microphone response colours it.
The result goes back to the runtime's scaled log and its level normalisation
(:func:`sensing.audio.features.level_normalised`) before SpecAugment masks and the
deltas. A ``leaf`` run
stores audio, so its windows are mixed and scaled as waveforms (and brought
back under full scale, as a recording would be); its model masks its own
features. Every random draw is a stateless function of a seed, so a window's
augmentation depends only on ``(run seed, epoch, position in the epoch)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sensing.audio.features import FeatureSettings
from training.audio.bedside import (
    MIC_HIGH_HZ,
    MIC_LOW_HZ,
    MIC_TILT_DB_PER_OCTAVE,
    mel_band_centres_hz,
    mic_gain_db,
    noise_floors,
    octaves_from_1khz,
    room_kernels,
)
from training.audio.windows import AugmentSettings
from training.leaf.deltas import with_deltas
from training.stateless import seeds
from training.tf_setup import tf

NOISE_FLOOR_FRAMES = 400
"""Frames of each noise floor in the bank (4 s at the default hop)."""


@dataclasses.dataclass(frozen=True)
class BedsideBanks:
    """What :func:`bedside_power` draws from, as float32 arrays.

    Attributes:
        rooms: (rooms, taps, n_mels) per-band energy envelopes of simulated bedrooms.
        floors: (floors, frames, n_mels) mel power of noise floors.
        octaves: (n_mels,) each band's centre as log2(f / 1 kHz).
    """

    rooms: np.ndarray
    floors: np.ndarray
    octaves: np.ndarray

    @classmethod
    def build(cls, settings: FeatureSettings, augment: AugmentSettings, *, seed: int) -> BedsideBanks:
        """The banks of a run (the rooms take seconds to simulate; they are kept on disk)."""
        return cls(
            rooms=room_kernels(settings, count=augment.rooms, seed=seed, taps=augment.room_taps),
            floors=noise_floors(
                settings,
                count=augment.noise_floors,
                seed=seed,
                frames=max(NOISE_FLOOR_FRAMES, settings.window_frames),
            ),
            octaves=octaves_from_1khz(mel_band_centres_hz(settings)),
        )


def draw_window(
    values: tf.Tensor, starts: tf.Tensor, seed: tf.Tensor, *, stored: str, settings: FeatureSettings
) -> tf.Tensor:
    """A window of a stored clip at one of ``starts`` (first frames), chosen by ``seed``.

    Returns (window_frames, n_mels) log-mel rows, or (window_samples,) audio.
    """
    index = tf.random.stateless_uniform([], seed, 0, tf.size(starts, out_type=tf.int64), dtype=tf.int64)
    start = starts[index]
    if stored == "log_mel":
        return tf.reshape(
            values[start : start + settings.window_frames], [settings.window_frames, settings.n_mels]
        )
    first = start * settings.hop_length
    return tf.reshape(values[first : first + settings.window_samples], [settings.window_samples])


def to_power(log_mel: tf.Tensor, settings: FeatureSettings) -> tf.Tensor:
    """Mel power from the runtime's scaled log-mel (:func:`sensing.audio.features.log_mel`)."""
    return tf.maximum(tf.exp(log_mel * settings.log_scale + settings.log_offset) - settings.log_floor, 0.0)


def from_power(power: tf.Tensor, settings: FeatureSettings) -> tf.Tensor:
    """The runtime's scaled log-mel of mel power."""
    return (tf.math.log(power + settings.log_floor) - settings.log_offset) / settings.log_scale


def mix_and_scale(
    window: tf.Tensor, mix: tf.Tensor | None, seed: tf.Tensor, *, exponent: float, augment: AugmentSettings
) -> tf.Tensor:
    """Maybe add ``mix`` at a random window-to-mix energy ratio, then apply a random gain.

    Args:
        window, mix: values of the same shape that add linearly: audio samples
            (``exponent`` 1) or power (``exponent`` 2); ``mix`` None for no mixing.
        exponent: how the values scale with amplitude.
    """
    mix_seed, snr_seed, gain_seed = seeds(seed, 3)
    if mix is not None:
        energy = tf.reduce_mean(window ** (2.0 / exponent)) + 1e-16
        mix_energy = tf.reduce_mean(mix ** (2.0 / exponent)) + 1e-16
        snr_db = tf.random.stateless_uniform([], snr_seed, *augment.mix_snr_db)
        factor = (energy / mix_energy) ** (exponent / 2.0) * 10.0 ** (-snr_db * exponent / 20.0)
        mixing = tf.random.stateless_uniform([], mix_seed) < augment.mix_probability
        window = tf.where(mixing, window + mix * factor, window)
    gain_db = tf.random.stateless_uniform([], gain_seed, *augment.gain_db)
    return window * 10.0 ** (gain_db * exponent / 20.0)


def _chosen(seed: tf.Tensor, probability: float) -> tf.Tensor:
    return tf.random.stateless_uniform([], seed) < probability


def _pick(bank: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    return bank[tf.random.stateless_uniform([], seed, 0, tf.shape(bank)[0], dtype=tf.int32)]


def shifted(power: tf.Tensor, seed: tf.Tensor, max_frames: int) -> tf.Tensor:
    """(frames, bands) mel power moved by a random -``max_frames`` to ``max_frames`` frames, silence
    (zero power) where nothing moved in: an event that only partly falls in a window."""
    frames = power.shape[0]
    offset = tf.random.stateless_uniform([], seed, -max_frames, max_frames + 1, dtype=tf.int32)
    source = tf.range(frames) - offset
    inside = (source >= 0) & (source < frames)
    return tf.where(inside[:, None], tf.gather(power, tf.clip_by_value(source, 0, frames - 1)), 0.0)


def reverberated(power: tf.Tensor, rooms: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """(frames, bands) mel power convolved over time, band by band, with a random room's
    (taps, bands) energy envelope, starting from silence before the window."""
    kernel = _pick(rooms, seed)
    taps = kernel.shape[0]
    padded = tf.pad(power, [[taps - 1, 0], [0, 0]])[None, :, None, :]
    filters = tf.reverse(kernel, axis=[0])[:, None, :, None]  # the convolution is a correlation
    return tf.nn.depthwise_conv2d(padded, filters, strides=[1, 1, 1, 1], padding="VALID")[0, :, 0, :]


def over_noise_floor(
    power: tf.Tensor, floors: tf.Tensor, seed: tf.Tensor, *, augment: AugmentSettings
) -> tf.Tensor:
    """(frames, bands) mel power plus a random stretch of a random noise floor, at a random
    window-to-floor energy ratio in ``augment.noise_floor_snr_db``."""
    floor_seed, start_seed, snr_seed = seeds(seed, 3)
    floor = _pick(floors, floor_seed)
    frames = power.shape[0]
    start = tf.random.stateless_uniform([], start_seed, 0, tf.shape(floor)[0] - frames + 1, dtype=tf.int32)
    stretch = floor[start : start + frames]
    snr_db = tf.random.stateless_uniform([], snr_seed, *augment.noise_floor_snr_db)
    factor = (tf.reduce_mean(power) + 1e-30) / (tf.reduce_mean(stretch) + 1e-30) * 10.0 ** (-snr_db / 10.0)
    return power + stretch * factor


def through_mic(power: tf.Tensor, octaves: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """(frames, bands) mel power through a random microphone response (:func:`training.audio.bedside.mic_gain_db`)."""
    low_seed, high_seed, tilt_seed = seeds(seed, 3)
    low = tf.random.stateless_uniform([], low_seed, *np.log2(np.array(MIC_LOW_HZ) / 1000.0))
    high = tf.random.stateless_uniform([], high_seed, *np.log2(np.array(MIC_HIGH_HZ) / 1000.0))
    tilt = tf.random.stateless_uniform([], tilt_seed, *MIC_TILT_DB_PER_OCTAVE)
    return power * 10.0 ** (mic_gain_db(octaves, low, high, tilt) / 10.0)


def bedside_power(
    power: tf.Tensor,
    mix: tf.Tensor | None,
    seed: tf.Tensor,
    *,
    negative: tf.Tensor,
    banks: BedsideBanks,
    augment: AugmentSettings,
) -> tf.Tensor:
    """A (frames, bands) mel-power window as a bedside microphone would hear it: maybe
    shifted in time, maybe reverberated, maybe mixed with ``mix`` (a negative window's power), scaled, maybe over a
    noise floor, maybe through a microphone response (probabilities in ``augment``). A
    ``negative`` window (a scalar bool tensor) is, with ``augment.floor_alone_probability``,
    replaced by the noise floor alone: most of a night is nothing else."""
    (
        reverb_seed,
        reverb_chosen,
        mix_seed,
        floor_seed,
        floor_chosen,
        mic_seed,
        mic_chosen,
        alone_chosen,
        shift_seed,
        shift_chosen,
    ) = seeds(seed, 10)
    power = tf.where(
        _chosen(shift_chosen, augment.shift_probability),
        shifted(power, shift_seed, augment.max_shift_frames),
        power,
    )
    power = tf.where(
        _chosen(reverb_chosen, augment.reverb_probability),
        reverberated(power, tf.constant(banks.rooms), reverb_seed),
        power,
    )
    power = mix_and_scale(power, mix, mix_seed, exponent=2.0, augment=augment)
    floored = over_noise_floor(power, tf.constant(banks.floors), floor_seed, augment=augment)
    floor_only = floored - power
    power = tf.where(_chosen(floor_chosen, augment.noise_floor_probability), floored, power)
    power = tf.where(negative & _chosen(alone_chosen, augment.floor_alone_probability), floor_only, power)
    return tf.where(
        _chosen(mic_chosen, augment.mic_probability),
        through_mic(power, tf.constant(banks.octaves), mic_seed),
        power,
    )


def level_normalised(log_mel: tf.Tensor, settings: FeatureSettings) -> tf.Tensor:
    """:func:`sensing.audio.features.level_normalised` of a (frames, bands) window, in TensorFlow."""
    if settings.level == "absolute":
        return log_mel
    span = settings.normalised_span
    peak = tf.maximum(tf.reduce_max(log_mel), settings.scaled_peak_floor)
    return tf.maximum(log_mel - peak, -span) + span / 2


def under_full_scale(audio: tf.Tensor) -> tf.Tensor:
    """Audio scaled down to a peak of 1 when it exceeds it."""
    return audio / tf.maximum(tf.reduce_max(tf.abs(audio)), 1.0)


def _span(seed: tf.Tensor, length: int, longest: int) -> tf.Tensor:
    """(length,) booleans: one span of 1 to ``longest`` positions."""
    width_seed, start_seed = seeds(seed, 2)
    width = tf.random.stateless_uniform([], width_seed, 1, longest + 1, dtype=tf.int32)
    start = tf.random.stateless_uniform([], start_seed, 0, length - width + 1, dtype=tf.int32)
    positions = tf.range(length)
    return (positions >= start) & (positions < start + width)


def masked(log_mel: tf.Tensor, seed: tf.Tensor, *, augment: AugmentSettings) -> tf.Tensor:
    """With ``augment.mask_probability``, one band span and one time span of a
    (frames, bands) window replaced by the window's mean (SpecAugment)."""
    chosen_seed, time_seed, band_seed = seeds(seed, 3)
    frames, bands = log_mel.shape
    mask = (
        _span(time_seed, frames, augment.max_masked_frames)[:, None]
        | _span(band_seed, bands, augment.max_masked_bands)[None, :]
    )
    chosen = tf.random.stateless_uniform([], chosen_seed) < augment.mask_probability
    return tf.where(mask & chosen, tf.reduce_mean(log_mel), log_mel)


def augmented_input(
    window: tf.Tensor,
    mix: tf.Tensor | None,
    seed: tf.Tensor,
    *,
    negative: tf.Tensor,
    stored: str,
    settings: FeatureSettings,
    augment: AugmentSettings,
    banks: BedsideBanks | None,
) -> tf.Tensor:
    """The model input for one training window: (window_frames, n_mels, 3) log-mel with
    deltas for stored log-mel (``banks`` needed), (window_samples,) audio for stored audio.
    ``negative``: scalar bool tensor, whether the window is of the negative label."""
    mix_seed, mask_seed = seeds(seed, 2)
    if stored == "audio":
        return under_full_scale(mix_and_scale(window, mix, mix_seed, exponent=1.0, augment=augment))
    if banks is None:
        raise ValueError("stored log-mel windows need the bedside banks (rooms, noise floors)")
    power = bedside_power(
        to_power(window, settings),
        None if mix is None else to_power(mix, settings),
        mix_seed,
        negative=negative,
        banks=banks,
        augment=augment,
    )
    log_mel = masked(level_normalised(from_power(power, settings), settings), mask_seed, augment=augment)
    return with_deltas(log_mel[None], settings.delta_width)[0]
