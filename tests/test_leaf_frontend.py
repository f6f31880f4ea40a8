"""The LEAF layers: mel initialisation, impulse and tone responses, constraints, configs,
the in-graph sPCEN and deltas against their definitions, and the fast frontend."""

import dataclasses
import math

import numpy as np
import pytest

from sensing.audio.features import (
    FeatureSettings,
    clip_features,
    hz_to_mel,
    mel_filterbank,
    mel_to_hz,
    window_features,
)
from sensing.audio.model_input import clip_inputs
from sensing.errors import SensingError
from sensing.synthetic.clips import generate_clip
from training.audio.windows import AugmentSettings
from training.leaf.deltas import FeatureDeltas
from training.leaf.fast import build_fast_classifier, build_fast_frontend
from training.leaf.frontend import build_leaf_classifier, features_model
from training.leaf.gabor import GaborFilterbank, gabor_parameters_from_mel, width_limits
from training.leaf.masking import FeatureMask
from training.leaf.pcen import SPcen, smooth
from training.leaf.pooling import GaussianLowpass
from training.leaf.preemphasis import PreEmphasis
from training.leaf.settings import PCEN_LIMITS, LeafSettings
from training.model import CnnSettings
from training.tf_setup import keras, tf

SETTINGS = FeatureSettings()
SMALL_CNN = CnnSettings(stem_channels=8, blocks=((2, 8, 2), (2, 8, 2)), head_channels=16)


DEFAULT_LEAF = LeafSettings()


def _classifier(leaf: LeafSettings = DEFAULT_LEAF, settings: FeatureSettings = SETTINGS):
    return build_leaf_classifier(
        settings=settings, leaf=leaf, n_classes=3, cnn=SMALL_CNN, augment=AugmentSettings()
    )


def _generated(labels=("cough", "snore"), count: int = 4) -> np.ndarray:
    return np.concatenate(
        [np.asarray(generate_clip(label, index)[0], np.float32) for label in labels for index in range(count)]
    )


