"""Radar-gated coughs and snores on a hand-built night.

Every expected number is worked out by hand in the comments. Epochs are 30 s:
epoch k covers radar seconds [30 k, 30 k + 30).
"""

from __future__ import annotations

import copy
import sys

import pytest

from sensing.audio.events import COUGH, SNORE
from sensing.errors import RadarError, SensingError
from sensing.night.gating import (
    GATES,
    combined_summary,
    gate_events,
)
from sensing.night.plot import plot_combined_night

# Epochs 0-1 absent (0-60 s), 2 awake (60-90 s), 3-6 asleep (90-210 s), 7 awake (210-240 s),
# 8 absent (240-270 s): 9 epochs, 2 min asleep.
NIGHT = ["absent", "absent", "awake", "asleep", "asleep", "asleep", "asleep", "awake", "absent"]


def _event(label, start_s, end_s, score=0.9):
    return {"label": label, "start_s": start_s, "end_s": end_s, "score": score}


EVENTS = [
    _event(COUGH, 10.0, 10.4),  # 0: midpoint 10.2, epoch 0 absent
    _event(COUGH, 70.0, 70.4),  # 1: epoch 2 awake
    _event(SNORE, 80.0, 110.0),  # 2: midpoint 95, epoch 3 asleep; 10 s awake, 20 s asleep
    _event(COUGH, 100.0, 100.4),  # 3: epoch 3 asleep
    _event(COUGH, 200.0, 200.4),  # 4: epoch 6 asleep
    _event(SNORE, 200.0, 230.0),  # 5: midpoint 215, epoch 7 awake; 10 s asleep, 20 s awake
    _event(COUGH, 250.0, 250.4),  # 6: epoch 8 absent
    _event(COUGH, 280.0, 280.4),  # 7: after the last epoch (ends at 270 s)
]


def _dropped_because(dropped):
    return [(event["start_s"], event["dropped_because"]) for event in dropped]


def test_in_bed_gate_drops_events_while_absent_and_outside_the_radar():
    kept, dropped = gate_events(EVENTS, NIGHT, allowed=GATES["in-bed"])
    assert kept == [EVENTS[i] for i in (1, 2, 3, 4, 5)]
    assert _dropped_because(dropped) == [(10.0, "absent"), (250.0, "absent"), (280.0, "no radar epoch")]
    assert [{k: v for k, v in event.items() if k != "dropped_because"} for event in dropped] == [
        EVENTS[i] for i in (0, 6, 7)
    ]


def test_asleep_gate_drops_awake_events_too():
    kept, dropped = gate_events(EVENTS, NIGHT, allowed=GATES["asleep"])
    assert kept == [EVENTS[i] for i in (2, 3, 4)]
    assert _dropped_because(dropped) == [
        (10.0, "absent"),
        (70.0, "awake"),
        (200.0, "awake"),
        (250.0, "absent"),
        (280.0, "no radar epoch"),
    ]
    # The snore at 200-230 s is dropped although a third of it lies in sleep: its midpoint decides.
    assert dropped[2]["label"] == SNORE


def test_gating_copies_the_events_and_leaves_them_alone():
    original = copy.deepcopy(EVENTS)
    kept, dropped = gate_events(EVENTS, NIGHT, allowed=GATES["asleep"])
    assert EVENTS == original
    assert all("dropped_because" not in event for event in EVENTS)
    assert all(event is not source for event in kept + dropped for source in EVENTS)


def test_midpoints_on_epoch_edges():
    events = [
        _event(COUGH, 89.5, 90.5),  # midpoint 90.0: the first second of epoch 3 (asleep)
        _event(COUGH, 269.5, 270.5),  # midpoint 270.0: the end of the last epoch
        _event(COUGH, 268.0, 269.0),  # midpoint 268.5: inside the last epoch (absent)
        _event(COUGH, -1.0, -0.5),
    ]  # before the radar started
    kept, dropped = gate_events(events, NIGHT, allowed=GATES["asleep"])
    assert kept == events[:1]
    assert _dropped_because(dropped) == [
        (269.5, "no radar epoch"),
        (268.0, "absent"),
        (-1.0, "no radar epoch"),
    ]


def test_offset_shifts_events_into_other_epochs():
    cough = [_event(COUGH, 10.0, 10.4)]  # midpoint 10.2 s of audio
    # The audio started 60 s after the radar: radar 70.2 s, epoch 2 awake.
    assert gate_events(cough, NIGHT, allowed=GATES["in-bed"], offset_s=60.0)[0] == cough
    # 90 s after: radar 100.2 s, epoch 3 asleep.
    assert gate_events(cough, NIGHT, allowed=GATES["asleep"], offset_s=90.0)[0] == cough
    # 15 s before the radar: radar -4.8 s, no epoch.
    kept, dropped = gate_events(cough, NIGHT, allowed=GATES["in-bed"], offset_s=-15.0)
    assert kept == [] and _dropped_because(dropped) == [(10.0, "no radar epoch")]
    # The cough at 250 s of audio falls after the radar's end when the audio started 30 s later.
    assert _dropped_because(gate_events(EVENTS[6:7], NIGHT, allowed=GATES["in-bed"], offset_s=30.0)[1]) == [
        (250.0, "no radar epoch")
    ]


def test_epoch_length_scales_the_epochs():
    # 60 s epochs: the night is 540 s; the cough at 280.2 s is in epoch 4 (asleep).
    kept, dropped = gate_events(EVENTS[7:8], NIGHT, allowed=GATES["asleep"], epoch_s=60.0)
    assert kept == EVENTS[7:8] and dropped == []


