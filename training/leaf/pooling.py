"""Learnable Gaussian lowpass pooling: one Gaussian window per channel, then decimation.

Window ``n`` has taps ``w_n(k) = exp(-0.5 * ((k - (taps - 1) / 2) / (width_n * (taps - 1) / 2))**2)``
for ``k`` in ``[0, taps)``; ``width_n`` is its standard deviation as a share of
half its length, kept in ``[2 / taps, 0.5]`` and initialised to 0.4, as in LEAF.
The windows are not normalised: a width of 0.4 over 401 taps sums to about 200.
"""

from __future__ import annotations

from sensing.audio.features import FeatureSettings
from training.leaf.constraints import Between
from training.leaf.settings import LeafSettings, pooling_width_limits
from training.tf_setup import keras, tf


def gaussian_windows(widths, taps: int):
    """(taps, n_channels) window taps for (n_channels,) ``widths``, as a TensorFlow tensor."""
    half = 0.5 * (taps - 1)
    offsets = (tf.range(taps, dtype=tf.float32)[:, None] - half) / (widths[None, :] * half)
    return tf.exp(-0.5 * tf.square(offsets))


@keras.saving.register_keras_serializable(package="sensing_leaf")
class GaussianLowpass(keras.layers.Layer):
    """Per-channel Gaussian window, 'valid' at ``stride``.

    Input (batch, samples, channels); output (batch, frames, channels) with
    ``frames = (samples - taps) // stride + 1``; frame ``k`` is centred on input
    sample ``k * stride + taps // 2``.

    Args:
        n_channels: channels of the input.
        taps: window length in samples (odd).
        stride: samples between output frames (the hop, 160 = 10 ms at 16 kHz).
        width: initial width of every window.
    """

    def __init__(
        self, n_channels: int, taps: int = 401, stride: int = 160, width: float = 0.4, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.n_channels = int(n_channels)
        self.taps = int(taps)
        self.stride = int(stride)
        self.initial_width = float(width)

    def build(self, input_shape) -> None:
        self.widths = self.add_weight(
            name="widths",
            shape=(self.n_channels,),
            initializer=keras.initializers.Constant(self.initial_width),
            constraint=Between(*pooling_width_limits(self.taps)),
        )
        super().build(input_shape)

    @classmethod
    def from_mel(cls, settings: FeatureSettings, leaf: LeafSettings, **kwargs) -> GaussianLowpass:
        """One window per mel band, at the mel frontend's hop, with the taps and width of ``leaf``."""
        return cls(settings.n_mels, leaf.pooling_taps, settings.hop_length, leaf.pooling_width, **kwargs)

    def windows(self):
        """(taps, n_channels) current window taps."""
        return gaussian_windows(self.widths, self.taps)

    def call(self, inputs):
        kernel = self.windows()[None, :, :, None]  # (1, taps, channels, 1)
        # the height axis has size 1, so its stride (equal to the width stride, as the op requires) is moot
        pooled = tf.nn.depthwise_conv2d(
            inputs[:, None], kernel, strides=(1, self.stride, self.stride, 1), padding="VALID"
        )
        return pooled[:, 0]

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "n_channels": self.n_channels,
            "taps": self.taps,
            "stride": self.stride,
            "width": self.initial_width,
        }
