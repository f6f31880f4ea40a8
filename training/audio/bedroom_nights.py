"""Bedroom nights built from held-out clips, with their truth, and how a detector scored on them.

A night is what a microphone beside a bed records: a steady noise floor
(white, pink or brown noise or mains hum at -55 to -40 dBFS RMS), and over it
cough bouts, snore episodes and everyday sounds, each reverberated by the
night's simulated bedroom (:func:`training.audio.bedside.room_impulse_response`) and
set 5-25 dB above the floor (everyday sounds 0-25 dB), all through one random
microphone response (levels are set after it, as the microphone hears them).
Every sound comes from the clips it is given (the test groups of a run, for an
honest figure), each used at most once per night until all have been; clips
are cut to :data:`LONGEST_CLIP_S` (snores to :data:`LONGEST_SNORE_S`).

Truth. A cough clip holds one or more coughs: each burst of frames within
:data:`training.audio.windows.EVENT_MARGIN_DB` of the clip's loudest frame, at least
:data:`COUGH_GAP_S` after the previous burst, is one cough, at its first frame.
A snore episode is a run of snore clips every 3.5-5.5 s; its truth spans the
first snore's start to the last one's end.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from sensing.audio.features import FeatureSettings, frame_energy_db
from sensing.errors import SensingError
from sensing.files import atomic_path
from training.audio.bedside import (
    NOISE_KINDS,
    MicResponse,
    noise_floor_audio,
    room_impulse_response,
)
from training.audio.dataset import LoadedClip
from training.audio.windows import EVENT_MARGIN_DB

NOISE_FLOOR_DBFS = (-55.0, -40.0)
"""RMS level of a night's noise floor, dBFS."""

EVENT_SNR_DB = (5.0, 25.0)
"""How far a cough or snore sits above the noise floor: its RMS over its sound against the floor's RMS."""

OTHER_SNR_DB = (0.0, 25.0)
"""The same for everyday sounds."""

PER_30_MIN = {"cough_bout": 12, "snore_episode": 3, "other": 20}
"""Items per 30 minutes of night."""

SNORE_EPISODE_S = (60.0, 180.0)
SNORE_PERIOD_S = (3.5, 5.5)
GAP_S = 2.0
"""Least time between two items, seconds."""

LONGEST_CLIP_S = 8.0
"""Cough and everyday-sound clips are cut to this many seconds."""

LONGEST_SNORE_S = 3.0
"""Snore clips are cut to this many seconds."""

REVERB_TAIL_S = 0.5
"""Seconds of reverberation kept after each clip."""

ITEM_S = LONGEST_CLIP_S + REVERB_TAIL_S + 0.5
"""Time kept for a cough bout or an everyday sound."""

COUGH_GAP_S = 0.25
MATCH_S = 0.5
"""A detected cough counts as a true one when it starts within this many seconds of it."""

LEVEL_BINS_DB = ((5.0, 12.0), (12.0, 18.0), (18.0, 25.0))
"""Event-level bins of the breakdown (dB above the noise floor; each includes its low end)."""


@dataclasses.dataclass(frozen=True)
class TrueEvent:
    """One truth row: ``label`` cough, snore (an episode) or other; times in seconds from the
    night's start; ``snr_db`` how far above the noise floor it was set."""

    label: str
    start_s: float
    end_s: float
    snr_db: float


@dataclasses.dataclass(frozen=True)
class Night:
    """A built night: ``audio`` float32 at ``sr`` Hz, its truth, and what was drawn for it."""

    audio: np.ndarray
    sr: int
    truth: list[TrueEvent]
    conditions: dict


def cough_onsets(audio: np.ndarray, settings: FeatureSettings) -> list[tuple[float, float]]:
    """(start_s, end_s) of each cough in a close-microphone cough clip (see the module docstring)."""
    frame_db = frame_energy_db(audio, settings)
    if frame_db.size == 0:
        return [(0.0, audio.size / settings.sr)]
    hop_s = settings.hop_length / settings.sr
    loud = frame_db >= frame_db.max() - EVENT_MARGIN_DB
    frames = [int(i) for i in np.flatnonzero(loud)]
    window_s = settings.n_fft / settings.sr
    bursts: list[tuple[float, float]] = []
    start = last = frames[0]
    for i in frames[1:]:
        if (i - last) * hop_s >= COUGH_GAP_S:
            bursts.append((start * hop_s, last * hop_s + window_s))
            start = i
        last = i
    bursts.append((start * hop_s, last * hop_s + window_s))
    return bursts


