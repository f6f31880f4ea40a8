"""A small audio CNN whose shape XNNPACK can run sparsely once pruned.

XNNPACK's sparse inference takes a graph that starts with a 3x3 stride-2
convolution with padding 1 on 3 input channels, continues with 1x1
convolutions, 3x3 depthwise convolutions with symmetric padding and
element-wise ops, and ends in a spatial mean. The network below is built
from those pieces only: an explicitly padded stem, inverted-residual blocks
(1x1 expand, 3x3 depthwise, 1x1 project; explicit padding before stride-2
depthwise convolutions), a 1x1 head, global average pooling, then the
classifier layer. Batch normalisation folds into the convolutions on export.
"""

from __future__ import annotations

from sensing.errors import SensingError
from training.model_settings import CnnSettings
from training.tf_setup import keras

layers = keras.layers

BN_MOMENTUM = 0.9
"""Batch-norm moving-average momentum: low enough to settle within a short run on small data."""
INITIALIZER = "he_normal"
"""Weight initialiser of every convolution; keeps activations from fading through ReLU6 layers."""


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 1, use_bias=False, kernel_initializer=INITIALIZER, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def _inverted_residual(x, *, expansion: int, channels: int, stride: int, name: str):
    inputs = x
    in_channels = x.shape[-1]
    if expansion != 1:
        x = _conv_bn_relu(x, in_channels * expansion, f"{name}_expand")
    if stride == 2:
        x = layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        x = layers.DepthwiseConv2D(
            3,
            strides=2,
            padding="valid",
            use_bias=False,
            depthwise_initializer=INITIALIZER,
            name=f"{name}_depthwise",
        )(x)
    else:
        x = layers.DepthwiseConv2D(
            3, padding="same", use_bias=False, depthwise_initializer=INITIALIZER, name=f"{name}_depthwise"
        )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_depthwise_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_depthwise_relu")(x)
    x = layers.Conv2D(channels, 1, use_bias=False, kernel_initializer=INITIALIZER, name=f"{name}_project")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_project_bn")(x)
    if stride == 1 and in_channels == channels:
        x = layers.Add(name=f"{name}_add")([inputs, x])
    return x


def build_audio_cnn(
    *, input_shape: tuple[int, int, int], n_classes: int, settings: CnnSettings, name: str = "audio_cnn"
) -> keras.Model:
    """The classifier: input (batch, height, width, 3) features, output (batch, n_classes) softmax.

    Audio gives (frames, mels, 3) windows; the sleep classifier (``name``
    ``radar_cnn``) gives (time steps, Doppler frequencies, 3 range bands).
    """
    if input_shape[-1] != 3:
        raise SensingError(f"the sparse-friendly stem needs 3 input channels, got {input_shape}")
    inputs = keras.Input(shape=input_shape, name="features")
    x = layers.ZeroPadding2D(1, name="stem_pad")(inputs)
    x = layers.Conv2D(
        settings.stem_channels,
        3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer=INITIALIZER,
        name="stem_conv",
    )(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for index, (expansion, channels, stride) in enumerate(settings.blocks):
        x = _inverted_residual(x, expansion=expansion, channels=channels, stride=stride, name=f"block{index}")
    x = _conv_bn_relu(x, settings.head_channels, "head")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(settings.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=name)
