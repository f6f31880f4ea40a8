"""Clip-decision thresholds calibrated on validation groups for a stated false-positive rate.

Each target label gets the lowest threshold at which at most
``target_fpr / number_of_targets`` of the validation negative clips score at
or above it, so that the chance of a negative clip being called any target
stays within ``target_fpr``. Clip scores use the same highest-window rule as
the runtime, so long clips' extra chances are already in the count.
"""

from __future__ import annotations

import numpy as np

from sensing.errors import DataError
from training.audio.metrics import threshold_for_fpr


def calibrate_thresholds(
    *, labels: tuple[str, ...], true: list[str], scores: np.ndarray, negative_label: str, target_fpr: float
) -> dict[str, float]:
    """Per target label, the clip-score threshold (see the module docstring).

    Args:
        labels: class names in score-column order.
        true: each validation clip's label.
        scores: (clips, labels) clip scores.
        negative_label: the "neither" label.
        target_fpr: allowed share of negative clips called a target, in (0, 1).
    """
    if not 0 < target_fpr < 1:
        raise DataError(f"target false-positive rate must be in (0, 1), got {target_fpr}")
    is_negative = np.array(true) == negative_label
    if not is_negative.any():
        raise DataError(f"no validation clips labeled '{negative_label}' to calibrate thresholds on")
    targets = [label for label in labels if label != negative_label]
    per_target = target_fpr / len(targets)
    return {
        label: threshold_for_fpr(scores[is_negative, labels.index(label)], per_target) for label in targets
    }