def _rms_db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def _active_rms_db(audio: np.ndarray, settings: FeatureSettings) -> float:
    """RMS in dBFS of the frames within 20 dB of the clip's loudest (the sound, not its silence)."""
    frame_db = frame_energy_db(audio, settings)
    if frame_db.size == 0:
        return _rms_db(audio)
    active = frame_db[frame_db >= frame_db.max() - 20.0]
    return float(10 * np.log10(np.mean(10 ** (active / 10))))


class _Pool:
    """Clips of one kind, handed out in a random order, each once per night, again when used up."""

    def __init__(self, clips: list[LoadedClip], rng: np.random.Generator) -> None:
        self.clips, self.rng = clips, rng
        self.order: list[int] = []

    def take(self) -> LoadedClip:
        if not self.order:
            self.order = list(self.rng.permutation(len(self.clips)))
        return self.clips[self.order.pop()]


def _plan_items(rng: np.random.Generator, duration_s: float) -> list[tuple[str, float]]:
    """(kind, length_s) of each item of a night, in a random order."""
    scale = duration_s / 1800.0
    items = [("cough_bout", 0.0)] * max(1, round(PER_30_MIN["cough_bout"] * scale))
    items += [
        ("snore_episode", float(rng.uniform(*SNORE_EPISODE_S)))
        for _ in range(max(1, round(PER_30_MIN["snore_episode"] * scale)))
    ]
    items += [("other", 0.0)] * max(1, round(PER_30_MIN["other"] * scale))
    return [items[i] for i in rng.permutation(len(items))]


@dataclasses.dataclass(frozen=True)
class Bedside:
    """What a night's bedside does to its sounds: all of it, unless a measurement takes one part
    away to see what that part costs (the night's other draws stay the same).

    Attributes:
        room: sounds are reverberated by the night's bedroom (else they arrive dry).
        microphone: sounds and floor pass through the night's microphone response (else flat).
        cough_truth: the (start_s, end_s) of each true cough in a dry cough clip.
    """

    room: bool = True
    microphone: bool = True
    cough_truth: Callable[[np.ndarray, FeatureSettings], list[tuple[float, float]]] = cough_onsets


