"""One person's night, planned second by second: where they are, how they breathe, when they move.

The plan (a :class:`Script`) is made at 1 s resolution before any radar frame
exists; :meth:`Script.body` then gives the range, azimuth and reflectivity of
each body part (:data:`PARTS`) at any frame times. A frame depends only on the
plan and its own time, so a night synthesised in chunks of any length is the
same night.

A night runs: absent; walking in from the door (out of the radar's view) and
lying down; awake in bed until sleep onset; sleep in light-deep-light cycles
with short awakenings and maybe one trip out of the room; a last awake stretch
in bed; getting up and walking out; absent. The per-second states
(:data:`STATES`) map to epoch labels by :data:`STATE_LABELS`.

Body model: five point scatterers laid along the bed, which runs across the
radar's line of sight (the device stands on the bedside table). Breathing moves
the chest and abdomen (and an arm resting on them) towards the radar by a few
mm at 0.1-0.5 Hz; a heartbeat moves the chest by a fraction of a mm. Movements
add smooth random range displacements of cm (limbs, fidgeting) to dm
(walking); a posture shift also moves the body to a new resting pose.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

STATES = ("absent", "walking", "awake", "light", "deep")
"""Per-second states of a person: out of the room, walking in or out (and lying
down or getting up), awake in bed, light sleep, deep sleep."""
STATE_LABELS = {"absent": "absent", "walking": "awake", "awake": "awake", "light": "asleep", "deep": "asleep"}
"""Epoch label of each state."""
ABSENT, WALKING, AWAKE, LIGHT, DEEP = range(len(STATES))
IN_BED = (AWAKE, LIGHT, DEEP)

PARTS = ("chest", "abdomen", "head", "arm", "legs")
"""Body scatterers, in the order of the columns of :meth:`Script.body`."""
POSE_FIELDS = ("range_m", "angle_rad", "reflectivity", "breathing_gain", "heart_gain")
"""Columns of a pose array of shape (parts, fields): resting range (m) and
azimuth (rad) of each part, its reflectivity (chest at 1 m = the person's
``reflectivity``), and how much of the breathing and heartbeat displacement
it shows along the line of sight."""
_RANGE, _ANGLE, _REFLECTIVITY, _BREATHING, _HEART = range(len(POSE_FIELDS))

DOOR_RANGE_M = 3.4
"""Range of the door: beyond a 2.8 m radar's view, so a person there is unseen."""
_ALONG_BED_M = np.array([0.0, 0.25, -0.45, 0.05, 0.8])
"""Offset of each part from the chest along the bed (towards the feet), m."""
_DEPTH_M = np.array([0.0, 0.02, 0.05, -0.06, 0.05])
"""Offset of each part from the chest along the line of sight (+: further), m."""
_LYING_REFLECTIVITY = np.array([1.0, 0.8, 0.5, 0.35, 0.6])
_STANDING_DEPTH_M = np.array([0.0, 0.0, 0.08, -0.1, 0.12])
"""Standing, head and legs are further than the chest (height difference), the arms nearer."""
_STANDING_REFLECTIVITY = np.array([1.2, 1.0, 0.5, 0.4, 0.8])
_BREATHING_GAIN = np.array([[0.6, 1.0], [0.3, 1.2], [0.0, 0.1], [0.1, 0.4], [0.0, 0.0]])
"""Range of the breathing gain of each part, drawn anew for each posture."""
_HEART_GAIN = np.array([1.0, 0.2, 0.1, 0.1, 0.0])

_STATE_RATE = np.array([1.2, 1.3, 1.12, 1.0, 0.93])
"""Breathing rate of each state re light sleep."""
_STATE_RATE_JITTER = np.array([0.1, 0.1, 0.12, 0.05, 0.02])
"""Relative standard deviation of the breathing rate in each state (10 s correlation)."""
_STATE_DEPTH = np.array([1.0, 1.3, 1.15, 1.0, 0.8])
"""Breathing depth of each state re light sleep."""
_STATE_DEPTH_JITTER = np.array([0.2, 0.2, 0.25, 0.1, 0.04])
"""Relative standard deviation of the breathing depth in each state (15 s correlation)."""
_STATE_HEART = np.array([1.25, 1.25, 1.1, 1.0, 0.97])
BREATHING_RATE_HZ = (0.1, 0.5)
"""Breathing rates are kept within this band, Hz."""
HEART_RATE_HZ = (0.8, 2.0)
"""Heart rates are kept within this band, Hz."""

