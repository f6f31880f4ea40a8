"""What the frontend learned: its filters against their mel start, as numbers and a plot."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sensing.audio.features import FeatureSettings
from training.leaf.gabor import gabor_parameters_from_mel, power_responses
from training.leaf.preemphasis import preemphasis_coefficient
from training.plots import plt, save_figure
from training.tf_setup import keras

RESPONSE_POINTS = 1024
"""Frequencies at which :func:`plot_filters` draws the learned responses (0 to sr / 2)."""


def half_power_bandwidth_hz(widths, sr: int) -> np.ndarray:
    """Half-power bandwidth in Hz of Gabor filters with envelope widths (samples).

    A Gabor filter's power response is ``exp(-(omega - centre)**2 * width**2)``,
    which is half its peak ``sqrt(ln 2) / width`` radians per sample either side.
    """
    return 2 * math.sqrt(math.log(2)) / np.asarray(widths, dtype=np.float64) * sr / (2 * math.pi)


def learned_filters(classifier: keras.Model, settings: FeatureSettings) -> dict:
    """The learned frontend's parameters per filter, with the mel values they started from.

    Frequencies in Hz, pooling widths as the Gaussian's standard deviation in ms.
    """
    gabor = classifier.get_layer("leaf_gabor")
    pooling = classifier.get_layer("leaf_pooling")
    pcen = classifier.get_layer("leaf_pcen")
    start_centres, start_widths = gabor_parameters_from_mel(settings)
    to_hz = settings.sr / (2 * math.pi)
    half_pooling = 0.5 * (pooling.taps - 1)

    def rounded(values, digits: int = 2) -> list[float]:
        return [round(float(value), digits) for value in np.asarray(values)]

    summary: dict[str, object] = {
        "centre_hz": rounded(gabor.centres.numpy() * to_hz),
        "start_centre_hz": rounded(start_centres * to_hz),
        "bandwidth_hz": rounded(half_power_bandwidth_hz(gabor.widths.numpy(), settings.sr)),
        "start_bandwidth_hz": rounded(half_power_bandwidth_hz(start_widths, settings.sr)),
        "pooling_ms": rounded(pooling.widths.numpy() * half_pooling / settings.sr * 1000, 3),
        "start_pooling_ms": rounded(
            np.full(pooling.n_channels, pooling.initial_width) * half_pooling / settings.sr * 1000, 3
        ),
        **{
            f"pcen_{name}": rounded(getattr(pcen, name).numpy(), 4)
            for name in ("alpha", "delta", "root", "smoothing")
        },
    }
    coefficient = preemphasis_coefficient(classifier)
    if coefficient is not None:
        summary["preemphasis"] = round(coefficient, 4)
    return summary


def filter_responses(classifier: keras.Model, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """``(frequencies_hz (points,), power (filters, points))``: each learned filter's power response."""
    gabor = classifier.get_layer("leaf_gabor")
    omega = np.linspace(0, np.pi, RESPONSE_POINTS)
    power = power_responses(gabor.centres.numpy(), gabor.widths.numpy(), gabor.taps, omega)
    return omega * settings.sr / (2 * np.pi), power.T


def plot_filters(summary: dict, frequencies_hz: np.ndarray, power: np.ndarray, path: str | Path) -> Path:
    """Centre frequencies and bandwidths against their mel start, and the learned responses."""
    figure, (centre_axis, band_axis, response_axis) = plt.subplots(1, 3, figsize=(15, 4.2))
    index = np.arange(len(summary["centre_hz"]))
    centre_axis.plot(index, summary["start_centre_hz"], color="grey", label="mel start")
    centre_axis.plot(index, summary["centre_hz"], "o", markersize=3, color="tab:blue", label="learned")
    centre_axis.set(title="centre frequencies", xlabel="filter", ylabel="Hz", yscale="log")
    band_axis.plot(index, summary["start_bandwidth_hz"], color="grey", label="mel start")
    band_axis.plot(index, summary["bandwidth_hz"], "o", markersize=3, color="tab:orange", label="learned")
    band_axis.set(title="half-power bandwidths", xlabel="filter", ylabel="Hz")
    colours = plt.cm.viridis(np.linspace(0, 1, power.shape[0]))
    for row, colour in zip(power, colours):
        response_axis.plot(frequencies_hz, row / row.max(), color=colour, linewidth=0.8)
    response_axis.set(
        title="learned filterbank (power, each filter's peak = 1)",
        xlabel="frequency (Hz)",
        ylabel="relative power",
        xlim=(0, frequencies_hz[-1]),
    )
    centre_axis.set_yticks(
        [50, 100, 200, 500, 1000, 2000, 5000], ["50", "100", "200", "500", "1000", "2000", "5000"]
    )
    centre_axis.yaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
    for axis in (centre_axis, band_axis):
        axis.legend(fontsize=8)
    for axis in (centre_axis, band_axis, response_axis):
        axis.grid(alpha=0.3)
    return save_figure(figure, path)
