"""Sleep summary, epoch agreement, HMM smoothing and hypnogram on hand-built nights.

Every expected number is worked out by hand from the labels in the comments
(epochs are 30 s, so one epoch is 0.5 min).
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

from sensing.errors import RadarError, SensingError
from sensing.radar.recording import EPOCH_LABELS
from sensing.radar.sleep.epoch_metrics import compare_epochs
from sensing.radar.sleep.hypnogram import plot_hypnogram
from sensing.radar.sleep.smoothing import (
    DEFAULT_TRANSITIONS,
    SmoothingSettings,
    smooth_epochs,
    smoothed_posteriors,
    viterbi,
)
from sensing.radar.sleep.summary import summarise_night

# Epochs 0-3 absent, 4-9 awake, 10-19 asleep, 20-21 awake, 22-29 asleep, 30-31 absent (a bathroom
# trip), 32 awake, 33-38 asleep, 39-41 awake, 42-46 absent: 47 epochs.
NIGHT = (
    ["absent"] * 4
    + ["awake"] * 6
    + ["asleep"] * 10
    + ["awake"] * 2
    + ["asleep"] * 8
    + ["absent"] * 2
    + ["awake"]
    + ["asleep"] * 6
    + ["awake"] * 3
    + ["absent"] * 5
)

ROWS = {"absent": [0.90, 0.08, 0.02], "awake": [0.03, 0.90, 0.07], "asleep": [0.05, 0.10, 0.85]}
"""A classifier's output for an epoch of each label, columns in the order of EPOCH_LABELS."""


def test_summary_of_an_ordinary_night():
    summary = summarise_night(NIGHT)
    assert summary.to_dict() == pytest.approx(
        {
            "epochs": 47,
            "epoch_s": 30.0,
            "recording_min": 23.5,
            "bedtime_min": 2.0,  # epoch 4
            "rise_time_min": 21.0,  # end of epoch 41
            "sleep_onset_min": 5.0,  # epoch 10
            "wake_time_min": 19.5,  # end of epoch 38
            "time_in_bed_min": 19.0,  # epochs 4-41: 38 epochs
            "absent_in_bed_min": 1.0,  # epochs 30-31
            "total_sleep_min": 12.0,  # 10 + 8 + 6 epochs
            "sleep_onset_latency_min": 3.0,  # epochs 4-9
            "wake_after_sleep_onset_min": 2.5,  # epochs 20, 21, 30, 31, 32
            "sleep_efficiency": 12.0 / 19.0,
            "awakenings": 2,  # epochs 20-21 and 30-32 (absent then awake is one)
            "breathing_rate_bpm": None,
            "note": "",
        }
    )
    # TIB = SOL + TST + WASO + the wake after the final awakening (epochs 39-41).
    assert 3.0 + 12.0 + 2.5 + 1.5 == summary.time_in_bed_min


def test_awakenings_shorter_than_the_minimum_are_not_counted_but_stay_in_waso():
    summary = summarise_night(NIGHT, min_awakening_epochs=3)
    assert summary.awakenings == 1  # only epochs 30-32
    assert summary.wake_after_sleep_onset_min == 2.5


def test_sleep_onset_needs_a_run_of_onset_epochs():
    # 0 awake, 1 asleep, 2-3 awake, 4-6 asleep, 7 awake.
    labels = ["awake", "asleep", "awake", "awake", "asleep", "asleep", "asleep", "awake"]
    first = summarise_night(labels)
    assert (
        first.sleep_onset_latency_min,
        first.total_sleep_min,
        first.wake_after_sleep_onset_min,
        first.awakenings,
        first.wake_time_min,
        first.sleep_efficiency,
    ) == (0.5, 2.0, 1.0, 1, 3.5, 0.5)
    persistent = summarise_night(labels, onset_epochs=3)
    assert (
        persistent.sleep_onset_latency_min,
        persistent.total_sleep_min,
        persistent.wake_after_sleep_onset_min,
        persistent.awakenings,
    ) == (2.0, 2.0, 0.0, 0)


def test_breathing_rate_is_the_median_over_asleep_epochs_with_a_rate():
    labels = ["awake", "asleep", "asleep", "asleep", "asleep", "awake"]
    rates = [22.0, 14.0, None, 13.0, float("nan"), 25.0]
    assert summarise_night(labels, breathing_rate_per_epoch=rates).breathing_rate_bpm == 13.5
    unknown = [22.0, None, None, float("nan"), None, 25.0]
    assert summarise_night(labels, breathing_rate_per_epoch=unknown).breathing_rate_bpm is None
    with pytest.raises(RadarError, match="5 values for 6 epochs"):
        summarise_night(labels, breathing_rate_per_epoch=rates[:5])


