"""The event logic on hand-made probability sequences: counting, merging, minimum duration."""

import numpy as np
import pytest

from sensing.audio.events import EventSettings, EventTracker, count_coughs

HOP_S, WINDOW_S, FRAME_S = 0.48, 0.982, 0.01
QUIET = np.full(96, -60.0, dtype=np.float32)


def _run(probabilities: list[dict], *, frame_levels=None, **rules) -> list:
    settings = EventSettings(thresholds={"cough": 0.8, "snore": 0.7}, **rules)
    tracker = EventTracker(settings, window_s=WINDOW_S, hop_s=HOP_S, frame_hop_s=FRAME_S)
    events = []
    for index, probs in enumerate(probabilities):
        levels = QUIET if frame_levels is None else frame_levels(index * HOP_S)
        events += tracker.update(index * HOP_S, {"cough": 0.0, "snore": 0.0, **probs}, levels)
    return events + tracker.finish()


def _bursts(times_s: list[float]):
    """Frame levels (dBFS) of windows starting at t, with 100 ms bursts at ``times_s``."""

    def levels(start_s: float) -> np.ndarray:
        frame_times = start_s + np.arange(96) * FRAME_S
        loud = np.zeros(96, dtype=bool)
        for t in times_s:
            loud |= (frame_times >= t) & (frame_times < t + 0.1)
        return np.where(loud, -20.0, -60.0).astype(np.float32)

    return levels


def test_count_coughs_finds_each_burst_of_a_bout():
    times = np.arange(300) * FRAME_S
    levels = np.full(300, -60.0)
    for start in (0.5, 0.9, 1.4):
        levels[(times >= start) & (times < start + 0.1)] = -20.0
    assert count_coughs(times, levels, rise_db=6, separation_s=0.2) == pytest.approx([0.5, 0.9, 1.4])


def test_a_bout_of_three_coughs_counts_three():
    probabilities = [{}] * 4 + [{"cough": 0.95}] * 4 + [{}] * 6
    events = _run(probabilities, frame_levels=_bursts([2.5, 2.9, 3.3]))
    assert [e.label for e in events] == ["cough"] * 3
    assert [e.start_s for e in events] == pytest.approx([2.5, 2.9, 3.3])
    assert events[0].end_s == pytest.approx(2.9)
    assert all(e.score == pytest.approx(0.95) for e in events)


def test_a_cough_region_without_an_onset_is_dropped():
    probabilities = [{}] * 2 + [{"cough": 0.95}] * 3 + [{}] * 4
    assert _run(probabilities) == []


def test_windows_below_the_threshold_make_no_event():
    probabilities = [{"cough": 0.79, "snore": 0.69}] * 40
    assert _run(probabilities, frame_levels=_bursts([1.0, 5.0])) == []


def test_nearby_cough_windows_merge_and_distant_ones_do_not():
    # windows 2-3 and 5 are 0.96 s apart (within hop + 0.5 s gap): one region, two coughs;
    # window 12 is far: a second region.
    probabilities = (
        [{}] * 2 + [{"cough": 0.9}] * 2 + [{}] + [{"cough": 0.9}] + [{}] * 6 + [{"cough": 0.9}] + [{}] * 4
    )
    events = _run(probabilities, frame_levels=_bursts([1.2, 2.6, 6.0]))
    assert [e.start_s for e in events] == pytest.approx([1.2, 2.6, 6.0])


def _snores(windows: list[int], total_windows: int) -> list[dict]:
    """Snore probability 0.9 in the given windows (window k starts at k * HOP_S)."""
    return [{"snore": 0.9} if i in set(windows) else {} for i in range(total_windows)]


def test_snores_every_few_seconds_form_one_episode():
    windows = [20 + 10 * k for k in range(10)]  # ten snores 4.8 s apart
    events = _run(_snores(windows, 200))
    assert len(events) == 1
    episode = events[0]
    assert episode.label == "snore"
    assert episode.start_s == pytest.approx(20 * HOP_S)
    assert episode.end_s == pytest.approx(110 * HOP_S + WINDOW_S)


def test_episodes_split_at_long_gaps_and_short_ones_are_dropped():
    first = [20 + 10 * k for k in range(5)]  # ends near 29 s
    second = [160 + 10 * k for k in range(4)]  # starts 76.8 s: over 20 s later
    lonely = [300, 310]  # two snores: below the minimum of three
    events = _run(_snores(first + second + lonely, 400))
    assert [e.start_s for e in events] == pytest.approx([20 * HOP_S, 160 * HOP_S])


def test_minimum_episode_duration():
    windows = [20, 25, 30]  # three regions within 6 s
    assert _run(_snores(windows, 60)) == []
    assert len(_run(_snores(windows, 60), snore_min_episode_s=5.0)) == 1