_MOVE_COMPONENTS = 3
# Movement kinds: (frequency range Hz, per-part amplitude ranges m (low, high) in PARTS order).
_FIDGET = ((0.3, 1.5), ((0.02, 0.08),) * 5)
_LIMB = ((0.5, 2.0), ((0.001, 0.005), (0.001, 0.005), (0.001, 0.005), (0.02, 0.1), (0.01, 0.06)))
_TWITCH = ((1.0, 3.0), ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.003, 0.02), (0.003, 0.02)))
_GAIT_AMPLITUDE_M = np.array(
    [[0.005, 0.02, 0.005], [0.005, 0.02, 0.005], [0.005, 0.02, 0.005], [0.12, 0.02, 0.01], [0.15, 0.03, 0.02]]
)
"""Walking: range swing of each part at half, once and 1.5 times the step rate, m."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Person:
    """One person's body and habits; :meth:`random` draws each from the range in brackets.

    Durations are capped for short nights (see :func:`plan_script`).

    Attributes:
        range_m: chest range from the radar lying in bed, m [sleeper 0.4-1.5; a
            partner 0.3-0.6 further, see ``NightParameters``].
        angle_deg: azimuth of the chest seen from the radar, degrees, 0 on boresight [-20, 20].
        head_side: +1 or -1: the side (in azimuth) of the chest where the head lies.
        reflectivity: chest amplitude at 1 m on boresight, in the room's units [0.7, 1.3].
        breathing_rate_bpm: breaths per minute in light sleep [11, 18]; deep sleep x0.93,
            awake in bed x1.12, walking x1.3.
        breathing_depth_mm: peak-to-peak chest displacement along the line of sight in light
            sleep, mm [2, 6]; deep sleep x0.8, awake x1.15.
        heart_rate_bpm: beats per minute in light sleep [52, 78]; awake x1.1.
        heart_depth_mm: peak chest displacement of a heartbeat, mm [0.1, 0.4].
        posture_shifts_per_h: posture shifts per hour asleep [0.8, 2.4] (about 1.6 on
            average); twice as many awake in bed.
        limb_movements_per_min: limb movements per minute awake in bed [1, 4].
        twitches_per_h: limb twitches per hour of light sleep [0, 6].
        sighs_per_min: sighs (one breath 2-3 times deeper) per minute awake in bed [0.2, 1].
        awakenings_per_h: awakenings per hour asleep [0.5, 2.5], each 30-300 s.
        sleep_cycle_min: length of one light-deep-light sleep cycle, min [80, 110].
        deep_fraction: share of deep sleep in the first cycle [0.2, 0.5]; each later cycle
            has 30% of that less.
        absent_before_s: out of the room before getting into bed, s [60, 600]; 0: in bed
            from the start.
        sleep_latency_s: awake in bed before falling asleep, s [180, 1800].
        wake_after_s: awake in bed after the last sleep, s [60, 900].
        absent_after_s: out of the room after getting up, s [60, 600]; 0: in bed to the end.
        bathroom_trip: whether the person leaves the room once in the night for 2-10 min
            [true with probability 0.3].
        bedside_range_m: where the person stands to lie down or after getting up, m [the
            sleeper 0.5-0.9, by the radar; a partner 0.2-0.5 beyond their own range].
        walk_s: walking between the door (out of view) and the bed, s [4, 10].
        lie_down_s: lying down or getting up, s [2, 5].
    """

    range_m: float
    angle_deg: float
    head_side: int
    reflectivity: float
    breathing_rate_bpm: float
    breathing_depth_mm: float
    heart_rate_bpm: float
    heart_depth_mm: float
    posture_shifts_per_h: float
    limb_movements_per_min: float
    twitches_per_h: float
    sighs_per_min: float
    awakenings_per_h: float
    sleep_cycle_min: float
    deep_fraction: float
    absent_before_s: float
    sleep_latency_s: float
    wake_after_s: float
    absent_after_s: float
    bathroom_trip: bool
    bedside_range_m: float
    walk_s: float
    lie_down_s: float

    @classmethod
    def random(cls, rng: np.random.Generator, *, range_m: float, bedside_range_m: float) -> Person:
        """A person lying at ``range_m``, standing at ``bedside_range_m``, the rest drawn."""
        return cls(
            range_m=float(range_m),
            angle_deg=rng.uniform(-20, 20),
            head_side=int(rng.choice([-1, 1])),
            reflectivity=rng.uniform(0.7, 1.3),
            breathing_rate_bpm=rng.uniform(11, 18),
            breathing_depth_mm=rng.uniform(2, 6),
            heart_rate_bpm=rng.uniform(52, 78),
            heart_depth_mm=rng.uniform(0.1, 0.4),
            posture_shifts_per_h=rng.uniform(0.8, 2.4),
            limb_movements_per_min=rng.uniform(1, 4),
            twitches_per_h=rng.uniform(0, 6),
            sighs_per_min=rng.uniform(0.2, 1),
            awakenings_per_h=rng.uniform(0.5, 2.5),
            sleep_cycle_min=rng.uniform(80, 110),
            deep_fraction=rng.uniform(0.2, 0.5),
            absent_before_s=rng.uniform(60, 600),
            sleep_latency_s=rng.uniform(180, 1800),
            wake_after_s=rng.uniform(60, 900),
            absent_after_s=rng.uniform(60, 600),
            bathroom_trip=bool(rng.random() < 0.3),
            bedside_range_m=float(bedside_range_m),
            walk_s=rng.uniform(4, 10),
            lie_down_s=rng.uniform(2, 5),
        )


@dataclasses.dataclass(frozen=True)
class Script:
    """A person's planned night. Times are seconds from the start of the night.

    Attributes:
        states: (seconds,) int8 index into :data:`STATES` for each second.
        breathing_rate_hz: (seconds,) breathing rate during each second.
        breathing_phase_rad: (seconds + 1,) breathing phase at each whole second.
        breathing_depth_m: (seconds + 1,) peak-to-peak breathing displacement at each whole second.
        heart_phase_rad: (seconds + 1,) heartbeat phase at each whole second.
        heart_depth_m: peak heartbeat displacement, m.
        pose_start_s, pose_end_s: (transitions,) when each change of pose starts and ends
            (equal for an instant change).
        pose_from, pose_to: (transitions, parts, fields) poses before and after each change;
            the first transition (at -1 s) sets the starting pose.
        move_start_s, move_duration_s: (moves,) span of each movement.
        move_frequency_hz: (moves, components) frequencies of its sinusoids.
        move_amplitude_m, move_phase_rad: (moves, parts, components) range swing and phase of
            each part at each frequency.
    """

    states: np.ndarray
    breathing_rate_hz: np.ndarray
    breathing_phase_rad: np.ndarray
    breathing_depth_m: np.ndarray
    heart_phase_rad: np.ndarray
    heart_depth_m: float
    pose_start_s: np.ndarray
    pose_end_s: np.ndarray
    pose_from: np.ndarray
    pose_to: np.ndarray
    move_start_s: np.ndarray
    move_duration_s: np.ndarray
    move_frequency_hz: np.ndarray
    move_amplitude_m: np.ndarray
    move_phase_rad: np.ndarray

    def pose(self, t_s: np.ndarray) -> np.ndarray:
        """(frames, parts, fields) resting pose at times ``t_s`` (frames,), s.

        A change of pose follows a smoothstep from its start to its end.
        """
        index = np.searchsorted(self.pose_start_s, t_s, side="right") - 1
        start, end = self.pose_start_s[index], self.pose_end_s[index]
        u = np.clip((t_s - start) / np.maximum(end - start, 1e-9), 0.0, 1.0)
        step = (u * u * (3 - 2 * u))[:, None, None]
        return np.asarray(self.pose_from[index] + step * (self.pose_to[index] - self.pose_from[index]))

    def movement_m(self, t_s: np.ndarray) -> np.ndarray:
        """(frames, parts) range displacement of each part by movements at ascending times ``t_s``, m.

        Each movement is a sum of sinusoids under a sin^2 envelope over its span.
        """
        moved = np.zeros((t_s.size, len(PARTS)))
        if t_s.size == 0:
            return moved
        active = np.flatnonzero(
            (self.move_start_s < t_s[-1]) & (self.move_start_s + self.move_duration_s > t_s[0])
        )
        for event in active:
            local = t_s - self.move_start_s[event]
            inside = (local > 0) & (local < self.move_duration_s[event])
            if not inside.any():
                continue
            tau = local[inside]
            envelope = np.sin(np.pi * tau / self.move_duration_s[event]) ** 2
            waves = np.sin(
                2 * np.pi * self.move_frequency_hz[event][None, None, :] * tau[:, None, None]
                + self.move_phase_rad[event][None]
            )
            moved[inside] += envelope[:, None] * (waves * self.move_amplitude_m[event][None]).sum(axis=2)
        return moved

    def body(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Range (m), azimuth (rad) and reflectivity of each part at ascending times ``t_s`` (frames,), s.

        Returns three (frames, parts) arrays. Breathing and heartbeat bring a
        part nearer by its gain times the displacement; movements add on top.
        """
        pose = self.pose(t_s)
        grid = np.arange(self.breathing_phase_rad.size, dtype=np.float64)
        breathing = np.interp(t_s, grid, self.breathing_depth_m) * breathing_shape(
            np.interp(t_s, grid, self.breathing_phase_rad)
        )
        heart = self.heart_depth_m * heartbeat_shape(np.interp(t_s, grid, self.heart_phase_rad))
        range_m = (
            pose[..., _RANGE]
            - pose[..., _BREATHING] * breathing[:, None]
            - pose[..., _HEART] * heart[:, None]
            + self.movement_m(t_s)
        )
        return range_m, pose[..., _ANGLE], pose[..., _REFLECTIVITY]

    def chest_range_m(self) -> np.ndarray:
        """(seconds,) resting chest range in the middle of each second in bed, NaN out of bed, m."""
        chest = self.pose(np.arange(self.states.size) + 0.5)[:, 0, _RANGE]
        return np.where(np.isin(self.states, IN_BED), chest, np.nan)


