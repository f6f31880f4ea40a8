"""Write a synthetic night recording (coughs, snore episodes, distractors over room noise) with its truth CSV.

The WAV is written in BLOCK_S-second blocks, so memory stays small however long the night is.
Both files are written under temporary names and renamed when complete (:mod:`sensing.files`):
a full disk or a crash leaves the previous files or none, never a part.
"""

from __future__ import annotations

import csv
import io
import math
import wave
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import SensingError
from sensing.files import atomic_path, make_folder, write_atomically
from sensing.progress import Progress
from sensing.synthetic import sounds as synth

BLOCK_S = 30.0  # whole seconds, so one block of 50/60 Hz hum repeats seamlessly
FADE_S = 0.05  # crossfade between the room noise of consecutive blocks
EDGE_S = 1.0  # no event closer than this to the start or end of the night
MIN_GAP_S = 2.0  # least silence between any two events
PER_30_MIN = {"snore_episode": 3, "cough_bout": 12, "distractor": 10}
SNORE_MAX_S = 1.6  # longest single snore from synth.snore
COUGH_BOUT_MAX_S = 3.0  # three 0.6 s coughs with two 0.6 s gaps
DISTRACTOR_DURATIONS_S = {"knock": (1.0, 2.0), "beep": (1.0, 2.0), "babble": (1.5, 4.0)}
AUDIBLE_RE_PEAK = 0.01  # a distractor's truth spans its samples above -40 dB re its peak
NOISE_FLOOR_DBFS = (-55.0, -40.0)  # RMS of the room noise: a quiet bedroom at a bedside microphone
EVENT_ABOVE_FLOOR_DB = (15.0, 35.0)  # a sound's peak above the noise RMS (about 5-25 dB in RMS)


@dataclass(frozen=True)
class NightEvent:
    """One truth event: label "cough", "snore" or "other"; start_s and end_s in seconds from the start of the night."""

    label: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class _Sound:
    """A planned sound: kind "snore", "cough" (a bout) or a distractor generator name.

    start_s: onset, seconds; max_duration_s: the longest it can last, seconds;
    level_dbfs: peak level (of the first cough of a bout); item: index of its episode, bout or distractor.
    """

    kind: str
    start_s: float
    max_duration_s: float
    level_dbfs: float
    item: int = 0


def _snore_episode(rng: np.random.Generator, *, length_s: float, floor_dbfs: float) -> list[_Sound]:
    """Snores every 3.5-5.5 s (+-7% jitter per snore), peaking EVENT_ABOVE_FLOOR_DB above the room
    noise's RMS ``floor_dbfs`` (+-2 dB per snore), within ``length_s`` seconds from 0."""
    period_s = rng.uniform(3.5, 5.5)
    level_dbfs = floor_dbfs + rng.uniform(*EVENT_ABOVE_FLOOR_DB)
    onsets_s = [0.0]
    while (onset_s := onsets_s[-1] + period_s * rng.uniform(0.93, 1.07)) + SNORE_MAX_S <= length_s:
        onsets_s.append(onset_s)
    return [_Sound("snore", t, SNORE_MAX_S, level_dbfs + rng.uniform(-2, 2)) for t in onsets_s]


def _distractor(rng: np.random.Generator, *, floor_dbfs: float) -> list[_Sound]:
    """A knock, beep or babble sound of 1-4 s peaking EVENT_ABOVE_FLOOR_DB above ``floor_dbfs``, starting at 0."""
    kind = str(rng.choice(list(DISTRACTOR_DURATIONS_S)))
    return [
        _Sound(
            kind,
            0.0,
            rng.uniform(*DISTRACTOR_DURATIONS_S[kind]),
            floor_dbfs + rng.uniform(*EVENT_ABOVE_FLOOR_DB),
        )
    ]


