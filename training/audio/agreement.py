"""Thresholds that make one model decide as another does: a fast LEAF model as the exact one, a
pruned model as the dense model it came from.

Calibrated on its own, each model gets the thresholds at which ``target_fpr`` of the validation
negatives pass, and the few negatives near those thresholds move them: two models that rank clips
alike can still decide differently. Here the follower's threshold for each target label is
instead the one at which "its score at or above it" agrees with the reference model's own
decision for that label on the most validation clips; the reference model's thresholds stay as
calibrated.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ReferenceDecisions:
    """What a follower's thresholds are matched to: the reference model's scores of the
    calibration clips and its own thresholds.

    Attributes:
        scores: (clips, labels) the reference model's scores of the clips the follower's
            thresholds are set on, in the same order.
        thresholds: the reference model's threshold per target label.
    """

    scores: np.ndarray
    thresholds: dict[str, float]


def matching_threshold(fast_scores: np.ndarray, exact_fires: np.ndarray) -> float:
    """The threshold on ``fast_scores`` whose verdicts agree with ``exact_fires`` most often.

    Args:
        fast_scores: (clips,) one label's clip scores of the follower (the fast or pruned
            model), in [0, 1].
        exact_fires: (clips,) whether the reference (exact or dense) model's score reached its
            threshold.

    Among equally good thresholds, the median of them is taken, halfway between the two
    scores it falls between (0.0 when every clip should fire, just above the highest score when
    none should). It is worked out in the scores' own precision (float32 scores get a float32
    threshold), so that no clip lands on the wrong side of it by rounding.
    """
    order = np.argsort(fast_scores, kind="stable")
    ranked = np.asarray(fast_scores)[order]
    fires = np.asarray(exact_fires, dtype=bool)[order]
    # Threshold just above the k lowest scores (k = 0..n): those k clips do not fire.
    quiet_below = np.concatenate([[0], np.cumsum(~fires)])
    firing_above = np.concatenate([np.cumsum(fires[::-1])[::-1], [0]])
    agreement = quiet_below + firing_above
    # Only cuts between different scores are thresholds.
    valid = np.ones(ranked.size + 1, dtype=bool)
    valid[1:-1] = ranked[1:] > ranked[:-1]
    agreement = np.where(valid, agreement, -1)
    best = np.flatnonzero(agreement == agreement.max())
    cut = int(best[len(best) // 2])
    if cut == 0:
        return 0.0
    if cut == ranked.size:
        return float(np.nextafter(ranked[-1], np.inf))
    below, above = ranked[cut - 1], ranked[cut]
    halfway = (below + above) / 2
    return float(halfway if halfway > below else above)


def matching_thresholds(
    fast_scores: np.ndarray,
    exact_scores: np.ndarray,
    exact_thresholds: dict[str, float],
    labels: tuple[str, ...],
) -> dict[str, float]:
    """Per target label (the keys of ``exact_thresholds``), :func:`matching_threshold` on the
    validation clips.

    Args:
        fast_scores, exact_scores: (clips, labels) clip scores of the same clips, columns in
            ``labels`` order.
    """
    return {
        label: matching_threshold(
            fast_scores[:, labels.index(label)], exact_scores[:, labels.index(label)] >= threshold
        )
        for label, threshold in exact_thresholds.items()
    }
