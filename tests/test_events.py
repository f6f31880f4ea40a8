"""The event logic on hand-made probability sequences: counting, merging, minimum duration."""

import numpy as np
import pytest

from sensing.audio.events import EventSettings, EventTracker, count_coughs

HOP_S, WINDOW_S, FRAME_S, FRAME_LENGTH_S = 0.48, 0.982, 0.01, 0.032
QUIET = np.full(96, -60.0, dtype=np.float32)
COUNTING = {"rise_db": 8.0, "release_db": 4.0, "separation_s": 0.3, "frame_s": FRAME_LENGTH_S}


def _run(probabilities: list[dict], *, frame_levels=None, **rules) -> list:
    settings = EventSettings(thresholds={"cough": 0.8, "snore": 0.7}, **rules)
    tracker = EventTracker(
        settings, window_s=WINDOW_S, hop_s=HOP_S, frame_hop_s=FRAME_S, frame_s=FRAME_LENGTH_S
    )
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


def _level_trace(seconds: float, *, seed: int = 0, wobble_db: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Frame times (s) and levels (dBFS) of room noise at -60 dBFS, wobbling by up to ``wobble_db``."""
    times = np.arange(round(seconds / FRAME_S)) * FRAME_S
    wobble = np.random.default_rng(seed).uniform(-wobble_db, wobble_db, times.size)
    return times, -60.0 + wobble


def _cough(times, levels, start_s, *, peak_db=-25.0, tail_after_s=None):
    """Add a cough at ``start_s``: a 40 ms burst decaying 1 dB per frame, and optionally a voiced
    tail ``tail_after_s`` later (6 dB below the burst, 200 ms) after a dip back to the noise."""
    burst = (times >= start_s) & (times < start_s + 0.04)
    levels[burst] = peak_db - np.arange(burst.sum())
    if tail_after_s is not None:
        tail = (times >= start_s + tail_after_s) & (times < start_s + tail_after_s + 0.2)
        levels[tail] = peak_db - 6 - np.arange(tail.sum()) * 0.5


def test_count_coughs_finds_each_burst_of_a_bout():
    times, levels = _level_trace(3.0)
    for start in (0.5, 0.9, 1.4):
        levels[(times >= start) & (times < start + 0.1)] = -20.0
    coughs = count_coughs(times, levels, **COUNTING)
    assert [start for start, _ in coughs] == pytest.approx([0.5, 0.9, 1.4])
    assert [end for _, end in coughs] == pytest.approx(
        [0.59 + FRAME_LENGTH_S, 0.99 + FRAME_LENGTH_S, 1.49 + FRAME_LENGTH_S]
    )


def test_room_noise_wobbling_a_few_db_counts_no_cough():
    for seed in range(5):
        times, levels = _level_trace(4.0, seed=seed, wobble_db=3.5)
        assert count_coughs(times, levels, **COUNTING) == []


def test_a_burst_and_its_voiced_tail_are_one_cough_in_noisy_rooms():
    for seed in range(5):
        times, levels = _level_trace(3.0, seed=seed, wobble_db=3.5)
        _cough(times, levels, 1.0, tail_after_s=0.1)
        coughs = count_coughs(times, levels, **COUNTING)
        assert len(coughs) == 1
        assert coughs[0][0] == pytest.approx(1.0)
        assert coughs[0][1] == pytest.approx(1.3, abs=0.05)


def test_coughs_half_a_second_apart_count_separately():
    times, levels = _level_trace(4.0, wobble_db=3.5)
    for start in (1.0, 1.55, 2.1):  # the night generator's closest: 0.25 s coughs, 0.3 s gaps
        _cough(times, levels, start, peak_db=-40.0, tail_after_s=0.06)
    coughs = count_coughs(times, levels, **COUNTING)
    assert [start for start, _ in coughs] == pytest.approx([1.0, 1.55, 2.1])


def test_a_bout_of_three_coughs_counts_three():
    probabilities = [{}] * 4 + [{"cough": 0.95}] * 4 + [{}] * 6
    events = _run(probabilities, frame_levels=_bursts([2.5, 2.9, 3.3]))
    assert [e.label for e in events] == ["cough"] * 3
    assert [e.start_s for e in events] == pytest.approx([2.5, 2.9, 3.3])
    assert events[0].end_s == pytest.approx(2.59 + FRAME_LENGTH_S)
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


def test_coughs_that_follow_before_the_level_falls_back_count_separately():
    """A bout in a reverberant room: the second cough starts 0.42 s after the first while the
    first's tail still rings 7-15 dB above the noise; a burst's own tail 0.1 s on is no cough."""
    times, levels = _level_trace(3.0, wobble_db=1.0)
    for start_s, end_s, level_db in [
        (1.0, 1.04, -30.0),  # the first cough's burst, +30 dB
        (1.04, 1.1, -48.0),  # a dip to +12 dB
        (1.1, 1.2, -38.0),  # its voiced tail, 10 dB up again but 0.1 s on
        (1.2, 1.42, -50.0),  # ringing on at +10 dB
        (1.42, 1.6, -39.0),  # the second cough, 11 dB up, 0.42 s on
    ]:
        levels[(times >= start_s - 1e-9) & (times < end_s - 1e-9)] = level_db
    coughs = count_coughs(times, levels, **COUNTING)
    assert [start for start, _ in coughs] == pytest.approx([1.0, 1.42])


def test_a_bout_longer_than_a_region_counts_each_cough_once_across_the_cuts():
    # coughs every 0.9 s for 27 s: the region is cut at 10 s and at 20 s; a cough that falls
    # where two regions' windows overlap is counted in one of them, never in both
    cough_times = [1.0 + 0.9 * k for k in range(30)]
    probabilities = [{}] * 2 + [{"cough": 0.95}] * 60 + [{}] * 4
    events = _run(probabilities, frame_levels=_bursts(cough_times))
    assert [e.start_s for e in events] == pytest.approx(cough_times, abs=FRAME_S)
    settings = EventSettings(thresholds={"cough": 0.8})
    assert settings.cough_region_max_s == 10.0