def breathing_shape(phase_rad: np.ndarray) -> np.ndarray:
    """Chest expansion in [0, 1] over a breath: 0 at end of exhale, a pause there, a quick peak."""
    return np.asarray(0.5 * (1 - np.cos(phase_rad - 0.35 * np.sin(phase_rad))))


def heartbeat_shape(phase_rad: np.ndarray) -> np.ndarray:
    """Chest displacement in [0, 1] over a heartbeat: a short systolic pulse."""
    return np.asarray(((1 + np.cos(phase_rad)) / 2) ** 4)


def plan_script(person: Person, *, n_seconds: int, rng: np.random.Generator) -> Script:
    """Plan ``person``'s night of ``n_seconds`` seconds.

    For short nights the durations are capped: time absent before and after at
    10% of the night each, sleep latency at 20%, the last awake stretch at 10%;
    a bathroom trip needs at least 40 min of sleep.
    """
    states = _plan_states(person, n_seconds, rng)
    rate_hz, depth_m = _breathing(person, states, rng)
    heart_hz = np.clip(
        person.heart_rate_bpm
        / 60
        * _low_pass(_STATE_HEART[states], 20.0)
        * np.exp(0.03 * _ar1(rng, states.size, 10.0)),
        *HEART_RATE_HZ,
    )
    poses, moves = _plan_poses(person, states, rng)
    pose_start, pose_end, pose_from, pose_to = (np.array(column) for column in zip(*poses))
    if moves:
        move_start, move_duration, frequency, amplitude, phase = (np.array(c) for c in zip(*moves))
    else:
        move_start = move_duration = np.zeros(0)
        frequency, amplitude = np.zeros((0, _MOVE_COMPONENTS)), np.zeros((0, len(PARTS), _MOVE_COMPONENTS))
        phase = amplitude.copy()
    return Script(
        states=states,
        breathing_rate_hz=rate_hz,
        breathing_phase_rad=_phase(rng, rate_hz),
        breathing_depth_m=np.append(depth_m, depth_m[-1]),
        heart_phase_rad=_phase(rng, heart_hz),
        heart_depth_m=person.heart_depth_mm / 1000,
        pose_start_s=pose_start,
        pose_end_s=pose_end,
        pose_from=pose_from,
        pose_to=pose_to,
        move_start_s=move_start,
        move_duration_s=move_duration,
        move_frequency_hz=frequency,
        move_amplitude_m=amplitude,
        move_phase_rad=phase,
    )


