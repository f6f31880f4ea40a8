"""Pictures of a recording: ``range_time.png`` and ``frequency_time.png``.

- ``range_time.png`` ("movement by distance from the radar"): clutter-removed
  power of every range bin (receivers averaged coherently,
  :class:`~sensing.radar.processing.ClutterFilter`) in dB, time across, distance
  in metres up, the sleeper's distance dashed. Long recordings are averaged
  over blocks of frames so the image has at most ``MAX_COLUMNS`` columns.
- ``frequency_time.png`` ("breathing and movement at the sleeper's distance"):
  the Doppler spectrogram at the sleeper's range, the very columns a tensor
  holds (:class:`~sensing.radar.processing.SpectrogramStream`: 0 to
  ``max_frequency_hz``, one column per ``stft_hop_s``), drawn in cycles per
  minute with the breathing band marked. Without ``centre_m`` the sleeper is
  taken to be at the bin with the most breathing-band power over the recording
  (:func:`~sensing.radar.breathing.strongest_breathing_range`).

Time reads as a person would (:class:`~sensing.plotting.Timeline`: clock
time when the start is known). Both read the recording in chunks, so memory
stays bounded for a whole night. When ``NAME.epochs.csv`` exists, a coloured
strip above each picture shows the labelled sleep state. Pictures are written
atomically. Needs matplotlib (``pip install 'sensing[plot]'``).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import RadarError
from sensing.files import make_folder
from sensing.plotting import Timeline, pyplot, save_figure
from sensing.radar.breathing import BREATHING_BAND_HZ, strongest_breathing_range
from sensing.radar.processing import (
    CHUNK_S,
    ClutterFilter,
    RadarFeatureSettings,
    SpectrogramStream,
    combine_rx,
)
from sensing.radar.recording import (
    EPOCH_S,
    Recording,
    epochs_path,
    read_epochs,
)

MAX_COLUMNS = 1500
"""Most time columns in a picture; longer recordings are averaged over blocks."""
LABEL_COLOURS = {"absent": "lightgrey", "awake": "orange", "asleep": "royalblue"}
"""Colour of each epoch label in the strip above a picture."""
COLOUR_NAMES = {"lightgrey": "grey", "orange": "orange", "royalblue": "blue"}
"""How the strip's title names each of :data:`LABEL_COLOURS`."""


def write_views(
    recording_path: str | Path,
    out_dir: str | Path,
    *,
    centre_m: float | None = None,
    settings: RadarFeatureSettings | None = None,
    labels_path: str | Path | None = None,
    start: datetime.datetime | None = None,
) -> list[Path]:
    """Write ``range_time.png`` and ``frequency_time.png`` into ``out_dir``.

    Args:
        recording_path: ``NAME.npz`` recording.
        out_dir: folder for the pictures, created when missing.
        centre_m: the sleeper's range in metres; default the bin with the most
            breathing-band power.
        settings: frontend settings for the spectrogram; default
            :class:`RadarFeatureSettings()`.
        labels_path: the epoch labels to draw above the pictures; default
            ``NAME.epochs.csv`` beside the recording, when it exists.
        start: the clock time of the recording's start; default the recording's
            own (:meth:`~sensing.radar.recording.RadarConfig.started_at`), if any.

    Returns:
        the two PNG paths.

    Raises:
        SensingError: matplotlib is missing.
        RadarError: a malformed recording, one too short for one STFT window
            (or, without ``centre_m``, for :data:`~sensing.radar.breathing.MIN_SECONDS`).
        WriteError: a picture cannot be written.
    """
    plt = pyplot("radar views")
    settings = settings or RadarFeatureSettings()
    out_dir = make_folder(out_dir)
    labels_path = epochs_path(recording_path) if labels_path is None else Path(labels_path)
    labels = read_epochs(labels_path) if labels_path.is_file() else None
    with Recording(recording_path) as recording:
        if centre_m is None:
            centre_m = strongest_breathing_range(recording)
        spectrogram, first_step = frequency_time(recording, settings, centre_m=centre_m)
        power, block_s = range_time_power(recording, settings)
        config, n_bins = recording.config, recording.n_bins
        timeline = Timeline(length_min=recording.duration_s / 60, start=start or config.started_at())
    paths = [out_dir / "range_time.png", out_dir / "frequency_time.png"]
    _plot_range_time(
        plt,
        paths[0],
        power,
        block_s,
        config.range_m(n_bins),
        config.range_resolution_m,
        centre_m=centre_m,
        labels=labels,
        timeline=timeline,
    )
    _plot_frequency_time(
        plt, paths[1], spectrogram, first_step, settings, centre_m=centre_m, labels=labels, timeline=timeline
    )
    return paths


def _plot_range_time(
    plt: Any,
    path: Path,
    power: np.ndarray,
    block_s: float,
    ranges_m: np.ndarray,
    resolution_m: float,
    *,
    centre_m: float,
    labels: list[str] | None,
    timeline: Timeline,
) -> None:
    """``power``: (columns, bins) from :func:`range_time_power`, ``block_s`` apart."""
    figure, axes = _figure(plt, labels)
    db = 10 * np.log10(power + 1e-30)
    low, high = np.percentile(db, [5, 99.9])
    minutes = len(db) * block_s / 60
    image = axes[-1].imshow(
        db.T,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        vmin=low,
        vmax=high,
        extent=(0, minutes, ranges_m[0] - resolution_m / 2, ranges_m[-1] + resolution_m / 2),
    )
    axes[-1].axhline(centre_m, color="white", ls="--", lw=0.8)
    axes[-1].set(
        ylabel="distance from the radar (m)",
        title=f"Movement by distance from the radar (dashed: the sleeper, {centre_m:.2f} m)",
    )
    timeline.apply(axes[-1], 0.0, minutes)
    figure.colorbar(image, ax=axes, label="movement strength (dB)")
    save_figure(plt, figure, path)


