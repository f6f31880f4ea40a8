"""Calibrating once at set-up against calibrating every night, with a partner lying nearer than the sleeper.

Usage:
    python benchmarks/rig_calibration.py [--nights 10] [--hours 2] [--out DIR]

For each seed, simulates the room twice with ``sensing simulate radar``'s generator: a
6-minute set-up recording with the sleeper alone in bed, and a night of ``--hours`` with a
partner 0.3-0.6 m nearer the radar than the sleeper (``--partner-side near``). The night is
then scored with the bundled sleep model twice: at the range ``sensing rig setup`` finds on
the set-up recording (what ``sensing rig run`` does), and at the range calibration finds on
the night itself (what ``sensing sleep`` does without ``--centre-m``). Prints, per way, how
often the range found lies within 0.1 m of the sleeper (against the partner), and the share
of 30 s epochs labelled as the simulator's truth for the sleeper (the median over nights and
the lowest).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from sensing.radar.simulate import NightParameters, NightTruth, simulate_night, truth_path
from sensing.radar.sleep.model import SleepClassifier
from sensing.radar.sleep.scoring import score_recording
from sensing.rig.setup import calibrate_recording

SETUP_HOURS = 0.1
"""The set-up recording: 6 minutes."""
SAME_PERSON_M = 0.1


def _night(folder: Path, seed: int, hours: float, *, partner: bool) -> Path:
    name = "night" if partner else "setup"
    parameters = NightParameters.random(seed, partner=partner, fan=False, curtain=False, partner_side="near")
    path, _ = simulate_night(folder / f"{name}_{seed}.npz", seed=seed, hours=hours, parameters=parameters)
    return path


def _agreement(labels: list[str], truth: NightTruth) -> float:
    return sum(a == b for a, b in zip(labels, truth.epoch_labels)) / len(truth.epoch_labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=10, help="seeds (default 10)")
    parser.add_argument("--hours", type=float, default=2.0, help="hours per night (default 2)")
    parser.add_argument("--out", type=Path, default=None, help="keep the recordings here")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="rig_calibration_"))
    folder.mkdir(parents=True, exist_ok=True)
    classifier = SleepClassifier(None)
    results: dict[str, list[tuple[bool, float]]] = {"set-up (rig)": [], "nightly": []}
    for seed in range(args.nights):
        setup = _night(folder, seed, SETUP_HOURS, partner=False)
        night = _night(folder, seed, args.hours, partner=True)
        truth = NightTruth.read(truth_path(night))
        stored = calibrate_recording(setup, SETUP_HOURS * 3600).centre_m
        assert stored is not None
        for way, centre_m in (("set-up (rig)", stored), ("nightly", None)):
            score = score_recording(night, classifier, centre_m=centre_m)
            found = score.centre_m
            results[way].append(
                (abs(found - truth.sleeper_range_m) < SAME_PERSON_M, _agreement(score.labels, truth))
            )
        print(
            f"seed {seed}: sleeper {truth.sleeper_range_m:.2f} m, partner {truth.partner_range_m:.2f} m",
            flush=True,
        )
    print()
    print("| calibration | nights | range on the sleeper | epochs right, median / lowest |")
    print("|---|---|---|---|")
    for way, rows in results.items():
        on_sleeper = sum(hit for hit, _ in rows)
        agreement = [value for _, value in rows]
        print(
            f"| {way} | {len(rows)} | {on_sleeper} of {len(rows)} | "
            f"{statistics.median(agreement):.1%} / {min(agreement):.1%} |"
        )


if __name__ == "__main__":
    main()