def _plan_states(person: Person, n_seconds: int, rng: np.random.Generator) -> np.ndarray:
    """(n_seconds,) int8 state of each second."""
    absent_before = round(min(person.absent_before_s, 0.1 * n_seconds))
    absent_after = round(min(person.absent_after_s, 0.1 * n_seconds))
    walk = max(1, round(person.walk_s + person.lie_down_s))
    enter, leave = (walk if absent_before else 0), (walk if absent_after else 0)
    latency = round(min(person.sleep_latency_s, 0.2 * n_seconds))
    wake = round(min(person.wake_after_s, 0.1 * n_seconds))
    sleep = max(0, n_seconds - absent_before - enter - latency - wake - leave - absent_after)
    states = np.concatenate(
        [
            np.full(absent_before, ABSENT),
            np.full(enter, WALKING),
            np.full(latency, AWAKE),
            _sleep_states(person, sleep, walk, rng),
            np.full(wake, AWAKE),
            np.full(leave, WALKING),
            np.full(absent_after, ABSENT),
        ]
    ).astype(np.int8)
    return states[:n_seconds]


def _sleep_states(person: Person, n_seconds: int, walk: int, rng: np.random.Generator) -> np.ndarray:
    """(n_seconds,) states of the sleep period: cycles, awakenings and maybe a trip out."""
    states = np.full(n_seconds, LIGHT)
    start, cycle = 0, 0
    while start < n_seconds:
        length = round(person.sleep_cycle_min * 60 * rng.uniform(0.9, 1.1))
        deep = round(length * person.deep_fraction * max(0.0, 1 - 0.3 * cycle))
        deep_start = start + round((length - deep) * rng.uniform(0.3, 0.5))
        states[deep_start : min(deep_start + deep, n_seconds)] = DEEP
        start, cycle = start + length, cycle + 1
    for onset in _poisson_times(rng, person.awakenings_per_h / 3600, 0, n_seconds):
        states[round(onset) : round(onset + rng.uniform(30, 300))] = AWAKE
    if person.bathroom_trip and n_seconds >= 2400:
        trip = np.concatenate(
            [
                np.full(30, AWAKE),
                np.full(walk, WALKING),
                np.full(round(rng.uniform(120, 600)), ABSENT),
                np.full(walk, WALKING),
                np.full(round(rng.uniform(120, 600)), AWAKE),
            ]
        )
        onset = round(rng.uniform(0.3, 0.7) * n_seconds)
        states[onset : onset + trip.size] = trip[: n_seconds - onset]
    return states