def build_night(
    clips: dict[str, list[LoadedClip]],
    *,
    duration_s: float,
    seed: int,
    settings: FeatureSettings,
    bedside: Bedside = Bedside(),
) -> Night:
    """One bedroom night of ``duration_s`` seconds from ``clips`` (by label: cough, snore, other).

    Raises:
        SensingError: a label has no clips, or the night is too short for its items.
    """
    for label in ("cough", "snore", "other"):
        if not clips.get(label):
            raise SensingError(f"bedroom nights need clips labelled '{label}' in the held-out groups")
    sr = settings.sr
    rng = np.random.default_rng([seed, 0xB3D])
    kind = str(rng.choice(NOISE_KINDS))
    floor_db = float(rng.uniform(*NOISE_FLOOR_DBFS))
    n = int(round(duration_s * sr))
    rir, room = room_impulse_response(rng, sr=sr)
    if not bedside.room:
        rir, room = np.ones(1, dtype=np.float32), {"rt60_s": 0.0, "distance_m": 0.0}
    mic = MicResponse.draw(rng)
    hear = mic.apply if bedside.microphone else (lambda audio, *, sr: audio)
    floor = hear(noise_floor_audio(rng, kind=kind, duration_s=duration_s, sr=sr)[:n], sr=sr)
    audio = (floor * 10 ** ((floor_db - _rms_db(floor)) / 20)).astype(np.float32)
    pools = {label: _Pool(list(clips[label]), rng) for label in ("cough", "snore", "other")}

    def placed(clip: np.ndarray, at_s: float, snr_db: float) -> None:
        """Reverberate ``clip``, pass it through the microphone, set it ``snr_db`` above the
        floor and add it at ``at_s``."""
        wet = hear(fftconvolve(clip, rir)[: clip.size + int(REVERB_TAIL_S * sr)], sr=sr)
        wet *= 10 ** ((floor_db + snr_db - _active_rms_db(wet, settings)) / 20)
        start = int(round(at_s * sr))
        end = min(n, start + wet.size)
        audio[start:end] += wet[: end - start]

    def take(label: str, longest_s: float) -> np.ndarray:
        return pools[label].take().samples[: int(longest_s * sr)]

    items = _plan_items(rng, duration_s)
    truth: list[TrueEvent] = []
    t = GAP_S
    # an episode's last snore starts at most 1 s before its length is up, and lasts LONGEST_SNORE_S
    reserved = [
        length + LONGEST_SNORE_S + REVERB_TAIL_S if item == "snore_episode" else ITEM_S
        for item, length in items
    ]
    slack = duration_s - GAP_S - sum(r + GAP_S for r in reserved)
    if slack < 0:
        raise SensingError(f"a {duration_s:.0f} s night is too short for its {len(items)} sounds")
    gaps = slack * rng.dirichlet(np.ones(len(items)))
    for (item, length_s), reserve, gap in zip(items, reserved, gaps):
        t += gap
        if item == "cough_bout":
            clip = take("cough", LONGEST_CLIP_S)
            snr = float(rng.uniform(*EVENT_SNR_DB))
            placed(clip, t, snr)
            truth += [TrueEvent("cough", t + a, t + b, snr) for a, b in bedside.cough_truth(clip, settings)]
        elif item == "snore_episode":
            snr = float(rng.uniform(*EVENT_SNR_DB))
            onset = t
            while True:
                clip = take("snore", LONGEST_SNORE_S)
                placed(clip, onset, snr + float(rng.uniform(-2, 2)))
                end = onset + clip.size / sr
                onset += float(rng.uniform(*SNORE_PERIOD_S))
                if onset - t + 1.0 > length_s:
                    break
            truth.append(TrueEvent("snore", t, end, snr))
        else:
            clip = take("other", LONGEST_CLIP_S)
            snr = float(rng.uniform(*OTHER_SNR_DB))
            placed(clip, t, snr)
            truth.append(TrueEvent("other", t, t + clip.size / sr, snr))
        t += reserve + GAP_S
    peak = float(np.max(np.abs(audio)))
    if peak > 1.0:  # a recorder's limiter: never clip
        audio /= peak
        floor_db -= 20 * np.log10(peak)
    truth.sort(key=lambda e: e.start_s)
    return Night(
        audio=audio,
        sr=sr,
        truth=truth,
        conditions={"noise_floor": kind, "noise_floor_dbfs": round(floor_db, 1), "room": room},
    )


def write_truth(truth: list[TrueEvent], path: Path) -> None:
    """The truth as CSV: label,start_s,end_s,snr_db (written whole or not at all)."""
    with atomic_path(path) as partial, open(partial, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["label", "start_s", "end_s", "snr_db"])
        for event in truth:
            writer.writerow(
                [event.label, f"{event.start_s:.3f}", f"{event.end_s:.3f}", f"{event.snr_db:.1f}"]
            )


