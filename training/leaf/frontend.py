"""The LEAF frontend assembled, and the classifier that trains it jointly with the CNN.

The classifier takes one model window of raw audio, ``(batch, window_samples)``
float32 at ``settings.sr`` Hz (15,712 samples at the defaults, the mel
frontend's window), and gives ``(batch, n_classes)`` softmax. Inside, the
audio is zero-padded so that output frame ``i`` is centred where the mel
frontend's frame ``i`` is (sample ``i * hop_length + n_fft / 2``), giving
``(batch, window_frames, n_mels)`` features in the log-mel range, then the same
delta channels and the same CNN as the mel frontend.
"""

from __future__ import annotations

from sensing.audio.features import FeatureSettings
from sensing.errors import SensingError
from training.audio.windows import AugmentSettings
from training.leaf.deltas import FeatureDeltas
from training.leaf.gabor import GaborFilterbank
from training.leaf.masking import FeatureMask
from training.leaf.pcen import SPcen
from training.leaf.pooling import GaussianLowpass
from training.leaf.preemphasis import PREEMPHASIS_LAYER, PreEmphasis
from training.leaf.settings import LeafSettings
from training.model import build_audio_cnn
from training.model_settings import CnnSettings
from training.tf_setup import keras

FEATURES_LAYER = "leaf_features"
"""Name of the layer whose output is the frontend's (batch, frames, bands) features."""
CNN_LAYER = "audio_cnn"
"""Name of the nested CNN, the part shared with the fast frontend's model."""


def frontend_padding(settings: FeatureSettings, leaf: LeafSettings) -> tuple[int, int]:
    """Zeros added (before, after) a window so the frontend's frames align with the mel frames."""
    before = leaf.gabor_taps // 2 + leaf.pooling_taps // 2 - settings.n_fft // 2
    needed = (settings.window_frames - 1) * settings.hop_length + leaf.support_samples
    after = needed - settings.window_samples - before
    if before < 0 or after < 0:
        raise SensingError(
            f"the LEAF filters ({leaf.gabor_taps} + {leaf.pooling_taps} taps) must "
            f"span at least one FFT frame ({settings.n_fft} samples)"
        )
    return before, after


def leaf_frontend(audio, settings: FeatureSettings, leaf: LeafSettings):
    """Apply the frontend's layers to (batch, window_samples) audio; returns (batch, frames, bands)."""
    x = keras.layers.Reshape((settings.window_samples, 1), name="leaf_samples")(audio)
    if leaf.preemphasis:
        x = PreEmphasis(leaf.preemphasis_coefficient, name=PREEMPHASIS_LAYER)(x)
    x = keras.layers.ZeroPadding1D(frontend_padding(settings, leaf), name="leaf_padding")(x)
    x = GaborFilterbank.from_mel(settings, leaf, name="leaf_gabor")(x)
    x = GaussianLowpass.from_mel(settings, leaf, name="leaf_pooling")(x)
    x = SPcen.from_mel(settings, leaf, name="leaf_pcen")(x)
    return keras.layers.Rescaling(
        1.0 / leaf.output_scale, offset=-leaf.output_offset / leaf.output_scale, name=FEATURES_LAYER
    )(x)


def build_leaf_classifier(
    *,
    settings: FeatureSettings,
    leaf: LeafSettings,
    n_classes: int,
    cnn: CnnSettings,
    augment: AugmentSettings,
) -> keras.Model:
    """Raw audio window -> LEAF features -> (training-only SpecAugment) -> deltas -> CNN -> softmax."""
    audio = keras.Input(shape=(settings.window_samples,), name="audio")
    features = leaf_frontend(audio, settings, leaf)
    masked = FeatureMask(
        augment.mask_probability, augment.max_masked_bands, augment.max_masked_frames, name="leaf_mask"
    )(features)
    stacked = FeatureDeltas(settings.delta_width, name="leaf_deltas")(masked)
    network = build_audio_cnn(
        input_shape=settings.input_shape, n_classes=n_classes, settings=cnn, name=CNN_LAYER
    )
    return keras.Model(audio, network(stacked), name="leaf_classifier")


def features_model(classifier: keras.Model) -> keras.Model:
    """The frontend alone: the classifier's input to its (batch, frames, bands) features."""
    # node 0 is the classifier's own call (a fast classifier adds more, sharing the layer)
    return keras.Model(
        classifier.input, classifier.get_layer(FEATURES_LAYER).get_output_at(0), name="leaf_frontend"
    )