def _poisson_times(rng: np.random.Generator, rate_per_s: float, start_s: float, end_s: float) -> np.ndarray:
    """Sorted event times of a Poisson process of ``rate_per_s`` within [start_s, end_s)."""
    if end_s <= start_s or rate_per_s <= 0:
        return np.zeros(0)
    return np.sort(rng.uniform(start_s, end_s, rng.poisson(rate_per_s * (end_s - start_s))))


def _low_pass(values: np.ndarray, tau_s: float) -> np.ndarray:
    """First-order low-pass of a per-second series with time constant ``tau_s`` seconds."""
    alpha = 1 - np.exp(-1 / tau_s)
    out = np.empty(values.size)
    level = float(values[0]) if values.size else 0.0
    for index, value in enumerate(values.tolist()):
        level += alpha * (value - level)
        out[index] = level
    return out


def _ar1(rng: np.random.Generator, n: int, tau_s: float) -> np.ndarray:
    """(n,) stationary unit-variance first-order autoregressive noise, correlation time ``tau_s`` s."""
    rho = np.exp(-1 / tau_s)
    innovations = rng.standard_normal(n)
    innovations[1:] *= np.sqrt(1 - rho * rho)
    out = np.empty(n)
    level = 0.0
    for index, innovation in enumerate(innovations.tolist()):
        level = rho * level + innovation
        out[index] = level
    return out