def score_night(events: list[dict], truth: list[TrueEvent], *, duration_s: float) -> dict:
    """How detected events (``report.json``'s ``events``) match the truth.

    Detected and true coughs are paired one to one, nearest first, when they
    start within :data:`MATCH_S` of each other: a true cough with a partner is
    found. A detected cough is false when no true cough starts within
    :data:`MATCH_S` of it; one that does but found no partner (a second count of
    the same cough) is a duplicate. Snoring is scored in time: the minutes of true
    snore episodes a detected episode covers are found. Returns those counts, snore
    minutes (true, detected, found), and found and true coughs per bin of
    :data:`LEVEL_BINS_DB`.
    """
    true_coughs = [e for e in truth if e.label == "cough"]
    true_episodes = [(e.start_s, e.end_s) for e in truth if e.label == "snore"]
    episodes = [(e["start_s"], e["end_s"]) for e in events if e["label"] == "snore"]
    detected = [e["start_s"] for e in events if e["label"] == "cough"]
    pairs = sorted(
        (abs(d - c.start_s), i, j)
        for i, c in enumerate(true_coughs)
        for j, d in enumerate(detected)
        if abs(d - c.start_s) < MATCH_S
    )
    found, used = set(), set()
    for _, i, j in pairs:
        if i not in found and j not in used:
            found.add(i)
            used.add(j)
    near_a_cough = {j for _, _, j in pairs}
    by_level = {}
    for low, high in LEVEL_BINS_DB:
        inside = [i for i, c in enumerate(true_coughs) if low <= c.snr_db < high]
        by_level[f"{low:g}-{high:g} dB"] = {"true": len(inside), "found": sum(i in found for i in inside)}
    return {
        "duration_s": round(duration_s, 1),
        "true_coughs": len(true_coughs),
        "found_coughs": len(found),
        "detected_coughs": len(detected),
        "false_coughs": len(detected) - len(near_a_cough),
        "duplicate_coughs": len(near_a_cough) - len(used),
        "true_snore_minutes": round(sum(end - start for start, end in true_episodes) / 60, 2),
        "detected_snore_minutes": round(sum(end - start for start, end in episodes) / 60, 2),
        "found_snore_minutes": round(overlap_s(episodes, true_episodes) / 60, 2),
        "coughs_by_level": by_level,
    }


CURVE_FIGURES = {
    "cough": ("cough_recall", "cough_precision", "false_coughs_per_hour"),
    "snore": ("snore_recall", "snore_precision", "false_snore_minutes_per_hour"),
}
"""Per event label, the :func:`night_totals` figures of a threshold curve's row: recall,
precision and false rate (coughs per hour; snoring in minutes per hour)."""


def overlap_s(spans: list[tuple[float, float]], others: list[tuple[float, float]]) -> float:
    """Seconds that ``spans`` and ``others`` (each ``(start_s, end_s)``, none overlapping another
    of its own list) share."""
    return sum(
        max(0.0, min(end, other_end) - max(start, other_start))
        for start, end in spans
        for other_start, other_end in others
    )


def night_totals(scores: list[dict]) -> dict:
    """Over nights: cough recall and precision, false coughs per hour, and snoring in minutes:
    detected against true (the error), the share of true snoring found (recall), the share of
    detected snoring that was true (precision), and false snore minutes per hour."""

    def total(key):
        return sum(s[key] for s in scores)

    hours = total("duration_s") / 3600
    true_minutes = total("true_snore_minutes")
    detected_minutes = total("detected_snore_minutes")
    found_minutes = total("found_snore_minutes")
    by_level = {}
    for name in scores[0]["coughs_by_level"]:
        true = sum(s["coughs_by_level"][name]["true"] for s in scores)
        found = sum(s["coughs_by_level"][name]["found"] for s in scores)
        by_level[name] = {"true": true, "found": found, "recall": round(found / true, 3) if true else None}
    detected = total("detected_coughs")
    return {
        "nights": len(scores),
        "hours": round(hours, 2),
        "true_coughs": total("true_coughs"),
        "detected_coughs": detected,
        "duplicate_coughs": total("duplicate_coughs"),
        "cough_recall": round(total("found_coughs") / max(1, total("true_coughs")), 3),
        "cough_precision": round((detected - total("false_coughs")) / detected, 3) if detected else None,
        "false_coughs_per_hour": round(total("false_coughs") / hours, 2) if hours else None,
        "true_snore_minutes": round(true_minutes, 1),
        "detected_snore_minutes": round(detected_minutes, 1),
        "snore_minutes_error": (
            round((detected_minutes - true_minutes) / true_minutes, 3) if true_minutes else None
        ),
        "snore_recall": round(found_minutes / true_minutes, 3) if true_minutes else None,
        "snore_precision": round(found_minutes / detected_minutes, 3) if detected_minutes else None,
        "false_snore_minutes_per_hour": (
            round((detected_minutes - found_minutes) / hours, 2) if hours else None
        ),
        "cough_recall_by_level": by_level,
    }
