"""From window probabilities to one decision per clip.

A clip's score for a class is the highest probability that class reaches in
any of the clip's windows, so a 5 s clip holding one cough scores high for
cough. Because a long clip has many windows and so many chances to fire, the
thresholds are calibrated at the clip level on validation groups with this
same rule, for a stated false-positive rate on negative clips (see
``training.audio.calibration``), never per window.
"""

from __future__ import annotations

import numpy as np


def clip_scores(window_probabilities: np.ndarray, labels: tuple[str, ...]) -> dict[str, float]:
    """Highest probability of each label over a clip's windows.

    Args:
        window_probabilities: (windows, labels) array of softmax outputs.
        labels: the model's label names, in output order.
    """
    highest = np.max(window_probabilities, axis=0)
    return {label: float(value) for label, value in zip(labels, highest)}


def decide(scores: dict[str, float], *, thresholds: dict[str, float], negative_label: str | None) -> str:
    """The clip's label.

    With a negative label, a clip gets the target label whose score clears its
    threshold by the widest margin, or the negative label when none clears it.
    Without one, the highest score wins.
    """
    if negative_label is None:
        return max(scores, key=lambda label: scores[label])
    passing = {
        label: scores[label] - threshold
        for label, threshold in thresholds.items()
        if scores[label] >= threshold
    }
    if not passing:
        return negative_label
    return max(passing, key=lambda label: passing[label])
