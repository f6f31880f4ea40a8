"""Write a labelled set of synthetic WAV clips (cough, snore, other) and its manifest CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import soundfile as sf

from sensing.files import atomic_path, make_folder, write_atomically
from sensing.synthetic import sounds as synth

LABELS = ("cough", "snore", "other")
PERSON_NEGATIVES = ("babble", "breathing")


def _background(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """Room noise of n samples: coloured noise, sometimes with mains hum."""
    duration_s = n / sr
    background = synth.noise(rng, duration_s=duration_s, color=str(rng.choice(synth.NOISE_COLORS)), sr=sr)
    if rng.random() < 0.3:
        background = background + 0.5 * synth.hum(rng, duration_s=duration_s, sr=sr)
    return background


def _event_clip(rng: np.random.Generator, event: np.ndarray, sr: int) -> np.ndarray:
    """A 1.0-3.0 s clip with ``event`` at a random time over background at 10-30 dB SNR."""
    event_s = event.size / sr
    duration_s = rng.uniform(max(1.0, event_s + 0.1), 3.0)
    placed = synth.place(event, duration_s=duration_s, start_s=rng.uniform(0, duration_s - event_s), sr=sr)
    return synth.mix(placed, _background(rng, placed.size, sr), snr_db=rng.uniform(10, 30))


def _other_clip(rng: np.random.Generator, index: int, n_groups: int, sr: int) -> tuple[np.ndarray, str, str]:
    """A 1.0-3.0 s negative clip; returns (audio, group, kind), kinds taken in turn."""
    kind = synth.NEGATIVE_KINDS[index % len(synth.NEGATIVE_KINDS)]
    audio = synth.negative(rng, kind=kind, duration_s=rng.uniform(1.0, 3.0), sr=sr)
    if kind != "noise" and rng.random() < 0.7:
        audio = synth.mix(audio, _background(rng, audio.size, sr), snr_db=rng.uniform(10, 30))
    prefix = "spk" if kind in PERSON_NEGATIVES else "bg"
    group = f"{prefix}{index // len(synth.NEGATIVE_KINDS) % n_groups:02d}"
    return synth.peak_normalise(audio, level_dbfs=rng.uniform(-20, -3)), group, kind


def _clip(
    label: str, index: int, speakers: list[synth.Speaker], seed: int, sr: int
) -> tuple[np.ndarray, str, str]:
    """Clip ``index`` of ``label``; returns (audio, group, category). Speakers are used in turn."""
    rng = np.random.default_rng((seed, LABELS.index(label), index))
    if label == "other":
        return _other_clip(rng, index, len(speakers), sr)
    speaker_id = index % len(speakers)
    speaker = speakers[speaker_id]
    make_event = synth.cough if label == "cough" else synth.snore
    audio = _event_clip(rng, make_event(rng, speaker=speaker, sr=sr), sr)
    level_dbfs = rng.uniform(-12, -3) + speaker.loudness_db
    return synth.peak_normalise(audio, level_dbfs=level_dbfs), f"spk{speaker_id:02d}", label


def _speakers(seed: int, n_speakers: int) -> list[synth.Speaker]:
    speaker_rng = np.random.default_rng(seed)
    return [synth.random_speaker(speaker_rng) for _ in range(n_speakers)]


def generate_clip(
    label: str, index: int, *, seed: int = 0, n_speakers: int = 6, sr: int = 16000
) -> tuple[np.ndarray, str, str]:
    """Clip ``index`` of ``label`` as :func:`make_clip_set` writes it; (audio, group, category).

    Audio is float in [-1, 1] at ``sr``, before the file's 16-bit rounding.
    """
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, got {label!r}")
    return _clip(label, index, _speakers(seed, n_speakers), seed, sr)


def make_clip_set(
    out_dir: str | Path, *, clips_per_label: int = 20, seed: int = 0, n_speakers: int = 6, sr: int = 16000
) -> Path:
    """Write ``clips_per_label`` 16-bit WAV clips per label under ``out_dir/<label>/``.

    Also writes ``out_dir/manifest.csv`` with columns path,label,group,category
    (path relative to the CSV). The same seed gives byte-identical files. Every file is
    written atomically and the manifest last, so an interrupted set has no manifest.
    Returns the manifest path.
    """
    out_dir = Path(out_dir)
    speakers = _speakers(seed, n_speakers)
    rows = []
    for label in LABELS:
        make_folder(out_dir / label)
        for index in range(clips_per_label):
            audio, group, category = _clip(label, index, speakers, seed, sr)
            relative_path = f"{label}/{group}_{category}_{index:03d}.wav"
            with atomic_path(out_dir / relative_path) as partial:
                sf.write(partial, audio, sr, subtype="PCM_16")
            rows.append({"path": relative_path, "label": label, "group": group, "category": category})
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=["path", "label", "group", "category"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomically(out_dir / "manifest.csv", table.getvalue())
