"""Complex Gabor filterbank with learnable centre frequencies and bandwidths, initialised from mel.

Filter ``n`` has impulse response, for ``t`` in ``[-(taps // 2), taps // 2]`` samples,

    phi_n(t) = exp(i * centre_n * t) * exp(-t**2 / (2 * width_n**2)) / (sqrt(2 pi) * width_n)

with ``centre_n`` in radians per sample (0 to pi, i.e. 0 Hz to sr / 2) and
``width_n`` the Gaussian envelope's standard deviation in samples. Its
frequency response is a Gaussian of standard deviation ``1 / width_n``
radians per sample around ``centre_n`` with peak gain 1. The layer convolves
audio with the real and imaginary parts (one real convolution with
``2 * n_filters`` kernels) and returns the squared modulus.
"""

from __future__ import annotations

import math

import numpy as np

from sensing.audio.features import FeatureSettings, mel_filterbank
from training.leaf.constraints import Between
from training.leaf.settings import LeafSettings
from training.tf_setup import keras, tf


def width_limits(taps: int) -> tuple[float, float]:
    """(smallest, largest) envelope width in samples, as in LEAF.

    The amplitude response's full width at half maximum, ``2 sqrt(2 ln 2) / width``
    radians per sample, then spans from ``sr / 4`` down to ``sr / taps`` Hz.
    """
    scale = math.sqrt(2 * math.log(2)) / math.pi
    return 4 * scale, taps * scale


def gabor_parameters_from_mel(settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """Centres (rad/sample) and widths (samples) of Gabor filters that mimic the mel filters.

    Each centre is the peak of a mel filter of :func:`sensing.audio.features.mel_filterbank`;
    each width makes the filter's amplitude response as wide at half maximum as
    the mel filter's square root is (counted in FFT bins).

    Returns:
        ``(centres, widths)``, each (n_mels,) float32.
    """
    amplitude = np.sqrt(mel_filterbank(settings).astype(np.float64))
    peak_bins = np.argmax(amplitude, axis=1)
    half_width_bins = np.sum(amplitude >= amplitude.max(axis=1, keepdims=True) / 2, axis=1)
    centres = peak_bins * 2 * np.pi / settings.n_fft
    widths = math.sqrt(2 * math.log(2)) * settings.n_fft / (np.pi * half_width_bins)
    return centres.astype(np.float32), widths.astype(np.float32)


def power_responses(centres: np.ndarray, widths: np.ndarray, taps: int, omegas: np.ndarray) -> np.ndarray:
    """(len(omegas), n_filters) float64 ``|Phi_n(omega)|**2``, the filters' power responses
    at ``omegas`` radians per sample (negative values give the negative-frequency side)."""
    real, imaginary = (
        part.numpy().astype(np.float64)
        for part in gabor_impulse_responses(
            np.asarray(centres, np.float32), np.asarray(widths, np.float32), taps
        )
    )
    times = np.arange(taps) - taps // 2
    return np.abs(np.exp(-1j * np.outer(omegas, times)) @ (real + 1j * imaginary)) ** 2


def gabor_impulse_responses(centres, widths, taps: int):
    """Real and imaginary parts of the filters, each (taps, n_filters), as TensorFlow tensors.

    Args:
        centres: (n_filters,) radians per sample.
        widths: (n_filters,) envelope standard deviations in samples.
        taps: filter length (odd).
    """
    t = tf.range(-(taps // 2), taps // 2 + 1, dtype=tf.float32)[:, None]
    envelope = tf.exp(-0.5 * tf.square(t / widths[None, :])) / (math.sqrt(2 * math.pi) * widths[None, :])
    phase = t * centres[None, :]
    return envelope * tf.cos(phase), envelope * tf.sin(phase)


@keras.saving.register_keras_serializable(package="sensing_leaf")
class GaborFilterbank(keras.layers.Layer):
    """Squared modulus of complex Gabor filtering, 'valid' convolution at stride 1.

    Input (batch, samples, 1) float32; output (batch, samples - taps + 1,
    n_filters): output ``j`` is centred on input sample ``j + taps // 2``.

    Args:
        centres, widths: initial values (n_filters,) from :func:`gabor_parameters_from_mel`.
        taps: filter length in samples (odd).
    """

    def __init__(self, centres, widths, taps: int = 401, **kwargs) -> None:
        super().__init__(**kwargs)
        self.initial_centres = [float(value) for value in centres]
        self.initial_widths = [float(value) for value in widths]
        if len(self.initial_centres) != len(self.initial_widths):
            raise ValueError("one width per centre frequency")
        self.taps = int(taps)

    @classmethod
    def from_mel(cls, settings: FeatureSettings, leaf: LeafSettings, **kwargs) -> GaborFilterbank:
        """One filter per mel band, mimicking it (:func:`gabor_parameters_from_mel`)."""
        return cls(*gabor_parameters_from_mel(settings), leaf.gabor_taps, **kwargs)

    @property
    def n_filters(self) -> int:
        return len(self.initial_centres)

    def build(self, input_shape) -> None:
        self.centres = self.add_weight(
            name="centres",
            shape=(self.n_filters,),
            initializer=keras.initializers.Constant(self.initial_centres),
            constraint=Between(0.0, math.pi),
        )
        self.widths = self.add_weight(
            name="widths",
            shape=(self.n_filters,),
            initializer=keras.initializers.Constant(self.initial_widths),
            constraint=Between(*width_limits(self.taps)),
        )
        super().build(input_shape)

    def kernel(self):
        """(taps, 1, 2 * n_filters) real convolution kernel: real parts, then imaginary parts."""
        real, imaginary = gabor_impulse_responses(self.centres, self.widths, self.taps)
        # convolution flips its kernel; flipping it here makes the layer filter with phi itself
        return tf.reverse(tf.concat([real, imaginary], axis=1), axis=[0])[:, None, :]

    def call(self, inputs):
        filtered = tf.nn.conv1d(inputs, self.kernel(), stride=1, padding="VALID")
        real, imaginary = filtered[..., : self.n_filters], filtered[..., self.n_filters :]
        return tf.square(real) + tf.square(imaginary)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "centres": self.initial_centres,
            "widths": self.initial_widths,
            "taps": self.taps,
        }
