"""How often calibration finds the sleeper, and how close its breathing rate is, on simulated nights.

Usage:
    python benchmarks/radar_calibration.py [--nights 10] [--hours 0.5] [--out runs/radar_calibration]

For each room (the sleeper alone; with a bed partner; a ceiling fan; a swaying
curtain; all three) simulates ``--nights`` nights (seeds 0, 1, ...) and runs
:func:`sensing.radar.calibration.calibrate` with its defaults. A night counts
as found when the sleeper's true chest range lies within the chosen window
(with 5 cm of margin); the breathing error compares calibration's rate with
the simulator's mean rate over the window it decided on. Prints a Markdown
table for the docs.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from sensing.radar.calibration import WINDOW_S, calibrate
from sensing.radar.recording import Recording
from sensing.radar.simulate import (
    NightParameters,
    NightTruth,
    simulate_night,
    truth_path,
)

ROOMS = {
    "sleeper alone": {},
    "with a partner": {"partner": True},
    "with a fan": {"fan": True},
    "with a curtain": {"curtain": True},
    "partner, fan and curtain": {"partner": True, "fan": True, "curtain": True},
}
MARGIN_M = 0.05


def score_night(path: Path, truth: NightTruth) -> tuple[bool, float | None]:
    """(sleeper found, |calibration rate - true rate| per minute or None)."""
    with Recording(path) as recording:
        calibration = calibrate(recording)
    if (
        calibration.range_min_m is None
        or calibration.range_max_m is None
        or calibration.window_start_s is None
        or calibration.rate_bpm is None
    ):
        return False, None
    found = calibration.range_min_m - MARGIN_M <= truth.sleeper_range_m <= calibration.range_max_m + MARGIN_M
    start = int(calibration.window_start_s)
    rates = [rate for rate in truth.breathing_rate_bpm[start : start + int(WINDOW_S)] if rate]
    error = abs(calibration.rate_bpm - float(np.mean(rates))) if rates else None
    return found, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=10, help="nights per room (default 10)")
    parser.add_argument("--hours", type=float, default=0.5, help="hours per night (default 0.5)")
    parser.add_argument("--out", type=Path, default=None, help="keep the nights here")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="radar_calibration_"))
    folder.mkdir(parents=True, exist_ok=True)
    print("| room | nights | sleeper found | breathing rate error, median / largest (per min) |")
    print("|---|---|---|---|")
    for room, flags in ROOMS.items():
        found, errors = 0, []
        for seed in range(args.nights):
            parameters = NightParameters.random(
                seed,
                partner=flags.get("partner", False),
                fan=flags.get("fan", False),
                curtain=flags.get("curtain", False),
            )
            path, _ = simulate_night(
                folder / f"{room.replace(' ', '_')}_{seed}.npz",
                seed=seed,
                hours=args.hours,
                parameters=parameters,
            )
            hit, error = score_night(path, NightTruth.read(truth_path(path)))
            found += hit
            if hit and error is not None:
                errors.append(error)
        spread = f"{np.median(errors):.2f} / {max(errors):.2f}" if errors else "n/a"
        print(f"| {room} | {args.nights} | {found} | {spread} |", flush=True)


if __name__ == "__main__":
    main()
