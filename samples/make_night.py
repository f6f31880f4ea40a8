"""Write a synthetic night recording (WAV) with a truth CSV of its coughs, snore episodes and distractors.

Run from the repository root:
    python samples/make_night.py --out night.wav [--minutes 30] [--seed S]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensing.cli.options import at_least, non_negative_int
from sensing.errors import SensingError
from sensing.synthetic.night import make_night, read_truth


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, write the night and print its paths and truth counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output WAV path")
    parser.add_argument(
        "--minutes", type=at_least(1), default=30.0, help="night length in minutes, at least 1 (default 30)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    try:
        wav_path, truth_path = make_night(args.out, duration_s=args.minutes * 60, seed=args.seed)
    except SensingError as error:
        sys.exit(f"error: {error}")
    events = read_truth(truth_path)
    snores = [event for event in events if event.label == "snore"]
    snore_minutes = sum(event.end_s - event.start_s for event in snores) / 60
    print(f"wav: {wav_path}")
    print(f"truth: {truth_path}")
    print(
        f"coughs {sum(event.label == 'cough' for event in events)}, "
        f"snore episodes {len(snores)} ({snore_minutes:.1f} min), "
        f"distractors {sum(event.label == 'other' for event in events)}"
    )


if __name__ == "__main__":
    main()
