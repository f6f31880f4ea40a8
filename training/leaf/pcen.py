"""sPCEN: per-channel energy normalisation with learnable per-channel parameters.

For energies ``E[t, n]`` (frames x channels) of one window,

    M[t] = (1 - s) * M[t - 1] + s * E[t],   M[0] = E[0]
    out[t] = (E[t] / (floor + M[t])**alpha + delta)**(1 / root) - delta**(1 / root)

The smoother ``M`` restarts at each window's first frame, so a window's
output depends on that window alone. It is computed as a causal convolution
along time with a per-channel kernel ``h[k] = s * (1 - s)**k`` (k < frames) over
the energies with the first frame divided by ``s`` (which turns its weight
into ``(1 - s)**t``): a depthwise convolution, which converts to plain TFLite
ops, rather than a loop or ``tf.scan``.
"""

from __future__ import annotations

from sensing.audio.features import FeatureSettings
from training.leaf.constraints import Between
from training.leaf.settings import PCEN_LIMITS, LeafSettings
from training.tf_setup import keras, tf


def smooth(energies, smoothing):
    """``M`` of the module docstring for (batch, frames, channels) ``energies``, (channels,) ``smoothing``."""
    frames = energies.shape[1]
    lags = tf.range(frames - 1, -1, -1, dtype=tf.float32)[:, None]  # kernel tap k holds lag frames-1-k
    kernel = smoothing[None, :] * tf.exp(lags * tf.math.log(1.0 - smoothing)[None, :])
    first = tf.one_hot(0, frames)[None, :, None]
    restarted = energies * (1.0 + first * (1.0 / smoothing - 1.0))
    padded = tf.pad(restarted, [[0, 0], [frames - 1, 0], [0, 0]])
    # the height axis has size 1, so its stride is moot
    return tf.nn.depthwise_conv2d(
        padded[:, None], kernel[None, :, :, None], strides=(1, 1, 1, 1), padding="VALID"
    )[:, 0]


@keras.saving.register_keras_serializable(package="sensing_leaf")
class SPcen(keras.layers.Layer):
    """Input and output (batch, frames, channels) float32 energies -> compressed values.

    Args:
        n_channels: channels of the input.
        alpha, delta, root, smoothing: initial values, the same for every channel.
        floor: fixed, keeps the division finite in silence.
    """

    def __init__(
        self,
        n_channels: int,
        alpha: float = 0.96,
        delta: float = 2.0,
        root: float = 2.0,
        smoothing: float = 0.04,
        floor: float = 1e-12,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.n_channels = int(n_channels)
        self.initial = {
            "alpha": float(alpha),
            "delta": float(delta),
            "root": float(root),
            "smoothing": float(smoothing),
        }
        self.floor = float(floor)

    def build(self, input_shape) -> None:
        for name, (lower, upper) in PCEN_LIMITS.items():
            setattr(
                self,
                name,
                self.add_weight(
                    name=name,
                    shape=(self.n_channels,),
                    initializer=keras.initializers.Constant(self.initial[name]),
                    constraint=Between(lower, upper),
                ),
            )
        super().build(input_shape)

    @classmethod
    def from_mel(cls, settings: FeatureSettings, leaf: LeafSettings, **kwargs) -> SPcen:
        """One channel per mel band, with the initial values of ``leaf``."""
        return cls(
            settings.n_mels,
            alpha=leaf.pcen_alpha,
            delta=leaf.pcen_delta,
            root=leaf.pcen_root,
            smoothing=leaf.pcen_smoothing,
            floor=leaf.pcen_floor,
            **kwargs,
        )

    def call(self, inputs):
        smoothed = smooth(inputs, self.smoothing)
        inverse_root = 1.0 / self.root
        gained = inputs / tf.pow(self.floor + smoothed, self.alpha)
        return tf.pow(gained + self.delta, inverse_root) - tf.pow(self.delta, inverse_root)

    def get_config(self) -> dict:
        return {**super().get_config(), "n_channels": self.n_channels, **self.initial, "floor": self.floor}