def _plan(rng: np.random.Generator, duration_s: float, floor_dbfs: float) -> list[_Sound]:
    """Snore episodes, cough bouts and distractors for a ``duration_s`` s night, sorted by start.

    Items are laid out in random order with random gaps of at least MIN_GAP_S between them.
    """
    n_episodes, n_bouts, n_distractors = (
        max(1, round(rate * duration_s / 1800)) for rate in PER_30_MIN.values()
    )
    items = [
        _snore_episode(rng, length_s=min(rng.uniform(120, 300), 0.3 * duration_s), floor_dbfs=floor_dbfs)
        for _ in range(n_episodes)
    ]
    items += [
        [_Sound("cough", 0.0, COUGH_BOUT_MAX_S, floor_dbfs + rng.uniform(*EVENT_ABOVE_FLOOR_DB))]
        for _ in range(n_bouts)
    ]
    items += [_distractor(rng, floor_dbfs=floor_dbfs) for _ in range(n_distractors)]
    order = rng.permutation(len(items))
    lengths_s = [max(s.start_s + s.max_duration_s for s in items[i]) for i in order]
    slack_s = duration_s - 2 * EDGE_S - sum(lengths_s) - MIN_GAP_S * (len(items) - 1)
    if slack_s < 0:
        raise SensingError(f"a {duration_s} s night is too short for its {len(items)} events")
    gaps_s = slack_s * rng.dirichlet(np.ones(len(items) + 1))
    sounds, t = [], EDGE_S
    for item, (index, length_s, gap_s) in enumerate(zip(order, lengths_s, gaps_s)):
        t += gap_s
        sounds += [replace(s, start_s=t + s.start_s, item=item) for s in items[index]]
        t += length_s + MIN_GAP_S
    return sounds


def _cough_bout(
    rng: np.random.Generator, *, speaker: synth.Speaker, level_dbfs: float, sr: int
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """1-3 single coughs 0.3-0.6 s apart, each 1.5 dB below the one before.

    Returns the audio (n,) float32 and each cough's (start_s, end_s) from the bout's start.
    """
    parts, extents_s, filled = [], [], 0
    for i in range(int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))):
        if i:
            parts.append(np.zeros(synth.n_samples(rng.uniform(0.3, 0.6), sr), dtype=np.float32))
            filled += parts[-1].size
        one = synth.cough(rng, speaker=speaker, n_coughs=1, sr=sr)
        parts.append(synth.peak_normalise(one, level_dbfs=level_dbfs - 1.5 * i))
        extents_s.append((filled / sr, (filled + one.size) / sr))
        filled += one.size
    return np.concatenate(parts), extents_s


