"""Training-window augmentation in TensorFlow, in the domain a run's clips are stored in.

A ``mel`` run stores log-mel rows, so its windows are augmented as mel power:
a negative window is added in power (independent sounds add in power on
average), a gain multiplies the power, and the result goes back to the
runtime's scaled log before SpecAugment masks and the deltas. A ``leaf`` run
stores audio, so its windows are mixed and scaled as waveforms (and brought
back under full scale, as a recording would be); its model masks its own
features. Every random draw is a stateless function of a seed, so a window's
augmentation depends only on ``(run seed, epoch, position in the epoch)``.
"""

from __future__ import annotations

from sensing.features import FeatureSettings
from training.leaf.deltas import with_deltas
from training.tf_setup import tf
from training.windows import AugmentSettings


def seeds(seed: tf.Tensor, count: int) -> list[tf.Tensor]:
    """``count`` independent stateless seeds, each (2,) int64, from one."""
    return list(tf.unstack(tf.random.experimental.stateless_split(seed, count)))


def draw_window(values: tf.Tensor, starts: tf.Tensor, seed: tf.Tensor, *, stored: str,
                settings: FeatureSettings) -> tf.Tensor:
    """A window of a stored clip at one of ``starts`` (first frames), chosen by ``seed``.

    Returns (window_frames, n_mels) log-mel rows, or (window_samples,) audio.
    """
    index = tf.random.stateless_uniform([], seed, 0, tf.size(starts, out_type=tf.int64), dtype=tf.int64)
    start = starts[index]
    if stored == "log_mel":
        return tf.reshape(values[start:start + settings.window_frames],
                          [settings.window_frames, settings.n_mels])
    first = start * settings.hop_length
    return tf.reshape(values[first:first + settings.window_samples], [settings.window_samples])


def to_power(log_mel: tf.Tensor, settings: FeatureSettings) -> tf.Tensor:
    """Mel power from the runtime's scaled log-mel (:func:`sensing.features.log_mel`)."""
    return tf.maximum(tf.exp(log_mel * settings.log_scale + settings.log_offset) - settings.log_floor, 0.0)


def from_power(power: tf.Tensor, settings: FeatureSettings) -> tf.Tensor:
    """The runtime's scaled log-mel of mel power."""
    return (tf.math.log(power + settings.log_floor) - settings.log_offset) / settings.log_scale


def mix_and_scale(window: tf.Tensor, mix: tf.Tensor | None, seed: tf.Tensor, *, exponent: float,
                  augment: AugmentSettings) -> tf.Tensor:
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
    mask = (_span(time_seed, frames, augment.max_masked_frames)[:, None]
            | _span(band_seed, bands, augment.max_masked_bands)[None, :])
    chosen = tf.random.stateless_uniform([], chosen_seed) < augment.mask_probability
    return tf.where(mask & chosen, tf.reduce_mean(log_mel), log_mel)


def augmented_input(window: tf.Tensor, mix: tf.Tensor | None, seed: tf.Tensor, *, stored: str,
                    settings: FeatureSettings, augment: AugmentSettings) -> tf.Tensor:
    """The model input for one training window: (window_frames, n_mels, 3) log-mel with
    deltas for stored log-mel, (window_samples,) audio for stored audio."""
    mix_seed, mask_seed = seeds(seed, 2)
    if stored == "audio":
        return under_full_scale(mix_and_scale(window, mix, mix_seed, exponent=1.0, augment=augment))
    power = mix_and_scale(to_power(window, settings), None if mix is None else to_power(mix, settings),
                          mix_seed, exponent=2.0, augment=augment)
    log_mel = masked(from_power(power, settings), mask_seed, augment=augment)
    return with_deltas(log_mel[None], settings.delta_width)[0]
