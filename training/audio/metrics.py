"""Clip-level quality figures: per-class precision, recall, F1, ROC AUC, confusion
matrix, and the false alarms on negative clips that matter most in a bedroom.

All functions take numpy arrays; clip scores are the highest window
probability of each class (see :mod:`sensing.audio.decision`).
"""

from __future__ import annotations

import numpy as np

FIXED_FPR = 0.01
"""False-positive rate at which ``recall_at_fixed_fpr`` is reported."""


def threshold_for_fpr(negative_scores: np.ndarray, fpr: float) -> float:
    """A threshold with at most ``fpr`` of ``negative_scores`` at or above it.

    With ``n`` negatives, ``floor(fpr * n)`` of them may pass. The threshold
    lies halfway between the highest negative score that must be rejected and
    the next higher score (or 1.0), so that the small differences between the
    Keras model the thresholds are calibrated on and the exported TFLite model
    do not move a negative across it. When the rejected score is 1.0 the
    threshold lies just above it and the label never fires.
    """
    ranked = np.sort(np.asarray(negative_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(fpr * ranked.size + 1e-9))
    if allowed >= ranked.size:
        return 0.0
    above = ranked[allowed - 1] if allowed > 0 else 1.0
    if above > ranked[allowed]:
        return float((ranked[allowed] + above) / 2)
    return float(np.nextafter(ranked[allowed], np.inf))


def decision_agreement(first: list[str], second: list[str]) -> float:
    """Share of clips given the same decision by two models, rounded to 4 places."""
    return round(float(np.mean(np.array(first) == np.array(second))), 4)


def roc_auc(scores: np.ndarray, is_positive: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    is_positive = np.asarray(is_positive, dtype=bool)
    n_pos, n_neg = int(is_positive.sum()), int((~is_positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(sorted_scores):
        tied = np.asarray(scores) == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def confusion_matrix(true: list[str], predicted: list[str], labels: tuple[str, ...]) -> list[list[int]]:
    """Rows: true label; columns: predicted label; in ``labels`` order."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(true, predicted):
        matrix[index[t], index[p]] += 1
    return matrix.tolist()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def clip_metrics(
    *,
    labels: tuple[str, ...],
    true: list[str],
    predicted: list[str],
    scores: np.ndarray,
    negative_label: str | None,
    categories: list[str],
    durations_s: np.ndarray,
) -> dict:
    """Every clip-level figure that goes into ``metrics.json``.

    Args:
        labels: class names in score-column order.
        true, predicted: one label per clip.
        scores: (clips, labels) clip scores.
        negative_label: the "neither" label, or None.
        categories: one category per clip (what a negative clip is).
        durations_s: each clip's duration in seconds.
    """
    true_array, predicted_array = np.array(true), np.array(predicted)
    per_class = {}
    for column, label in enumerate(labels):
        is_true, is_predicted = true_array == label, predicted_array == label
        hits = int(np.sum(is_true & is_predicted))
        precision = hits / is_predicted.sum() if is_predicted.any() else None
        recall = hits / is_true.sum() if is_true.any() else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision and recall
            else 0.0
            if recall is not None
            else None
        )  # never predicted: F1 0, as recall is 0
        per_class[label] = {
            "clips": int(is_true.sum()),
            "precision": _rounded(precision),
            "recall": _rounded(recall),
            "f1": _rounded(f1),
            "roc_auc": _rounded(roc_auc(scores[:, column], is_true)),
        }
    result = {
        "clips": len(true),
        "accuracy": _rounded(float(np.mean(true_array == predicted_array))),
        "per_class": per_class,
        "confusion_matrix": {
            "labels": list(labels),
            "rows_true_columns_predicted": confusion_matrix(true, predicted, labels),
        },
    }
    if negative_label is not None:
        result["negatives"] = negative_figures(
            labels=labels,
            true=true_array,
            predicted=predicted_array,
            scores=scores,
            negative_label=negative_label,
            categories=np.array(categories),
            durations_s=np.asarray(durations_s, dtype=np.float64),
        )
    return result


def negative_figures(
    *,
    labels: tuple[str, ...],
    true: np.ndarray,
    predicted: np.ndarray,
    scores: np.ndarray,
    negative_label: str,
    categories: np.ndarray,
    durations_s: np.ndarray,
) -> dict:
    """False alarms on negative clips: overall, per category, per hour, and recall at 1% FPR."""
    is_negative = true == negative_label
    false_alarm = is_negative & (predicted != negative_label)
    hours = durations_s[is_negative].sum() / 3600
    per_category = {}
    for category in sorted(set(categories[is_negative])):
        members = is_negative & (categories == category)
        per_category[category] = {
            "clips": int(members.sum()),
            "false_positives": int(false_alarm[members].sum()),
            "rate": _rounded(false_alarm[members].mean()),
        }
    recall_at_fpr = {}
    for column, label in enumerate(labels):
        if label == negative_label or not is_negative.any() or not (true == label).any():
            continue
        threshold = threshold_for_fpr(scores[is_negative, column], FIXED_FPR)
        recall_at_fpr[label] = {
            "threshold": _rounded(threshold),
            "recall": _rounded(np.mean(scores[true == label, column] >= threshold)),
        }
    return {
        "definition": (
            "a negative clip is a false positive when the clip decision names a target "
            "label; per hour counts those clips per hour of negative audio"
        ),
        "clips": int(is_negative.sum()),
        "hours": round(float(hours), 3),
        "false_positives": int(false_alarm.sum()),
        "false_positive_rate": _rounded(false_alarm[is_negative].mean()) if is_negative.any() else None,
        "false_positives_per_hour": _rounded(false_alarm.sum() / hours) if hours > 0 else None,
        "per_category": per_category,
        f"recall_at_{FIXED_FPR:.0%}_fpr": recall_at_fpr,
    }
