"""Real-time factor and peak memory of ``sensing detect`` on a long generated night.

Usage:
    python benchmarks/detect_speed.py [--hours 8] [--model MODEL.tflite] [--work DIR]

Generates a night with ``sensing.synthetic.night`` (16 kHz, 16-bit; about 115 MB
per hour on disk), then runs ``sensing detect --threads 1`` on it in a child
process pinned to one CPU core (where ``taskset`` exists), and reports the wall
time, the real-time factor (audio duration / wall time) and the child's peak
resident memory. Prints a Markdown table for the docs, then how the
detected events compare with the night's truth.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from sensing.synthetic.night import (
    compare_with_truth,
    describe_comparison,
    make_night,
    read_truth,
)


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--model", type=Path, default=None, help="default: the bundled model")
    parser.add_argument("--work", type=Path, default=Path("runs/detect_speed"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    wav = args.work / f"night_{args.hours:g}h.wav"
    if not wav.exists():
        print(f"generating {args.hours:g} h night: {wav}", file=sys.stderr)
        make_night(wav, duration_s=args.hours * 3600, seed=1)
    command = [
        sys.executable,
        "-m",
        "sensing",
        "detect",
        str(wav),
        "--out",
        str(args.work / "out"),
        "--threads",
        "1",
    ] + (["--model", str(args.model)] if args.model else [])
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0"] + command
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report = json.loads((args.work / "out" / "report.json").read_text())
    cpu = cpu_name()
    print("| machine | audio | wall time | real-time factor | peak memory | backend |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {cpu}, {os.cpu_count()} cores, 1 used | {report['duration_s'] / 3600:.1f} h | "
        f"{wall:.1f} s | {report['duration_s'] / wall:.0f} | {peak_mb:.0f} MB | "
        f"{report['model']['backend']} |"
    )
    truth = read_truth(wav.with_name(f"{wav.stem}.truth.csv"))
    print(f"\nAgainst the night's truth: {describe_comparison(compare_with_truth(report['events'], truth))}.")


if __name__ == "__main__":
    main()
