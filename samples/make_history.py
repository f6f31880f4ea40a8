"""Make a fortnight of generated nights, record them in a history and write its page.

Run from the repository root:
    python samples/make_history.py --out runs/history [--nights 14] [--hours 1]

For each night: a generated bedside recording (``sensing.synthetic.night``, its own seed) and
a simulated radar night of the same length, scored together by ``sensing night`` with a
start between 22:30 and 23:50 on consecutive evenings; then ``sensing history import`` of all
of them into OUT/history.sqlite and ``sensing history --out OUT/page``. An hour a night takes
about 15 s here.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensing.cli import main as sensing
from sensing.cli.options import between, positive_int
from sensing.synthetic.night import make_night

FIRST_EVENING = "2026-11-16"


def run(arguments: list[str]) -> None:
    """Run a sensing command; stop with its status if it fails."""
    status = sensing(arguments)
    if status:
        sys.exit(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--nights", type=positive_int, default=14, help="nights (default 14)")
    parser.add_argument("--hours", type=between(0.1, 8), default=1.0, help="hours a night (default 1)")
    args = parser.parse_args()
    radar = args.out / "radar"
    run(["simulate", "radar", "--out", str(radar), "--nights", str(args.nights), "--hours", str(args.hours)])
    folders = []
    for night in range(args.nights):
        wav, _ = make_night(args.out / f"audio_{night:03d}.wav", duration_s=args.hours * 3600, seed=night)
        day = f"2026-11-{16 + night:02d}" if 16 + night <= 30 else f"2026-12-{night - 14:02d}"
        start = f"{day}T{22 + (30 + 17 * night % 80) // 60:02d}:{(30 + 17 * night % 80) % 60:02d}"
        folder = args.out / f"night_{night:03d}"
        run(["night", "--audio", str(wav), "--radar", str(radar / f"night_{night:03d}.npz"),
             "--out", str(folder), "--start-time", start])  # fmt: skip
        folders.append(str(folder))
    history = str(args.out / "history.sqlite")
    run(["history", "import", *folders, "--history", history])
    run(["history", "--history", history, "--out", str(args.out / "page")])


if __name__ == "__main__":
    main()
