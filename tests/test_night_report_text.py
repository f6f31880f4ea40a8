"""The sleep and night summaries as people read them: rounded numbers, plurals, clock times, and
why the night's cough count differs from the audio's."""

from __future__ import annotations

import datetime

from sensing.night.report_text import night_headline, night_lines
from sensing.plotting import Timeline
from sensing.radar.sleep.summary import headline, summarise_night, summary_lines
from sensing.wording import duration, per_hour, plural

START = datetime.datetime(2024, 3, 1, 23, 10)


def test_numbers_are_rounded_for_reading():
    assert per_hour(105.7432) == "105.7"
    assert duration(0.016666666666666666 * 3600) == "1 min"
    assert [duration(s) for s in (0.8, 30, 990, 3600, 22320)] == [
        "0.8 s",
        "30 s",
        "17 min",
        "1 h",
        "6 h 12 min",
    ]
    assert [plural(n, "episode") for n in (0, 1, 2)] == ["no episodes", "1 episode", "2 episodes"]


def test_the_sleep_summary_reads_as_an_answer_with_clock_times():
    labels = ["absent", "awake", "asleep", "asleep", "awake", "asleep", "asleep", "absent"]
    summary = summarise_night(labels)
    assert headline(summary) == "slept 2 min of 3 min in bed (67%), 1 awakening"
    lines = summary_lines(summary, start=START)
    assert lines[1] == "in bed 23:10 to 23:13, asleep at 23:11"
    assert headline(summarise_night(["absent"] * 4)) == "nobody in bed in the 2 min recorded"
    assert headline(summarise_night(["absent", "awake", "awake"])) == "in bed 1 min, no sleep"


def _report(**changes) -> dict:
    summary = summarise_night(["absent"] + ["asleep"] * 718 + ["awake"]).to_dict()
    report = {
        "gate": "in-bed",
        "start_time": START.isoformat(),
        "sleep": summary,
        "coughs_heard": 12,
        "coughs_dropped_by_state": {"absent": 2, "no radar epoch": 1},
        "combined": {
            "coughs": 9,
            "coughs_asleep": 5,
            "total_sleep_h": 5.98333,
            "coughs_per_hour_asleep": 0.835654,
            "snore_minutes_asleep": 34.26,
            "snore_episodes_asleep": 1,
            "snore_minutes": 40.1,
        },
        "audio_before_gating": {"cough_count": 12, "snore_minutes": 40.1},
        "audio_overlap": {"audio_s": 600.0, "radar_s": 21600.0, "overlap_s": 600.0},
        "warnings": [],
    }
    return report | changes


def test_the_night_says_how_many_coughs_were_heard_and_how_many_counted():
    assert night_headline(_report()) == (
        "12 coughs heard, 9 while in bed; 34 min of snoring while asleep\n"
        "slept 5 h 59 min of 6 h in bed (100%), no awakenings"
    )
    lines = night_lines(_report())
    assert lines[1] == "in bed 23:10 to 05:10, asleep at 23:10"
    assert lines[-2] == (
        "coughs: 12 heard, 9 while in bed (3 not counted: 2 while out of bed, 1 outside the radar night); "
        "5 while asleep, 0.8 per hour of sleep (over 5 h 59 min of sleep heard)"
    )
    assert lines[-1] == "snoring: 34 min while asleep in 1 episode (40 min heard in all)"


def test_a_night_mostly_outside_the_radar_says_so_in_its_title():
    overlap = {"audio_s": 600.0, "radar_s": 1800.0, "overlap_s": 60.0}
    title = night_headline(_report(warnings=["only 10% ..."], audio_overlap=overlap))
    assert title.endswith("\n(only 10% of the audio overlaps the radar night)")


def test_time_axes_read_in_clock_time_minutes_or_hours_never_fractions():
    clock = Timeline(length_min=30, start=START)
    assert [clock.tick_text(m) for m in clock.ticks(0, 30)] == [
        f"23:{m}" for m in (10, 15, 20, 25, 30, 35, 40)
    ]
    late = Timeline(length_min=480, start=datetime.datetime(2024, 3, 1, 22, 47))
    assert [late.tick_text(m) for m in late.ticks(0, 480)] == ["23:00", *(f"0{h}:00" for h in range(7))]
    short = Timeline(length_min=30)
    assert short.label == "minutes from the start" and short.ticks(0, 30)[:3] == [0, 5, 10]
    night = Timeline(length_min=480)
    assert [night.tick_text(m) for m in night.ticks(0, 480)] == [f"{h}:00" for h in range(9)]