def _plot_frequency_time(
    plt: Any,
    path: Path,
    spectrogram: np.ndarray,
    first_step: int,
    settings: RadarFeatureSettings,
    *,
    centre_m: float,
    labels: list[str] | None,
    timeline: Timeline,
) -> None:
    """``spectrogram``: (steps, frequencies) from :func:`frequency_time`, drawn in cycles per minute."""
    figure, axes = _figure(plt, labels)
    columns, column_s = _downsample(spectrogram, settings.stft_hop_s)
    start_min = first_step * settings.stft_hop_s / 60
    stop_min = start_min + len(columns) * column_s / 60
    half_bin_per_min = 60 * 0.5 / settings.stft_window_s
    image = axes[-1].imshow(
        columns.T,
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        cmap="magma",
        extent=(start_min, stop_min, -half_bin_per_min, 60 * settings.max_frequency_hz + half_bin_per_min),
    )
    for edge_hz in BREATHING_BAND_HZ:
        axes[-1].axhline(60 * edge_hz, color="cyan", ls="--", lw=0.8)
    axes[-1].text(
        0.005,
        60 * BREATHING_BAND_HZ[1],
        " breathing",
        color="cyan",
        fontsize=8,
        va="bottom",
        transform=axes[-1].get_yaxis_transform(),
    )
    axes[-1].set(
        ylabel="rate of movement (cycles per minute)",
        title=f"Breathing and movement at the sleeper's distance ({centre_m:.2f} m)",
    )
    timeline.apply(axes[-1], 0.0, max(stop_min, timeline.length_min))
    figure.colorbar(image, ax=axes, label="strength")
    save_figure(plt, figure, path)


def range_time_power(recording: Recording, settings: RadarFeatureSettings) -> tuple[np.ndarray, float]:
    """Clutter-removed power per range bin (``settings.clutter_time_constant_s``), in blocks of frames.

    Returns:
        float64 (columns, bins) mean power per block, at most ``MAX_COLUMNS``
        columns, and the block length in seconds; a last partial block is
        averaged over the frames it has.
    """
    rate = recording.config.frame_rate_hz
    block = -(-recording.n_frames // MAX_COLUMNS)
    n_columns = -(-recording.n_frames // block)
    total = np.zeros((n_columns, recording.n_bins))
    count = np.zeros(n_columns)
    clutter = ClutterFilter(time_constant_s=settings.clutter_time_constant_s, frame_rate_hz=rate)
    for first, frames in recording.chunks(max(block, round(CHUNK_S * rate))):
        cleaned = clutter(combine_rx(frames))
        column = (first + np.arange(len(frames))) // block
        starts = np.flatnonzero(np.diff(column, prepend=-1))
        total[column[starts]] += np.add.reduceat(cleaned.real**2 + cleaned.imag**2, starts, axis=0)
        count[column[starts]] += np.diff(np.append(starts, len(frames)))
    return total / count[:, None], block / rate


def frequency_time(
    recording: Recording, settings: RadarFeatureSettings, *, centre_m: float
) -> tuple[np.ndarray, int]:
    """Tensor columns at one range: float32 (steps, frequencies) and the index of the first step.

    Raises:
        RadarError: the recording holds no whole STFT window.
    """
    stream = SpectrogramStream(
        recording.config,
        settings,
        n_bins=recording.n_bins,
        rows_m=np.array([centre_m]),
        source=str(recording.path),
    )
    steps = [
        stream.feed(frames)[1][:, 0]
        for _, frames in recording.chunks(round(CHUNK_S * recording.config.frame_rate_hz))
    ]
    spectrogram = np.concatenate(steps)
    if len(spectrogram) == 0:
        first_s = (
            stream.first_valid_step * settings.stft_hop_s + (settings.stft_hop_s - settings.stft_window_s) / 2
        )
        raise RadarError(
            f"{recording.path}: {recording.duration_s:.1f} s recorded, too short for one "
            f"whole {settings.stft_window_s:g} s STFT window (the first spans "
            f"{first_s:g} to {first_s + settings.stft_window_s:g} s)"
        )
    return spectrogram, stream.first_valid_step


def _downsample(columns: np.ndarray, step_s: float) -> tuple[np.ndarray, float]:
    """Mean over blocks of columns so at most ``MAX_COLUMNS`` remain (a last partial block is
    left out); returns them and their spacing in seconds."""
    block = max(1, -(-len(columns) // MAX_COLUMNS))
    whole = len(columns) // block * block
    means = columns[:whole].reshape(-1, block, columns.shape[1]).mean(axis=1)
    return means, step_s * block


def _figure(plt: Any, labels: list[str] | None) -> tuple[Any, Any]:
    """A figure and its axes: the picture's last, above it a strip of epoch labels when there are any."""
    if labels is None:
        figure, axis = plt.subplots(figsize=(12, 5), layout="constrained")
        return figure, [axis]
    figure, (strip, axis) = plt.subplots(
        2, 1, figsize=(12, 5.6), height_ratios=(1, 12), sharex=True, layout="constrained"
    )
    for index, label in enumerate(labels):
        strip.axvspan(index * EPOCH_S / 60, (index + 1) * EPOCH_S / 60, color=LABEL_COLOURS[label], lw=0)
    strip.set(yticks=[])
    strip.set_title(
        "labelled sleep state: "
        + ", ".join(f"{label} {COLOUR_NAMES[colour]}" for label, colour in LABEL_COLOURS.items()),
        fontsize=8,
    )
    return figure, [strip, axis]