def test_a_night_all_asleep():
    summary = summarise_night(["asleep"] * 10)
    assert (
        summary.time_in_bed_min,
        summary.total_sleep_min,
        summary.sleep_onset_latency_min,
        summary.wake_after_sleep_onset_min,
        summary.sleep_efficiency,
        summary.awakenings,
        summary.bedtime_min,
        summary.wake_time_min,
    ) == (5.0, 5.0, 0.0, 0.0, 1.0, 0, 0.0, 5.0)
    assert summarise_night(["asleep"] * 10, epoch_s=60.0).total_sleep_min == 10.0


def test_a_night_in_bed_without_sleep():
    summary = summarise_night(["absent", "awake", "awake", "awake", "absent"])
    assert (
        summary.time_in_bed_min,
        summary.total_sleep_min,
        summary.sleep_efficiency,
        summary.awakenings,
        summary.bedtime_min,
        summary.rise_time_min,
    ) == (1.5, 0.0, 0.0, 0, 0.5, 2.0)
    assert summary.sleep_onset_latency_min is None
    assert summary.wake_after_sleep_onset_min is None and summary.wake_time_min is None
    assert "no sleep onset" in summary.note


def test_a_night_never_in_bed():
    summary = summarise_night(["absent"] * 4)
    assert (summary.time_in_bed_min, summary.total_sleep_min, summary.awakenings) == (0.0, 0.0, 0)
    assert all(
        value is None
        for value in (
            summary.sleep_efficiency,
            summary.sleep_onset_latency_min,
            summary.wake_after_sleep_onset_min,
            summary.bedtime_min,
            summary.wake_time_min,
            summary.breathing_rate_bpm,
        )
    )
    assert "never in bed" in summary.note


def test_unknown_labels_and_bad_parameters_are_named():
    with pytest.raises(RadarError, match="epoch 2 has label 'sleeping'"):
        summarise_night(["awake", "asleep", "sleeping"])
    with pytest.raises(RadarError, match="no epochs"):
        summarise_night([])
    with pytest.raises(RadarError, match="onset_epochs"):
        summarise_night(["asleep"], onset_epochs=0)
    with pytest.raises(RadarError, match="epoch_s"):
        summarise_night(["asleep"], epoch_s=0)


def test_kappa_and_rates_match_a_hand_computation():
    truth = ["absent"] * 3 + ["awake"] * 3 + ["asleep"] * 4
    predicted = [
        "absent",
        "absent",
        "awake",
        "awake",
        "asleep",
        "asleep",
        "asleep",
        "awake",
        "asleep",
        "asleep",
    ]
    result = compare_epochs(truth, predicted)
    assert result["labels"] == list(EPOCH_LABELS)
    assert result["confusion"] == [[2, 1, 0], [0, 1, 2], [0, 1, 3]]
    # p_o = 6/10; rows 3, 3, 4 and columns 2, 3, 5 give p_e = (6 + 9 + 20) / 100 = 0.35.
    assert result["accuracy"] == pytest.approx(0.6)
    assert result["kappa"] == pytest.approx((0.6 - 0.35) / (1 - 0.35))
    assert result["sleep_sensitivity"] == pytest.approx(3 / 4)
    assert result["wake_specificity"] == pytest.approx(1 / 3)
    assert result["absent_recall"] == pytest.approx(2 / 3)
    # Predicted sleep: epochs 4, 5, 6, 8, 9 (2.5 min) against 6-9 (2.0 min); predicted WASO is
    # epoch 7 (0.5 min) against none.
    assert result["tst_bias_min"] == pytest.approx(0.5)
    assert result["waso_bias_min"] == pytest.approx(0.5)


def test_perfect_agreement_gives_kappa_one_and_no_bias():
    result = compare_epochs(NIGHT, list(NIGHT))
    assert (result["accuracy"], result["kappa"], result["tst_bias_min"], result["waso_bias_min"]) == (
        1.0,
        1.0,
        0.0,
        0.0,
    )
    assert compare_epochs(["asleep"] * 5, ["asleep"] * 5)["kappa"] == 1.0
    assert compare_epochs(["absent"] * 5, ["absent"] * 5)["waso_bias_min"] is None


