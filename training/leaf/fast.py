"""The fast frontend: a trained LEAF frontend as a short-time power spectrum times a matrix.

Once trained, Gabor filter ``n`` (impulse response ``phi_n``) and its Gaussian
pooling window ``g_n`` are fixed linear operators, and the pooled squared
modulus ``E_n[k] = sum_tau g_n(tau) |(x * phi_n)(k * hop + tau)|**2`` is, for
audio that changes slowly within a frame, a weighted sum of the frame's power
spectrum: ``E_n[k] ~ sum_f A[n, f] * P_k(f)`` with ``A[n, f]`` proportional to
``|Phi_n(f)|**2 + |Phi_n(-f)|**2``, the filter's power response to a real
sinusoid at FFT bin ``f`` (times the pre-emphasis filter's, when there is
one). ``P_k`` is the runtime's own
Hann-windowed power spectrum (:func:`sensing.audio.features.power_spectrum`), so the
device computes exactly what the mel frontend computes, with the learned
matrix in place of the mel matrix. Each filter's weights are scaled so both
sides agree in expectation on white noise before pre-emphasis:
``sum(g_n) * sum(|phi_n|**2) = sum(hann**2) * sum_f A'[n, f]``.
The learned sPCEN then follows as in the exact frontend.
"""

from __future__ import annotations

import numpy as np

from sensing.audio.features import FeatureSettings, hann_window
from training.leaf.frontend import CNN_LAYER, FEATURES_LAYER
from training.leaf.gabor import power_responses
from training.leaf.pooling import gaussian_windows
from training.leaf.preemphasis import preemphasis_coefficient
from training.tf_setup import keras


def fast_filterbank(classifier: keras.Model, settings: FeatureSettings) -> np.ndarray:
    """(n_fft // 2 + 1, n_filters) float32 matrix taking power-spectrum bins to band energies."""
    gabor = classifier.get_layer("leaf_gabor")
    centres, widths = gabor.centres.numpy(), gabor.widths.numpy()
    pooling = classifier.get_layer("leaf_pooling")
    windows = gaussian_windows(pooling.widths, pooling.taps).numpy().astype(np.float64)
    omega = 2 * np.pi * np.arange(settings.n_fft // 2 + 1) / settings.n_fft
    power = power_responses(centres, widths, gabor.taps, omega)
    # a real sinusoid at bin f also drives the filter at -f; bins 0 and n_fft / 2 are their own mirror
    power[1:-1] += power_responses(centres, widths, gabor.taps, -omega[1:-1])
    times = np.arange(gabor.taps) - gabor.taps // 2
    envelope_energy = np.sum(
        np.exp(-((times[:, None] / widths[None, :]) ** 2)) / (2 * np.pi * widths[None, :] ** 2), axis=0
    )  # sum of |phi_n|**2
    exact_white = windows.sum(axis=0) * envelope_energy
    fast_white = np.sum(hann_window(settings.n_fft) ** 2) * power.sum(axis=0)
    matrix = power * (exact_white / fast_white)
    coefficient = preemphasis_coefficient(classifier)
    if coefficient is not None:
        matrix *= np.abs(1 - coefficient * np.exp(-1j * omega))[:, None] ** 2
    return matrix.astype(np.float32)


def _fast_features(classifier: keras.Model, settings: FeatureSettings):
    """``(power input, features)``: the fast frontend's graph, sharing the classifier's sPCEN."""
    power = keras.Input(shape=(settings.window_frames, settings.n_fft // 2 + 1), name="power")
    matrix = fast_filterbank(classifier, settings)
    filterbank = keras.layers.Dense(
        matrix.shape[1], use_bias=False, trainable=False, name="leaf_fast_filterbank"
    )
    energies = filterbank(power)
    filterbank.set_weights([matrix])
    x = classifier.get_layer("leaf_pcen")(energies)
    return power, classifier.get_layer(FEATURES_LAYER)(x)


def build_fast_classifier(classifier: keras.Model, settings: FeatureSettings) -> keras.Model:
    """The trained classifier with its Gabor filtering and pooling replaced by :func:`fast_filterbank`.

    Input (batch, window_frames, n_fft // 2 + 1) power spectrum frames, output
    (batch, n_classes) softmax. The sPCEN, rescaling, delta and CNN layers are
    the classifier's own (shared, not copied).
    """
    power, features = _fast_features(classifier, settings)
    x = classifier.get_layer("leaf_deltas")(features)
    return keras.Model(power, classifier.get_layer(CNN_LAYER)(x), name="leaf_fast_classifier")


def build_fast_frontend(classifier: keras.Model, settings: FeatureSettings) -> keras.Model:
    """The fast frontend alone: (batch, frames, bins) power spectrum to (batch, frames, bands) features."""
    power, features = _fast_features(classifier, settings)
    return keras.Model(power, features, name="leaf_fast_frontend")
