"""Write synthetic cough, snore and other clips with a manifest CSV.

Run from the repository root:
    python samples/make_clips.py --out DIR [--clips-per-label N] [--seed S]
"""

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensing.cli.options import non_negative_int, positive_int
from sensing.synthetic.clips import make_clip_set


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, write the clip set and print the manifest path and clip counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--clips-per-label", type=positive_int, default=20, help="clips per label (default 20)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    manifest = make_clip_set(args.out, clips_per_label=args.clips_per_label, seed=args.seed)
    with manifest.open(newline="") as handle:
        counts = Counter(row["label"] for row in csv.DictReader(handle))
    print(f"manifest: {manifest}")
    print("clips: " + ", ".join(f"{label} {count}" for label, count in counts.items()))


if __name__ == "__main__":
    main()