def test_compare_epochs_rejects_unknown_labels_and_length_mismatch():
    with pytest.raises(RadarError, match="truth has 3 epochs but predicted has 2"):
        compare_epochs(["awake", "asleep", "asleep"], ["awake", "asleep"])
    with pytest.raises(RadarError, match="predicted: epoch 1 has label 'Asleep'"):
        compare_epochs(["awake", "asleep"], ["awake", "Asleep"])


def _probabilities(labels):
    return np.array([ROWS[label] for label in labels])


def test_hmm_ignores_one_noisy_epoch_but_keeps_a_sustained_awakening():
    noisy = ["asleep"] * 30 + ["awake"] + ["asleep"] * 30
    assert smooth_epochs(_probabilities(noisy)) == ["asleep"] * 61
    confident = _probabilities(noisy)
    confident[30] = [0.01, 0.98, 0.01]
    assert smooth_epochs(confident) == ["asleep"] * 61
    sustained = ["asleep"] * 30 + ["awake"] * 3 + ["asleep"] * 30
    assert smooth_epochs(_probabilities(sustained)) == sustained
    longer = SmoothingSettings(min_awakening_epochs=4)
    assert smooth_epochs(_probabilities(sustained), longer) == ["asleep"] * 63


def test_hmm_keeps_a_trip_out_of_bed():
    trip = ["asleep"] * 30 + ["awake"] + ["absent"] * 4 + ["awake"] + ["asleep"] * 30
    assert smooth_epochs(_probabilities(trip)) == trip


def test_viterbi_finds_the_best_path_of_all():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(3), size=5)
    prior = np.array([0.2, 0.3, 0.5])
    transitions = np.array(DEFAULT_TRANSITIONS)
    emissions = probabilities / prior

    def likelihood(path):
        value = prior[path[0]] * emissions[0, path[0]]
        for epoch in range(1, len(path)):
            value *= transitions[path[epoch - 1], path[epoch]] * emissions[epoch, path[epoch]]
        return value

    best = max(itertools.product(range(3), repeat=5), key=likelihood)
    assert viterbi(probabilities, transitions, prior) == [EPOCH_LABELS[state] for state in best]


def test_without_memory_smoothing_returns_the_classifier_output():
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(3), size=20)
    prior = np.array([0.2, 0.3, 0.5])
    memoryless = np.tile(prior, (3, 1))
    np.testing.assert_allclose(
        smoothed_posteriors(probabilities, memoryless, prior), probabilities, atol=1e-9
    )
    assert viterbi(probabilities, memoryless, prior) == [EPOCH_LABELS[i] for i in probabilities.argmax(1)]
    smoothed = smoothed_posteriors(
        _probabilities(["asleep"] * 10 + ["awake"] + ["asleep"] * 10), DEFAULT_TRANSITIONS, [1 / 3] * 3
    )
    np.testing.assert_allclose(smoothed.sum(axis=1), 1.0)
    assert smoothed[10].argmax() == EPOCH_LABELS.index("asleep")


def test_smoothing_rejects_malformed_input():
    with pytest.raises(RadarError, match="shape"):
        smooth_epochs(np.ones((5, 2)))
    with pytest.raises(RadarError, match="epoch 1"):
        smooth_epochs([[0.1, 0.2, 0.7], [np.nan, 0.5, 0.5]])
    with pytest.raises(RadarError, match="sum to 1"):
        SmoothingSettings(transitions=((0.5, 0.5, 0.5),) * 3)
    with pytest.raises(RadarError, match="prior"):
        SmoothingSettings(prior=(0.5, 0.5, 0.0))


def test_hypnogram_png_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    predicted = smooth_epochs(_probabilities(NIGHT))
    path = plot_hypnogram(
        predicted,
        tmp_path / "plots" / "hypnogram.png",
        truth=NIGHT,
        probabilities=_probabilities(NIGHT),
        title="test night",
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_hypnogram(NIGHT, tmp_path / "plain.png").is_file()
    with pytest.raises(RadarError, match="truth has 2 epochs"):
        plot_hypnogram(NIGHT, tmp_path / "bad.png", truth=["awake", "asleep"])


def test_hypnogram_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SensingError, match=r"pip install 'sensing\[plot\]'"):
        plot_hypnogram(NIGHT, tmp_path / "hypnogram.png")
