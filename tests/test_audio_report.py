"""A night's audio report in words and in report.png: numbers rounded for reading, singular and
plural, bins that fit the night's length, clock time when the start is known."""

import datetime
from pathlib import Path

import pytest

from sensing.audio.report_plot import bin_seconds, per_bin
from sensing.audio.report_text import detect_lines, night_answer
from sensing.wording import duration, plural


def _report(**values) -> dict:
    """A ``report.json`` of ``sensing detect`` with the fields the words are made of."""
    report: dict = {
        "duration_s": 8 * 3600.0,
        "cough_count": 846,
        "snore_minutes": 47.3,
        "snore_episodes": 2,
        "start_time": None,
        "stopped_by": None,
        "processing_s": 41.73,
        "real_time_factor": 690.2,
        "model": {"backend": "ai_edge_litert"},
        "input_warnings": [],
        "events": [],
    }
    return report | values


@pytest.mark.parametrize(
    "seconds, text",
    [(0.4, "0.4 s"), (40, "40 s"), (60, "1 min"), (0.016666666666666666 * 3600, "1 min"), (1022, "17 min")]
    + [(22320, "6 h 12 min"), (25200, "7 h")],
)
def test_durations_read_in_seconds_minutes_and_hours(seconds, text):
    assert duration(seconds) == text


def test_one_and_many():
    assert [plural(n, "episode") for n in (0, 1, 2)] == ["no episodes", "1 episode", "2 episodes"]


def test_what_detect_prints_is_rounded_for_reading():
    lines = detect_lines(_report(cough_count=846, duration_s=8 * 3600.0), Path("out"))
    assert lines[:3] == [
        "8 h of audio in 41.7 s (690 times real time) on ai_edge_litert",
        "coughs: 846 (105.8 per hour)",
        "snoring: 47 min in 2 episodes",
    ]
    one = detect_lines(
        _report(duration_s=600.0, cough_count=1, snore_minutes=0.4, snore_episodes=1), Path("o")
    )
    assert one[1:3] == ["coughs: 1", "snoring: 24 s in 1 episode"]


def test_the_answer_carries_clock_times_when_the_start_is_known():
    assert night_answer(_report()) == "846 coughs, 47 min of snoring in 2 episodes in 8 h"
    start = datetime.datetime(2024, 3, 1, 23, 10).isoformat()
    night = _report(start_time=start, cough_count=1, snore_episodes=0, snore_minutes=0.0, duration_s=27000.0)
    assert night_answer(night) == "1 cough, no snoring in 7 h 30 min (23:10-06:40)"


@pytest.mark.parametrize(
    "minutes, bin_minutes", [(2, 1), (10, 1), (30, 5), (60, 5), (100, 5), (180, 15), (8 * 60, 60)]
)
def test_bins_fit_the_night(minutes, bin_minutes):
    assert bin_seconds(minutes * 60) == bin_minutes * 60


def test_snoring_is_split_across_the_bins_it_spans():
    events = [
        {"label": "cough", "start_s": 10.0, "end_s": 10.3},
        {"label": "cough", "start_s": 299.0, "end_s": 299.3},
        {"label": "snore", "start_s": 240.0, "end_s": 420.0},
    ]
    coughs, snore_min = per_bin(events, duration_s=600.0, bin_s=300.0)
    assert coughs.tolist() == [2, 0]
    assert snore_min.tolist() == pytest.approx([1.0, 2.0])
