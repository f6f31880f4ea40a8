"""Thresholds set so that one model (fast LEAF, pruned) decides as another (exact LEAF, dense) does."""

import numpy as np
import pytest

from training.audio.agreement import matching_threshold, matching_thresholds
from training.audio.metrics import decision_agreement


def test_a_monotone_change_of_scores_is_matched_exactly():
    rng = np.random.default_rng(0)
    exact = rng.uniform(size=500)
    fast = exact**2
    threshold = matching_threshold(fast, exact >= 0.7)
    assert fast[exact < 0.7].max() < threshold < fast[exact >= 0.7].min()
    assert np.array_equal(fast >= threshold, exact >= 0.7)


def test_noisy_scores_agree_more_than_a_threshold_set_on_their_own():
    rng = np.random.default_rng(1)
    exact = rng.uniform(size=2000)
    fast = np.clip(exact * 0.8 + rng.normal(0, 0.03, size=exact.size), 0, 1)
    fires = exact >= 0.9
    matched = matching_threshold(fast, fires)
    same_share_of_clips = np.quantile(fast, 0.9)
    assert np.mean((fast >= matched) == fires) >= np.mean((fast >= same_share_of_clips) == fires)
    assert 0.69 < matched < 0.75  # 0.8 * 0.9, moved by the noise at most a little


@pytest.mark.parametrize(("fires", "expected"), [(True, 0.0), (False, np.nextafter(0.9, 1))])
def test_every_or_no_clip_firing(fires, expected):
    scores = np.array([0.1, 0.5, 0.9])
    assert matching_threshold(scores, np.full(3, fires)) == expected


def test_thresholds_per_label_and_agreement_share():
    labels = ("cough", "other", "snore")
    exact = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7], [0.6, 0.2, 0.2]])
    fast = exact * 0.5
    thresholds = matching_thresholds(fast, exact, {"cough": 0.5, "snore": 0.5}, labels)
    assert set(thresholds) == {"cough", "snore"}
    assert 0.1 < thresholds["cough"] < 0.3 and 0.1 < thresholds["snore"] < 0.35
    assert decision_agreement(["cough", "other", "snore"], ["cough", "snore", "snore"]) == pytest.approx(
        2 / 3, abs=1e-4
    )


def test_float32_scores_fall_on_the_intended_side():
    scores = np.array([0.1, 0.5, 0.9], dtype=np.float32)
    assert not (scores >= matching_threshold(scores, np.zeros(3, dtype=bool))).any()
    neighbours = np.array([0.5, np.nextafter(np.float32(0.5), np.float32(1))], dtype=np.float32)
    threshold = matching_threshold(neighbours, np.array([False, True]))
    assert list(neighbours >= threshold) == [False, True]
