"""How much each candidate frontend's features move when the same sound is played quieter.

Usage:
    python benchmarks/frontend_levels.py --data ../shared/data/audio/manifest.csv [--clips 300]

Takes a random sample of cough, snore and other clips and plays each two ways:

- gain: the clip at -6 dBFS peak over pink noise at -70 dBFS RMS, then the
  whole recording (clip and noise) 20 and 40 dB quieter, as a quieter
  microphone gain or a farther microphone in a quiet room would give;
- over a fixed floor: the clip at -26 and -46 dBFS peak over the same
  -70 dBFS noise (as ``sensing evaluate``'s level sweep does), so the sound
  also comes closer to the noise.

Each frontend's first model window is compared with the one at -6 dBFS: the
median over clips of the mean absolute difference, as a share of the
feature's spread at -6 dBFS (its standard deviation), so 0 means the change is
invisible and 1 means it is as large as the features' own spread.
Frontends: the older absolute log-mel (``level="absolute"``), the window-peak
log-mel (``level="window-peak"``, the default), and per-channel energy
normalisation (``librosa.pcen``, its defaults: 0.4 s smoother, gain 0.98,
bias 2, power 0.5, on mel power scaled by 2^31 as librosa advises for float
audio).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import librosa
import numpy as np

from sensing.audio.clips import read_manifest
from sensing.audio.features import (
    FeatureSettings,
    clip_features,
    mel_filterbank,
    power_spectrum,
)
from sensing.audio.reading import load_audio
from sensing.errors import AudioError
from training.audio.bedside_evaluation import SWEEP_LEVELS_DBFS, on_floor

SETTINGS = FeatureSettings()
ABSOLUTE = FeatureSettings(level="absolute", log_floor=1e-6)


def pcen_window(audio: np.ndarray) -> np.ndarray:
    """(frames, n_mels) librosa PCEN of the clip's mel power, first model window."""
    mel = (power_spectrum(audio, SETTINGS) @ mel_filterbank(SETTINGS).T).T
    return librosa.pcen(mel * 2**31, sr=SETTINGS.sr, hop_length=SETTINGS.hop_length).T[
        : SETTINGS.window_frames
    ]


FRONTENDS = {
    "absolute log-mel (older models)": lambda audio: clip_features(audio, ABSOLUTE)[0][0, ..., 0],
    "window-peak log-mel (default)": lambda audio: clip_features(audio, SETTINGS)[0][0, ..., 0],
    "PCEN (librosa)": pcen_window,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="manifest CSV")
    parser.add_argument("--clips", type=int, default=300, help="clips to sample (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    records = read_manifest(args.data)
    rng = np.random.default_rng(args.seed)
    chosen = [records[i] for i in rng.permutation(len(records))[: args.clips]]
    conditions = ["gain -20 dB", "gain -40 dB"] + [
        f"{level:g} dBFS over the floor" for level in SWEEP_LEVELS_DBFS[1:]
    ]
    moved: dict[str, dict[str, list[float]]] = {
        name: {condition: [] for condition in conditions} for name in FRONTENDS
    }
    for record in chosen:
        try:
            clip = load_audio(record.path, sr=SETTINGS.sr).samples
        except AudioError:  # silent or unreadable: training skips these too
            continue
        reference_audio = on_floor(
            clip, peak_dbfs=SWEEP_LEVELS_DBFS[0], rng=np.random.default_rng(1), sr=SETTINGS.sr
        )
        versions = {"gain -20 dB": reference_audio * 0.1, "gain -40 dB": reference_audio * 0.01}
        for level in SWEEP_LEVELS_DBFS[1:]:
            versions[f"{level:g} dBFS over the floor"] = on_floor(
                clip, peak_dbfs=level, rng=np.random.default_rng(1), sr=SETTINGS.sr
            )
        for name, frontend in FRONTENDS.items():
            reference = frontend(reference_audio)
            spread = float(np.std(reference)) + 1e-9
            for condition in conditions:
                moved[name][condition].append(
                    float(np.mean(np.abs(frontend(versions[condition]) - reference))) / spread
                )
    print(
        f"{len(moved[next(iter(FRONTENDS))][conditions[0]])} clips of {args.data}; "
        f"median over clips of mean |change| / spread at -6 dBFS"
    )
    print()
    print("| frontend | " + " | ".join(conditions) + " |")
    print("|---" * (len(conditions) + 1) + "|")
    for name in FRONTENDS:
        print(f"| {name} | " + " | ".join(f"{np.median(moved[name][c]):.3f}" for c in conditions) + " |")


if __name__ == "__main__":
    main()
