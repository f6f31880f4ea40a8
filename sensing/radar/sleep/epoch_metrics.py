"""Epoch-by-epoch agreement between true and predicted labels of one night.

:func:`compare_epochs` gives, for two label sequences of the same night
(labels from :data:`~sensing.radar.recording.EPOCH_LABELS`):

- ``accuracy``: share of epochs with the same label;
- ``kappa``: Cohen's kappa over the three labels, (p_o - p_e) / (1 - p_e), where
  p_o is the accuracy and p_e the agreement expected by chance from the two
  label frequencies. When both sequences are one and the same label
  throughout, p_e is 1 and kappa is 0/0; it is then defined as 1 (perfect agreement);
- ``confusion``: 3x3 epoch counts, rows the truth and columns the prediction,
  both in the order of ``labels`` (EPOCH_LABELS);
- ``sleep_sensitivity``: true asleep epochs predicted asleep / true asleep
  epochs, the sensitivity of sleep-wake scoring;
- ``wake_specificity``: true awake epochs predicted awake / true awake epochs,
  the specificity of sleep-wake scoring restricted to epochs in bed: an awake
  epoch predicted absent counts as missed, as much as one predicted asleep;
- ``absent_recall``: true absent epochs predicted absent / true absent epochs;
- ``tst_bias_min``, ``waso_bias_min``: predicted minus true total sleep time and
  wake after sleep onset in minutes, from :func:`~sensing.radar.sleep.summary.summarise_night`
  of each sequence (positive: the prediction overestimates);
- ``truth``, ``predicted``: those two summaries as dicts.

A ratio whose denominator is 0 (no true asleep epoch, say) is None, and so is
the WASO bias when either sequence has no sleep onset. Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sensing.errors import RadarError
from sensing.radar.recording import EPOCH_LABELS, EPOCH_S
from sensing.radar.sleep.summary import (
    ABSENT,
    ASLEEP,
    AWAKE,
    label_indices,
    summarise_night,
)


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(3, 3) int64 epoch counts from (epochs,) label indices: rows truth, columns predicted."""
    size = len(EPOCH_LABELS)
    return np.bincount(truth * size + predicted, minlength=size * size).reshape(size, size)


def cohen_kappa(confusion: np.ndarray) -> float:
    """Cohen's kappa of a square confusion matrix of counts (1 when both raters use one same label)."""
    total = confusion.sum()
    observed = np.trace(confusion) / total
    expected = float(confusion.sum(axis=1) @ confusion.sum(axis=0)) / total**2
    if expected == 1.0:
        return 1.0
    return float((observed - expected) / (1.0 - expected))


def _recall(confusion: np.ndarray, state: int) -> float | None:
    """Share of the true ``state`` epochs predicted ``state``, or None when there are none."""
    count = confusion[state].sum()
    return float(confusion[state, state] / count) if count else None


def _agreement(confusion: np.ndarray) -> dict[str, Any]:
    """Epochs, labels, accuracy, kappa, confusion and the three recalls of a confusion matrix."""
    return {
        "epochs": int(confusion.sum()),
        "labels": list(EPOCH_LABELS),
        "accuracy": float(np.trace(confusion) / confusion.sum()),
        "kappa": cohen_kappa(confusion),
        "confusion": confusion.tolist(),
        "sleep_sensitivity": _recall(confusion, ASLEEP),
        "wake_specificity": _recall(confusion, AWAKE),
        "absent_recall": _recall(confusion, ABSENT),
    }


def compare_epochs(
    truth: Sequence[str], predicted: Sequence[str], *, epoch_s: float = EPOCH_S
) -> dict[str, Any]:
    """Agreement of predicted labels with the truth, epoch by epoch (fields in the module docstring).

    Args:
        truth: (epochs,) true labels from EPOCH_LABELS.
        predicted: (epochs,) predicted labels of the same epochs.
        epoch_s: length of one epoch in seconds, for the biases.

    Raises:
        RadarError: no epochs, an unknown label, or sequences of different lengths.
    """
    true_states = label_indices(truth, name="truth")
    predicted_states = label_indices(predicted, name="predicted")
    if len(true_states) != len(predicted_states):
        raise RadarError(
            f"truth has {len(true_states)} epochs but predicted has {len(predicted_states)}: "
            f"compare the labels of the same epochs"
        )
    confusion = confusion_matrix(true_states, predicted_states)
    true_summary = summarise_night(truth, epoch_s=epoch_s)
    predicted_summary = summarise_night(predicted, epoch_s=epoch_s)
    true_waso = true_summary.wake_after_sleep_onset_min
    predicted_waso = predicted_summary.wake_after_sleep_onset_min
    return {
        **_agreement(confusion),
        "tst_bias_min": predicted_summary.total_sleep_min - true_summary.total_sleep_min,
        "waso_bias_min": (
            None if true_waso is None or predicted_waso is None else predicted_waso - true_waso
        ),
        "truth": true_summary.to_dict(),
        "predicted": predicted_summary.to_dict(),
    }


def compare_nights(
    nights: Sequence[tuple[Sequence[str], Sequence[str]]], *, epoch_s: float = EPOCH_S
) -> dict[str, Any]:
    """Agreement pooled over several nights of (truth, predicted) labels.

    Accuracy, kappa, the confusion matrix and the three recalls come from the
    epochs of every night pooled; the biases are per night, reported as their
    median and the largest in absolute value (``tst_bias_min``,
    ``tst_bias_max_abs_min``, ``waso_bias_min``, ``waso_bias_max_abs_min``; WASO
    over nights where both have a sleep onset, None when none has).

    Raises:
        RadarError: no nights, or a night as :func:`compare_epochs` refuses it.
    """
    if not nights:
        raise RadarError("no nights to compare")
    per_night = [compare_epochs(truth, predicted, epoch_s=epoch_s) for truth, predicted in nights]
    confusion = np.sum([night["confusion"] for night in per_night], axis=0)
    tst = [night["tst_bias_min"] for night in per_night]
    waso = [night["waso_bias_min"] for night in per_night if night["waso_bias_min"] is not None]
    return {
        "nights": len(per_night),
        **_agreement(confusion),
        "tst_bias_min": float(np.median(tst)),
        "tst_bias_max_abs_min": float(max(tst, key=abs)),
        "waso_bias_min": float(np.median(waso)) if waso else None,
        "waso_bias_max_abs_min": float(max(waso, key=abs)) if waso else None,
    }