def _render(
    sound: _Sound, rng: np.random.Generator, speaker: synth.Speaker, sr: int
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Audio (n,) float32 of ``sound`` and the (start_s, end_s) of each truth event in it, from its start."""
    if sound.kind == "cough":
        return _cough_bout(rng, speaker=speaker, level_dbfs=sound.level_dbfs, sr=sr)
    if sound.kind == "snore":
        audio = synth.snore(rng, speaker=speaker, sr=sr)
        extents_s = [(0.0, audio.size / sr)]
    else:
        audio = synth.negative(rng, kind=sound.kind, duration_s=sound.max_duration_s, sr=sr)
        audible = np.flatnonzero(np.abs(audio) > AUDIBLE_RE_PEAK)
        extents_s = [(audible[0] / sr, (audible[-1] + 1) / sr)]
    return synth.peak_normalise(audio, level_dbfs=sound.level_dbfs), extents_s


def _at_rms(audio: np.ndarray, rms: float) -> np.ndarray:
    """``audio`` (n,) scaled to root-mean-square ``rms``, as float32."""
    return np.asarray(
        (audio * (rms / np.sqrt(np.mean(np.square(audio, dtype=np.float64))))).astype(np.float32)
    )


def _room_blocks(seed: int, n: int, sr: int, floor_dbfs: float) -> Iterator[tuple[int, np.ndarray]]:
    """Quiet room background of n samples as (first sample, block (m,) float32), BLOCK_S seconds a block.

    Coloured noise at ``floor_dbfs`` RMS, with mains hum 3-10 dB below it in 30% of nights.
    Each block has fresh noise, equal-power crossfaded over FADE_S from the previous block's overrun.
    """
    rng = np.random.default_rng((seed, 1))
    color = str(rng.choice(synth.NOISE_COLORS))
    rms = 10 ** (floor_dbfs / 20)
    block_n, fade_n = synth.n_samples(BLOCK_S, sr), synth.n_samples(FADE_S, sr)
    hum = np.zeros(block_n, dtype=np.float32)
    if rng.random() < 0.3:
        hum = _at_rms(synth.hum(rng, duration_s=BLOCK_S, sr=sr), rms * 10 ** (-rng.uniform(3, 10) / 20))
    fade_in = np.sin(0.5 * np.pi * np.linspace(0, 1, fade_n)).astype(np.float32)
    overrun = np.zeros(fade_n, dtype=np.float32)
    for index, start in enumerate(range(0, n, block_n)):
        m = min(block_n, n - start)
        block_rng = np.random.default_rng((seed, 2, index))
        fresh = _at_rms(synth.noise(block_rng, duration_s=(m + fade_n) / sr, color=color, sr=sr), rms)
        if index:
            fresh[:fade_n] = fresh[:fade_n] * fade_in + overrun * fade_in[::-1]
        overrun = fresh[m:]
        yield start, fresh[:m] + hum[:m]


def night_blocks(duration_s: float, sr: int = 16000) -> int:
    """How many BLOCK_S-second blocks :func:`make_night` writes for a ``duration_s`` s night."""
    return math.ceil(synth.n_samples(duration_s, sr) / synth.n_samples(BLOCK_S, sr))


def _pcm16(block: np.ndarray) -> bytes:
    """Samples (n,) in [-1, 1] as little-endian 16-bit PCM, rounded as libsndfile rounds them (to 32
    bits, then the top 16), so a seed gives the same bytes as with soundfile; clipped."""
    wide = np.clip(np.rint(block.astype(np.float64) * 2.0**31), -(2.0**31), 2.0**31 - 1).astype(np.int64)
    return (wide >> 16).astype("<i2").tobytes()


def _write_wav(
    wav_path: Path,
    sounds: list[_Sound],
    *,
    speaker: synth.Speaker,
    n: int,
    seed: int,
    sr: int,
    floor_dbfs: float,
    progress: Progress | None,
) -> list[list[tuple[float, float]]]:
    """Write n samples of room background plus ``sounds`` as 16-bit PCM, block by block.

    Each sound is rendered once, when the first block it reaches is written; ``progress``
    advances once a block. Returns, per sound, the (start_s, end_s) of each truth event in it,
    from the start of the night.
    """
    extents_s, playing, next_sound = [], [], 0
    with wave.open(str(wav_path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sr)
        for block_start, block in _room_blocks(seed, n, sr, floor_dbfs):
            block_end = block_start + block.size
            while (
                next_sound < len(sounds)
                and (start := synth.n_samples(sounds[next_sound].start_s, sr)) < block_end
            ):
                rng = np.random.default_rng((seed, 3, next_sound))
                audio, parts_s = _render(sounds[next_sound], rng, speaker, sr)
                playing.append((start, audio))
                extents_s.append([(start / sr + a, start / sr + b) for a, b in parts_s])
                next_sound += 1
            for start, audio in playing:
                lo, hi = max(start, block_start), min(start + audio.size, block_end)
                block[lo - block_start : hi - block_start] += audio[lo - start : hi - start]
            playing = [(start, audio) for start, audio in playing if start + audio.size > block_end]
            out.writeframes(_pcm16(block))
            if progress is not None:
                progress.advance()
    return extents_s


def _truth(sounds: list[_Sound], extents_s: list[list[tuple[float, float]]]) -> list[tuple[NightEvent, str]]:
    """(event, kind) rows sorted by start: one per cough, per snore episode and per distractor."""
    rows: list[tuple[NightEvent, str]] = []
    episodes: dict[int, list[float]] = {}
    for sound, parts_s in zip(sounds, extents_s):
        if sound.kind == "snore":
            episodes.setdefault(sound.item, [parts_s[0][0], 0.0])[1] = parts_s[0][1]
        else:
            label = "cough" if sound.kind == "cough" else "other"
            rows += [(NightEvent(label, a, b), sound.kind) for a, b in parts_s]
    rows += [(NightEvent("snore", a, b), "snore_episode") for a, b in episodes.values()]
    return sorted(rows, key=lambda row: row[0].start_s)


def make_night(
    out_path: str | Path,
    *,
    duration_s: float = 1800.0,
    seed: int = 0,
    sr: int = 16000,
    progress: Progress | None = None,
) -> tuple[Path, Path]:
    """Write a mono 16-bit WAV night of ``duration_s`` seconds at ``out_path`` and its truth CSV beside it.

    One sleeper; per 30 minutes about 3 snore episodes of 2-5 min (at most 30% of the night each),
    12 bouts of 1-3 coughs and 10 knock, beep or babble distractors, all at least MIN_GAP_S apart,
    over room noise at -55..-40 dBFS RMS, at bedside levels: each sound peaks 15-35 dB above the
    noise (about 5-25 dB above it in RMS), so the loudest are near -5 dBFS and the quietest near -40. The truth CSV ``<stem>.truth.csv`` has columns label,start_s,end_s,kind
    (seconds): one row per cough (kind "cough"), per snore episode (label "snore", kind "snore_episode",
    first snore's start to last snore's end) and per distractor (label "other", kind its generator).
    The same seed gives byte-identical files. ``progress`` advances once per BLOCK_S-second
    block (:func:`night_blocks` of them). Returns (wav path, truth path).

    Raises:
        WriteError: a file cannot be written (a full disk); neither is left half-written.
    """
    wav_path = Path(out_path)
    truth_path = wav_path.with_name(f"{wav_path.stem}.truth.csv")
    make_folder(wav_path.parent)
    rng = np.random.default_rng((seed, 0))
    speaker = synth.random_speaker(rng)
    floor_dbfs = float(rng.uniform(*NOISE_FLOOR_DBFS))
    sounds = _plan(rng, duration_s, floor_dbfs)
    truth_path.unlink(missing_ok=True)  # never beside another night's audio
    with atomic_path(wav_path) as partial:
        extents_s = _write_wav(
            partial,
            sounds,
            speaker=speaker,
            n=synth.n_samples(duration_s, sr),
            seed=seed,
            sr=sr,
            floor_dbfs=floor_dbfs,
            progress=progress,
        )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["label", "start_s", "end_s", "kind"])
    for event, kind in _truth(sounds, extents_s):
        writer.writerow([event.label, f"{event.start_s:.3f}", f"{event.end_s:.3f}", kind])
    write_atomically(truth_path, text.getvalue())
    return wav_path, truth_path


def read_truth(truth_path: str | Path) -> list[NightEvent]:
    """The events of a truth CSV written by make_night, in file order."""
    with Path(truth_path).open(newline="") as handle:
        return [
            NightEvent(row["label"], float(row["start_s"]), float(row["end_s"]))
            for row in csv.DictReader(handle)
        ]


def matched_count(detected_s: list[float], true_s: list[float], *, tolerance_s: float) -> int:
    """How many of the times ``true_s`` (seconds) have a detection of their own within
    ``tolerance_s``: each detection in ``detected_s`` matches at most one, the nearest free one."""
    free = sorted(detected_s)
    found = 0
    for time_s in sorted(true_s):
        near = [d for d in free if abs(d - time_s) < tolerance_s]
        if near:
            free.remove(min(near, key=lambda d: abs(d - time_s)))
            found += 1
    return found


def compare_with_truth(
    events: list[dict[str, Any]], truth: list[NightEvent], *, tolerance_s: float = 0.5
) -> dict[str, Any]:
    """How detected events (``report.json``'s ``events``) match a night's truth.

    A true cough is found when a detected cough of its own (one detection finds one
    cough) starts within ``tolerance_s`` seconds of it; a true snore episode is found
    when a detected one overlaps it.
    """
    true_coughs = [e for e in truth if e.label == "cough"]
    true_episodes = [e for e in truth if e.label == "snore"]
    coughs = [e for e in events if e["label"] == "cough"]
    episodes = [e for e in events if e["label"] == "snore"]
    return {
        "true_coughs": len(true_coughs),
        "detected_coughs": len(coughs),
        "found_coughs": matched_count(
            [float(d["start_s"]) for d in coughs], [c.start_s for c in true_coughs], tolerance_s=tolerance_s
        ),
        "true_snore_minutes": round(sum(e.end_s - e.start_s for e in true_episodes) / 60, 1),
        "detected_snore_minutes": round(sum(e["end_s"] - e["start_s"] for e in episodes) / 60, 1),
        "true_snore_episodes": len(true_episodes),
        "detected_snore_episodes": len(episodes),
        "found_snore_episodes": sum(
            any(d["start_s"] < t.end_s and d["end_s"] > t.start_s for d in episodes) for t in true_episodes
        ),
    }


def describe_comparison(match: dict[str, Any]) -> str:
    """One line for people: what :func:`compare_with_truth` found, e.g. ``"8 of 9 inserted coughs
    found within 0.5 s (8 counted, none extra); 12.4 snore minutes in 2 episodes against 12.1 in 2
    (2 of 2 found)"``."""
    extra = match["detected_coughs"] - match["found_coughs"]
    episodes, true_episodes = match["detected_snore_episodes"], match["true_snore_episodes"]
    found_episodes = match["found_snore_episodes"]
    return (
        f"{match['found_coughs']} of {match['true_coughs']} inserted coughs found within 0.5 s "
        f"({match['detected_coughs']} counted, {extra or 'none'} extra); "
        f"{match['detected_snore_minutes']:.1f} snore minutes in {episodes} "
        f"episode{'' if episodes == 1 else 's'} against {match['true_snore_minutes']:.1f} in "
        f"{true_episodes} ({found_episodes} of {true_episodes} found)"
    )