def test_combined_summary_of_the_in_bed_events():
    kept, _ = gate_events(EVENTS, NIGHT, allowed=GATES["in-bed"])
    assert combined_summary(kept, NIGHT) == pytest.approx(
        {
            "coughs": 3,  # at 70, 100 and 200 s
            "coughs_asleep": 2,  # at 100 and 200 s
            "total_sleep_h": 4 * 30 / 3600,  # epochs 3-6
            "coughs_per_hour_asleep": 60.0,  # 2 coughs in 1/30 h
            "snore_minutes_asleep": 0.5,  # 20 s of 80-110 (asleep from 90 s) + 10 s of 200-230 (to 210 s)
            "snore_episodes_asleep": 2,
            "snore_minutes": 1.0,  # 30 s + 30 s
        }
    )


def test_combined_summary_converts_audio_time_to_radar_time():
    kept, _ = gate_events(EVENTS, NIGHT, allowed=GATES["in-bed"])
    # 20 s later on the radar: snores at 100-130 s (all 30 s asleep) and 220-250 s (none asleep);
    # coughs at 90.2 and 120.2 s asleep, 220.2 s awake.
    summary = combined_summary(kept, NIGHT, offset_s=20.0)
    assert (summary["coughs"], summary["coughs_asleep"], summary["snore_episodes_asleep"]) == (3, 2, 1)
    assert summary["snore_minutes_asleep"] == pytest.approx(0.5)
    assert summary["snore_minutes"] == pytest.approx(1.0)


def test_the_cough_rate_counts_only_sleep_the_audio_heard():
    kept, _ = gate_events(EVENTS, NIGHT, allowed=GATES["in-bed"])
    # Audio from radar second 20 for 130 s: it heard sleep from 90 to 150 s, 60 s = 1/60 h;
    # the two coughs asleep (at 120.2 s; 220.2 s is awake, 90.2 s asleep) give 2 per 1/60 h.
    summary = combined_summary(kept, NIGHT, offset_s=20.0, audio_duration_s=130.0)
    assert summary["total_sleep_h"] == pytest.approx(60 / 3600)
    assert summary["coughs_per_hour_asleep"] == pytest.approx(120.0)


def test_a_snore_across_a_whole_sleep_run_counts_only_its_sleep():
    # 60-240 s covers epoch 2 (awake), 3-6 (asleep, 120 s) and 7 (awake).
    summary = combined_summary([_event(SNORE, 60.0, 240.0)], NIGHT)
    assert summary["snore_minutes_asleep"] == pytest.approx(2.0)
    assert summary["snore_minutes"] == pytest.approx(3.0)
    assert summary["snore_episodes_asleep"] == 1


def test_combined_summary_without_sleep():
    labels = ["absent", "awake", "awake"]
    kept, _ = gate_events(
        [_event(COUGH, 40.0, 40.4), _event(SNORE, 35.0, 80.0)], labels, allowed=GATES["in-bed"]
    )
    assert combined_summary(kept, labels) == {
        "coughs": 1,
        "coughs_asleep": 0,
        "total_sleep_h": 0.0,
        "coughs_per_hour_asleep": None,
        "snore_minutes_asleep": 0.0,
        "snore_episodes_asleep": 0,
        "snore_minutes": 0.75,
    }
    assert combined_summary([], NIGHT)["coughs_per_hour_asleep"] == 0.0


def test_bad_labels_and_parameters_are_named():
    with pytest.raises(RadarError, match="epoch 1 has label 'sleeping'"):
        gate_events(EVENTS, ["awake", "sleeping"], allowed=GATES["in-bed"])
    with pytest.raises(RadarError, match="'REM'"):
        gate_events(EVENTS, NIGHT, allowed=("asleep", "REM"))
    with pytest.raises(RadarError, match="the string 'asleep'"):
        gate_events(EVENTS, NIGHT, allowed="asleep")
    with pytest.raises(RadarError, match="no labels"):
        gate_events(EVENTS, NIGHT, allowed=())
    with pytest.raises(RadarError, match="no epochs"):
        gate_events(EVENTS, [], allowed=GATES["in-bed"])
    with pytest.raises(RadarError, match="epoch_s"):
        gate_events(EVENTS, NIGHT, allowed=GATES["in-bed"], epoch_s=0)
    with pytest.raises(RadarError, match="offset_s"):
        gate_events(EVENTS, NIGHT, allowed=GATES["in-bed"], offset_s=float("nan"))
    with pytest.raises(RadarError, match="epoch 0 has label 'Asleep'"):
        combined_summary(EVENTS, ["Asleep"])
    with pytest.raises(RadarError, match="epoch_s"):
        combined_summary(EVENTS, NIGHT, epoch_s=-30.0)


def test_malformed_events_are_named():
    with pytest.raises(SensingError, match=r"events\[1\]"):
        gate_events([EVENTS[0], {"label": COUGH, "start_s": 3.0}], NIGHT, allowed=GATES["in-bed"])
    with pytest.raises(SensingError, match=r"kept\[0\] \(snore\): start_s 5.0 and end_s 4.0"):
        combined_summary([_event(SNORE, 5.0, 4.0)], NIGHT)


def test_combined_night_png_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    kept, dropped = gate_events(EVENTS, NIGHT, allowed=GATES["asleep"], offset_s=-5.0)
    path = plot_combined_night(
        NIGHT, kept, dropped, tmp_path / "plots" / "combined.png", offset_s=-5.0, title="test night"
    )
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert plot_combined_night(["absent"], [], [], tmp_path / "empty.png").is_file()
    with pytest.raises(RadarError, match="epoch 0 has label 'REM'"):
        plot_combined_night(["REM"], kept, dropped, tmp_path / "bad.png")


def test_combined_night_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SensingError, match=r"pip install 'sensing\[plot\]'"):
        plot_combined_night(NIGHT, EVENTS, [], tmp_path / "combined.png")
