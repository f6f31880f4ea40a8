"""Thresholds hold the stated false-positive rate; figures match hand-computed values."""

import numpy as np
import pytest

from sensing.audio.decision import clip_scores, decide
from training.audio.calibration import calibrate_thresholds
from training.audio.metrics import clip_metrics, roc_auc, threshold_for_fpr


def test_threshold_lets_through_at_most_the_stated_share():
    negatives = np.linspace(0, 1, 200)
    threshold = threshold_for_fpr(negatives, 0.01)
    assert np.sum(negatives >= threshold) == 2
    assert threshold_for_fpr(negatives, 0.001) > 1.0 - 1e-9


def test_roc_auc_known_values():
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1])) == 1.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    assert roc_auc(np.array([0.1, 0.2]), np.array([1, 1])) is None


def test_calibrated_thresholds_keep_negatives_within_the_target():
    rng = np.random.default_rng(0)
    labels = ("cough", "other", "snore")
    true = ["other"] * 500 + ["cough"] * 50 + ["snore"] * 50
    scores = rng.dirichlet([1, 1, 1], size=len(true))
    thresholds = calibrate_thresholds(
        labels=labels, true=true, scores=scores, negative_label="other", target_fpr=0.02
    )
    decisions = [
        decide(dict(zip(labels, row)), thresholds=thresholds, negative_label="other") for row in scores
    ]
    false_alarms = sum(d != "other" for t, d in zip(true, decisions) if t == "other")
    assert false_alarms <= 0.02 * 500


def test_clip_decision_uses_the_highest_window_and_the_thresholds():
    windows = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1]])
    scores = clip_scores(windows, ("cough", "other", "snore"))
    assert scores == pytest.approx({"cough": 0.7, "other": 0.8, "snore": 0.1})
    assert decide(scores, thresholds={"cough": 0.6, "snore": 0.5}, negative_label="other") == "cough"
    assert decide(scores, thresholds={"cough": 0.75, "snore": 0.5}, negative_label="other") == "other"
    assert decide(scores, thresholds={}, negative_label=None) == "other"


def test_negative_figures_per_category_and_per_hour():
    labels = ("cough", "other")
    true = ["other"] * 4 + ["cough"] * 2
    predicted = ["cough", "other", "other", "other", "cough", "other"]
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7], [0.95, 0.05], [0.4, 0.6]])
    metrics = clip_metrics(
        labels=labels,
        true=true,
        predicted=predicted,
        scores=scores,
        negative_label="other",
        categories=["knock", "knock", "speech", "speech", "cough", "cough"],
        durations_s=np.full(6, 900.0),
    )
    negatives = metrics["negatives"]
    assert negatives["false_positives"] == 1 and negatives["false_positive_rate"] == 0.25
    assert negatives["false_positives_per_hour"] == 1.0
    assert negatives["per_category"]["knock"] == {"clips": 2, "false_positives": 1, "rate": 0.5}
    assert metrics["per_class"]["cough"]["recall"] == 0.5
    assert metrics["per_class"]["cough"]["precision"] == 0.5
    assert metrics["confusion_matrix"]["rows_true_columns_predicted"] == [[1, 1], [1, 3]]