def _phase(rng: np.random.Generator, rate_hz: np.ndarray) -> np.ndarray:
    """(seconds + 1,) phase at each whole second of an oscillation at ``rate_hz`` per second."""
    return rng.uniform(0, 2 * np.pi) + np.concatenate([[0.0], np.cumsum(2 * np.pi * rate_hz)])


def _breathing(person: Person, states: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Breathing rate (Hz) and peak-to-peak depth (m) for each second.

    Each state sets a level (eased in over 30 s) and an irregularity; awake
    in bed, sighs make single breaths 2-3 times deeper.
    """
    n = states.size
    rate = (
        person.breathing_rate_bpm
        / 60
        * _low_pass(_STATE_RATE[states], 30.0)
        * np.exp(_STATE_RATE_JITTER[states] * _ar1(rng, n, 10.0))
    )
    depth = (
        person.breathing_depth_mm
        / 1000
        * _low_pass(_STATE_DEPTH[states], 30.0)
        * np.exp(_STATE_DEPTH_JITTER[states] * _ar1(rng, n, 15.0))
    )
    awake = np.flatnonzero(states == AWAKE)
    sighs = awake[rng.random(awake.size) < person.sighs_per_min / 60]
    seconds = np.arange(n)
    for sigh in sighs:
        near = slice(max(0, sigh - 8), sigh + 9)
        depth[near] *= 1 + rng.uniform(1, 2) * np.exp(-0.5 * ((seconds[near] - sigh) / 2.5) ** 2)
    return np.clip(rate, *BREATHING_RATE_HZ), depth


def _bed_pose(person: Person, rng: np.random.Generator | None) -> np.ndarray:
    """(parts, fields) lying pose; with ``rng``, a posture: chest moved by a few cm, new gains."""
    chest_range, angle = person.range_m, np.radians(person.angle_deg)
    reflectivity, breathing = _LYING_REFLECTIVITY.copy(), _BREATHING_GAIN.mean(axis=1)
    if rng is not None:
        chest_range += float(np.clip(rng.normal(0, 0.03), -0.08, 0.08))
        angle += np.radians(rng.normal(0, 2))
        reflectivity = reflectivity * np.exp(rng.uniform(np.log(0.6), np.log(1.6), len(PARTS)))
        breathing = rng.uniform(_BREATHING_GAIN[:, 0], _BREATHING_GAIN[:, 1])
    across = chest_range * np.cos(angle) + _DEPTH_M
    along = chest_range * np.sin(angle) + person.head_side * -_ALONG_BED_M
    pose = np.empty((len(PARTS), len(POSE_FIELDS)))
    pose[:, _RANGE] = np.hypot(across, along)
    pose[:, _ANGLE] = np.arctan2(along, across)
    pose[:, _REFLECTIVITY] = person.reflectivity * reflectivity
    pose[:, _BREATHING] = breathing
    pose[:, _HEART] = _HEART_GAIN
    return pose


def _standing_pose(person: Person, range_m: float, angle_rad: float, *, visible: bool) -> np.ndarray:
    """(parts, fields) pose of the person standing at ``range_m``, ``angle_rad``; invisible: absent."""
    pose = np.zeros((len(PARTS), len(POSE_FIELDS)))
    pose[:, _RANGE] = range_m + _STANDING_DEPTH_M
    pose[:, _ANGLE] = angle_rad
    pose[:, _REFLECTIVITY] = person.reflectivity * _STANDING_REFLECTIVITY * visible
    pose[:, _BREATHING] = 0.3 * _BREATHING_GAIN.mean(axis=1)
    pose[:, _HEART] = 0.3 * _HEART_GAIN
    return pose


def _movement(
    rng: np.random.Generator, kind: tuple[Any, ...], start_s: float, duration_s: float
) -> tuple[Any, ...]:
    """A movement of ``kind`` (_FIDGET, _LIMB or _TWITCH) as a row of the Script's move arrays."""
    (f_low, f_high), amplitudes = kind
    low, high = np.array(amplitudes).T
    amplitude = rng.uniform(low, high)[:, None] * rng.uniform(0.3, 1.0, (len(PARTS), _MOVE_COMPONENTS))
    return (
        start_s,
        duration_s,
        rng.uniform(f_low, f_high, _MOVE_COMPONENTS),
        amplitude,
        rng.uniform(0, 2 * np.pi, (len(PARTS), _MOVE_COMPONENTS)),
    )


def _gait(rng: np.random.Generator, start_s: float, duration_s: float) -> tuple[Any, ...]:
    """Limbs and torso swinging at harmonics of a 1.6-2.0 Hz step rate while walking."""
    step_hz = rng.uniform(1.6, 2.0)
    return (
        start_s,
        duration_s,
        step_hz * np.array([0.5, 1.0, 1.5]),
        _GAIT_AMPLITUDE_M * rng.uniform(0.7, 1.3),
        rng.uniform(0, 2 * np.pi, (len(PARTS), _MOVE_COMPONENTS)),
    )


def _runs(states: np.ndarray) -> list[tuple[int, int, int]]:
    """(state, start, end) of each run of equal states."""
    edges = np.flatnonzero(np.diff(states)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [states.size]])
    return [(int(states[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def _plan_poses(person: Person, states: np.ndarray, rng: np.random.Generator) -> tuple[list[Any], list[Any]]:
    """Pose changes (start, end, from, to) and movements for the runs of ``states``."""
    door_angle = np.radians(rng.uniform(-40, 40))
    absent = _standing_pose(person, DOOR_RANGE_M, door_angle, visible=False)
    door = _standing_pose(person, DOOR_RANGE_M, door_angle, visible=True)
    pose = absent if states[0] in (ABSENT, WALKING) else _bed_pose(person, None)
    poses, moves = [(-1.0, -1.0, pose, pose)], []

    def change(start_s: float, duration_s: float, target: np.ndarray) -> None:
        nonlocal pose
        poses.append((start_s, start_s + duration_s, pose, target))
        pose = target

    previous = ABSENT
    for state, start, end in _runs(states):
        length = end - start
        if state == WALKING:
            lie_s = length * person.lie_down_s / (person.walk_s + person.lie_down_s)
            bedside = _standing_pose(
                person, person.bedside_range_m, np.radians(person.angle_deg) + 0.2, visible=True
            )
            if previous == ABSENT:
                change(start, 0.0, door)
                change(start, length - lie_s, bedside)
                change(end - lie_s, lie_s, _bed_pose(person, rng))
                moves.append(_gait(rng, start, length - lie_s))
                moves.append(_movement(rng, _FIDGET, end - lie_s, lie_s))
            else:
                change(start, lie_s, bedside)
                change(start + lie_s, length - lie_s, door)
                change(end, 0.0, absent)
                moves.append(_movement(rng, _FIDGET, start, lie_s))
                moves.append(_gait(rng, start + lie_s, length - lie_s))
        elif state in IN_BED:
            shifts_per_s = person.posture_shifts_per_h / 3600 * (2 if state == AWAKE else 1)
            free_from = start + 5.0
            for onset in _poisson_times(rng, shifts_per_s, start + 5, end - 10):
                if onset >= free_from:
                    duration = rng.uniform(2, 5)
                    change(onset, duration, _bed_pose(person, rng))
                    moves.append(_movement(rng, _FIDGET, onset, duration))
                    free_from = onset + duration + 5
            if state == AWAKE:
                for onset in _poisson_times(rng, person.limb_movements_per_min / 60, start, end - 1):
                    moves.append(_movement(rng, _LIMB, onset, rng.uniform(1, 4)))
            if state == LIGHT:
                for onset in _poisson_times(rng, person.twitches_per_h / 3600, start, end - 1):
                    moves.append(_movement(rng, _TWITCH, onset, rng.uniform(0.5, 2)))
        previous = state
    return poses, moves
