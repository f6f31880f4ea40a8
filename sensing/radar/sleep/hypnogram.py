"""``hypnogram.png``: the labels of a night as a step line over the night.

As in sleep-lab hypnograms, asleep is the lowest level, awake above it and
absent at the top, time across (clock time when the start is known, see
:class:`~sensing.plotting.Timeline`). The title carries the night's
answer (:func:`~sensing.radar.sleep.summary.headline`). Optionally:

- ``truth``: the true labels as a broad grey step line behind the predicted one;
- ``probabilities``: the classifier's (epochs, 3) outputs as stacked areas in a
  panel below, coloured as the epoch strip of :mod:`sensing.radar.view`.

Needs matplotlib (``pip install 'sensing[plot]'``).
"""

from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import RadarError
from sensing.plotting import Timeline, pyplot, save_figure
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.radar.sleep.smoothing import check_probabilities
from sensing.radar.sleep.summary import label_indices
from sensing.radar.view import LABEL_COLOURS

LEVELS = {"asleep": 0, "awake": 1, "absent": 2}
"""Height of each label in a hypnogram: asleep lowest."""


def plot_hypnogram(
    labels: Sequence[str],
    out_path: str | Path,
    *,
    probabilities: np.ndarray | None = None,
    truth: Sequence[str] | None = None,
    title: str = "hypnogram",
    epoch_s: float = EPOCH_S,
    start: datetime.datetime | None = None,
) -> Path:
    """Draw a hypnogram into a PNG; returns its path.

    Args:
        labels: (epochs,) labels from EPOCH_LABELS, the line drawn.
        out_path: the PNG to write; its folder is created when missing.
        probabilities: (epochs, 3) classifier outputs in the order of
            EPOCH_LABELS, drawn as stacked areas below; default none.
        truth: (epochs,) true labels, drawn behind ``labels``; default none.
        title: the picture's title: the night's answer, for a person.
        epoch_s: length of one epoch in seconds, > 0.
        start: the clock time of the first epoch's start, or None when unknown.

    Raises:
        SensingError: matplotlib is missing.
        WriteError: the picture cannot be written.
        RadarError: an unknown label, no epochs, ``truth`` or ``probabilities``
            of another length than ``labels``, or a bad ``epoch_s``.
    """
    states = label_indices(labels)
    truth_states = None if truth is None else label_indices(truth, name="truth")
    if truth_states is not None and len(truth_states) != len(states):
        raise RadarError(f"truth has {len(truth_states)} epochs but labels have {len(states)}")
    shares = None if probabilities is None else check_probabilities(probabilities, n_epochs=len(states))
    if not (isinstance(epoch_s, numbers.Real) and math.isfinite(epoch_s) and epoch_s > 0):
        raise RadarError(f"epoch_s must be a positive number of seconds, got {epoch_s!r}")
    plt = pyplot("hypnogram")
    heights = np.array([LEVELS[label] for label in EPOCH_LABELS])
    edges_min = np.arange(len(states) + 1) * epoch_s / 60
    if shares is None:
        figure, line_axis = plt.subplots(figsize=(12, 3), layout="constrained")
    else:
        figure, (line_axis, area_axis) = plt.subplots(
            2, 1, figsize=(12, 5), height_ratios=(3, 2), sharex=True, layout="constrained"
        )
        _draw_probabilities(area_axis, shares, edges_min)
    if truth_states is not None:
        line_axis.stairs(
            heights[truth_states], edges_min, baseline=None, color="grey", alpha=0.5, lw=5, label="truth"
        )
    line_axis.stairs(
        heights[states],
        edges_min,
        baseline=None,
        color="black",
        lw=1.2,
        label="predicted" if truth_states is not None else None,
    )
    order = sorted(LEVELS, key=LEVELS.get)
    line_axis.set(
        yticks=[LEVELS[label] for label in order],
        yticklabels=order,
        ylim=(-0.4, 2.4),
        title=title,
    )
    if truth_states is not None:
        line_axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    Timeline(length_min=float(edges_min[-1]), start=start).apply(figure.axes[-1], 0.0, float(edges_min[-1]))
    return save_figure(plt, figure, out_path)


def _draw_probabilities(axis: Any, shares: np.ndarray, edges_min: np.ndarray) -> None:
    """Stacked areas of (epochs, 3) probabilities, each epoch a flat step (x in minutes)."""
    steps = np.vstack([shares, shares[-1:]]).T  # the last epoch held to its end
    axis.stackplot(
        edges_min,
        steps,
        step="post",
        labels=EPOCH_LABELS,
        colors=[LABEL_COLOURS[label] for label in EPOCH_LABELS],
    )
    axis.set(ylim=(0, 1), ylabel="how sure the model is")
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