def test_gabor_initialiser_reproduces_mel_centre_frequencies():
    centres, widths = gabor_parameters_from_mel(SETTINGS)
    centre_hz = centres * SETTINGS.sr / (2 * np.pi)
    edges_hz = mel_to_hz(
        np.linspace(
            hz_to_mel(np.array([SETTINGS.fmin]))[0],
            hz_to_mel(np.array([SETTINGS.fmax]))[0],
            SETTINGS.n_mels + 2,
        )
    )
    bin_hz = SETTINGS.sr / SETTINGS.n_fft
    # each mel triangle peaks at its middle edge; the Gabor centre is the FFT bin of that peak
    np.testing.assert_array_less(np.abs(centre_hz - edges_hz[1:-1]), bin_hz)
    assert np.all(np.diff(centre_hz) >= 0)
    # wider mel bands give shorter Gabor envelopes, all within the constraint
    lower, upper = width_limits(401)
    assert widths[-1] < widths[len(widths) // 2] and np.all((widths >= lower) & (widths <= upper))


def test_an_impulse_through_the_gabor_layer_gives_each_filter():
    centres, widths = gabor_parameters_from_mel(SETTINGS)
    layer = GaborFilterbank(centres, widths, taps=401)
    impulse = np.zeros((1, 1201, 1), np.float32)
    impulse[0, 600] = 1.0
    response = layer(impulse).numpy()[0]  # (801, filters): output j is centred on sample j + 200
    lags = np.arange(801) + 200 - 600
    inside = np.abs(lags) <= 200
    envelope = np.exp(-0.5 * (lags[:, None] / widths[None, :]) ** 2) / (math.sqrt(2 * np.pi) * widths)
    np.testing.assert_allclose(response[inside], envelope[inside] ** 2, rtol=1e-3, atol=1e-9)
    assert np.all(response[~inside] == 0)
    # before the modulus: the impulse comes out as each complex filter, phi(lag), cos and sin parts
    filtered = tf.nn.conv1d(impulse, layer.kernel(), stride=1, padding="VALID").numpy()[0][inside]
    phase = lags[inside, None] * centres[None, :]
    np.testing.assert_allclose(filtered[:, :40], envelope[inside] * np.cos(phase), atol=1e-6)
    np.testing.assert_allclose(filtered[:, 40:], envelope[inside] * np.sin(phase), atol=1e-6)


def test_a_tone_is_loudest_in_the_filter_centred_on_it():
    centres, widths = gabor_parameters_from_mel(SETTINGS)
    layer = GaborFilterbank(centres, widths, taps=401)
    for index in (5, 20, 35):
        t = np.arange(4000)
        tone = np.cos(centres[index] * t).astype(np.float32)[None, :, None]
        energy = layer(tone).numpy()[0].mean(axis=0)
        assert np.argmax(energy) == index
        assert energy[index] == pytest.approx(0.25, rel=0.05)  # peak gain 1: |A / 2|**2


def test_constraints_hold_after_a_training_step():
    leaf = LeafSettings(preemphasis=True)
    model = _classifier(leaf)
    model.compile(optimizer=keras.optimizers.SGD(1e6), loss="categorical_crossentropy")
    audio = np.random.default_rng(0).standard_normal((4, SETTINGS.window_samples)).astype(np.float32)
    before = model.get_layer("leaf_gabor").centres.numpy().copy()
    model.fit(audio, np.eye(3)[[0, 1, 2, 0]], epochs=1, batch_size=4, verbose=0)
    gabor = model.get_layer("leaf_gabor")
    assert not np.allclose(gabor.centres.numpy(), before)  # the step was large enough to matter
    assert np.all((gabor.centres.numpy() >= 0) & (gabor.centres.numpy() <= np.pi))
    lower, upper = width_limits(leaf.gabor_taps)
    assert np.all((gabor.widths.numpy() >= lower) & (gabor.widths.numpy() <= upper + 1e-4))
    pooling = model.get_layer("leaf_pooling").widths.numpy()
    assert np.all((pooling >= 2 / leaf.pooling_taps - 1e-7) & (pooling <= 0.5))
    pcen = model.get_layer("leaf_pcen")
    assert np.all((pcen.alpha.numpy() >= 0) & (pcen.alpha.numpy() <= 1))
    assert np.all(pcen.root.numpy() >= 1) and np.all(pcen.delta.numpy() > 0)
    smoothing = pcen.smoothing.numpy()
    assert np.all((smoothing >= PCEN_LIMITS["smoothing"][0]) & (smoothing <= PCEN_LIMITS["smoothing"][1]))
    assert 0 <= float(model.get_layer("leaf_preemphasis").coefficient.numpy()) <= 1
    assert np.isfinite(model.predict(audio, verbose=0)).all()


@pytest.mark.parametrize(
    "layer, shape",
    [
        (PreEmphasis(0.9), (2, 50, 1)),
        (GaborFilterbank([0.3, 1.0], [20.0, 5.0], taps=41), (2, 100, 1)),
        (GaussianLowpass(3, taps=21, stride=10, width=0.3), (2, 101, 3)),
        (SPcen(3, alpha=0.9, delta=1.5, root=3.0, smoothing=0.1), (2, 12, 3)),
        (FeatureDeltas(5), (2, 12, 3)),
        (FeatureMask(0.7, 2, 3), (2, 12, 3)),
    ],
)
def test_get_config_round_trips(layer, shape):
    inputs = np.random.default_rng(1).random(shape).astype(np.float32)
    expected = layer(inputs).numpy()
    twin = type(layer).from_config(layer.get_config())
    twin(inputs)
    twin.set_weights(layer.get_weights())
    np.testing.assert_allclose(twin(inputs).numpy(), expected, rtol=1e-6)
    assert twin.get_config() == layer.get_config()


def test_saved_classifier_loads_with_the_same_outputs(tmp_path):
    model = _classifier()
    audio = 0.1 * np.random.default_rng(2).standard_normal((2, SETTINGS.window_samples)).astype(np.float32)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", compile=False)
    np.testing.assert_allclose(loaded.predict(audio, verbose=0), model.predict(audio, verbose=0), atol=1e-6)


def test_pcen_smoother_is_the_first_order_recurrence():
    rng = np.random.default_rng(3)
    energies = rng.random((2, 96, 3)).astype(np.float32)
    smoothing = np.array([0.04, 0.3, 0.9], np.float32)
    expected = np.zeros_like(energies)
    expected[:, 0] = energies[:, 0]
    for t in range(1, 96):
        expected[:, t] = (1 - smoothing) * expected[:, t - 1] + smoothing * energies[:, t]
    np.testing.assert_allclose(
        smooth(tf.constant(energies), tf.constant(smoothing)).numpy(), expected, rtol=1e-5, atol=1e-6
    )


def test_in_graph_deltas_match_the_runtime_features():
    values = np.random.default_rng(4).random((2, 96, 40)).astype(np.float32)
    stacked = FeatureDeltas(SETTINGS.delta_width)(values).numpy()
    # LEAF's sPCEN is its own gain control: its deltas are those of the absolute log-mel path
    absolute = dataclasses.replace(SETTINGS, level="absolute")
    np.testing.assert_allclose(stacked[1], window_features(values[1], absolute), atol=1e-5)


def test_mask_changes_windows_only_while_training():
    values = np.random.default_rng(5).random((8, 96, 40)).astype(np.float32)
    mask = FeatureMask(1.0, 6, 12)
    np.testing.assert_array_equal(mask(values, training=False).numpy(), values)
    changed = mask(values, training=True).numpy() != values
    assert changed.any(axis=(1, 2)).all()  # probability 1: every window masked
    assert changed.mean() < 0.5


def test_leaf_features_have_the_mel_features_shape_and_scale():
    audio = _generated(("cough", "snore", "other"))
    leaf_features = features_model(_classifier()).predict(clip_inputs(audio, "leaf", SETTINGS)[0], verbose=0)
    mel_features = clip_features(audio, SETTINGS)[0][..., 0]
    assert leaf_features.shape == mel_features.shape
    assert 0.5 < leaf_features.std() / mel_features.std() < 2
    assert abs(leaf_features.mean() - mel_features.mean()) < mel_features.std()


def test_fast_frontend_matches_the_exact_one_on_coughs_and_snores():
    classifier = _classifier()
    audio = _generated()
    exact = features_model(classifier).predict(clip_inputs(audio, "leaf", SETTINGS)[0], verbose=0)
    power = clip_inputs(audio, "leaf-fast", SETTINGS)[0]
    fast = build_fast_frontend(classifier, SETTINGS).predict(power, verbose=0)
    assert np.corrcoef(exact.ravel(), fast.ravel())[0, 1] > 0.99


@pytest.mark.parametrize("preemphasis", [False, True])
def test_fast_filterbank_keeps_white_noise_energy(preemphasis):
    classifier = _classifier(LeafSettings(preemphasis=preemphasis))
    noise = 0.1 * np.random.default_rng(6).standard_normal((8, SETTINGS.window_samples)).astype(np.float32)
    energies = keras.Model(classifier.input, classifier.get_layer("leaf_pooling").output)
    exact = energies.predict(noise, verbose=0)[:, 4:-4].mean(axis=(0, 1))  # away from the zero padding
    fast_classifier = build_fast_classifier(classifier, SETTINGS)
    power = np.stack([clip_inputs(row, "leaf-fast", SETTINGS)[0][0] for row in noise])
    fast = keras.Model(fast_classifier.input, fast_classifier.get_layer("leaf_fast_filterbank").output)
    np.testing.assert_allclose(fast.predict(power, verbose=0)[:, 4:-4].mean(axis=(0, 1)), exact, rtol=0.1)


def test_filterbank_matrix_is_the_mel_matrix_shape():
    fast_classifier = build_fast_classifier(_classifier(), SETTINGS)
    matrix = fast_classifier.get_layer("leaf_fast_filterbank").get_weights()[0]
    assert matrix.shape == mel_filterbank(SETTINGS).T.shape and np.all(matrix >= 0)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"gabor_taps": 400}, "gabor_taps must be odd"),
        ({"pcen_root": 0.5}, "pcen_root must be in"),
        ({"pooling_width": 0.9}, "pooling_width must be in"),
    ],
)
def test_invalid_settings_are_refused(change, message):
    with pytest.raises(SensingError, match=message):
        LeafSettings(**change)
