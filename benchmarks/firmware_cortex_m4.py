"""The firmware package on the host and on an emulated Cortex-M4: outputs, events, compute, size.

Usage:
    python benchmarks/firmware_cortex_m4.py --tflm-dir ../shared/vendor/tflite-micro [--out DIR]

Exports the bundled microcontroller model (``sensing export firmware``), builds the package
with its own Makefile for the host and for a Cortex-M4 with its FPU (TFLite Micro's reference
kernels, and Arm's CMSIS-NN kernels), then:

- checks the model's int8 outputs on the golden windows against the golden bytes (the
  outputs of TFLite Micro's Python interpreter), on the host and on both M4 builds under
  QEMU (``mps2-an386``);
- runs a 60 s clip (a minute of a generated night holding five coughs) through ``NAME_night``
  on the host and both M4 builds, and the whole 10-minute night on the host beside
  ``sensing detect`` with the same model, and compares the events;
- reads the instructions the frontend and the model take per 0.48 s window on the M4
  (QEMU's ``-icount shift=0``: one instruction per virtual nanosecond, counted by SysTick)
  and turns them into milliseconds at 64 and 168 MHz *as if every instruction took one
  cycle*: an estimate from instruction counts, not a measurement on silicon (a Cortex-M4
  needs more than one cycle for loads, multiplies and branches, and flash adds wait states);
- attributes the M4 images' flash and RAM to their parts from the linker map
  (:mod:`firmware_export.link_map`), written into the package's ``size_report.json``.

Prints Markdown tables for the docs and writes ``OUT/results.json``. Needs make, gcc/g++,
arm-none-eabi-gcc with newlib and qemu-system-arm (Debian: gcc-arm-none-eabi
libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import soundfile

from sensing.bundled import COUGH_SNORE_MICRO
from sensing.synthetic.night import make_night

NAME = "cough_snore"
M4_TARGETS = ("cortex-m4", "cortex-m4-cmsis-nn")
HOP_S = 0.48
CLOCKS_MHZ = (64, 168)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; stop the benchmark with its output if it fails."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def events(csv_text: str) -> list[tuple[str, float, float]]:
    return [
        (row["label"], float(row["start_s"]), float(row["end_s"]))
        for row in csv.DictReader(io.StringIO(csv_text))
    ]


def same_events(ours: list, reference: list) -> bool:
    """Same count and labels, each start and end within one window hop."""
    return len(ours) == len(reference) and all(
        a[0] == b[0] and abs(a[1] - b[1]) <= HOP_S and abs(a[2] - b[2]) <= HOP_S
        for a, b in zip(ours, reference)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tflm-dir", type=Path, required=True, help="a TensorFlow Lite Micro source tree")
    parser.add_argument("--out", type=Path, default=Path("runs/firmware_cortex_m4"))
    args = parser.parse_args()
    package = args.out / "package"
    make = ["make", "-s", "-C", str(package), f"TFLM_DIR={args.tflm_dir.resolve()}"]
    results: dict = {}

    run([sys.executable, "-m", "sensing.cli", "export", "firmware", "--out", str(package)])
    started = time.monotonic()
    run([*make, "-j2", "host", *M4_TARGETS])
    results["build_s"] = round(time.monotonic() - started, 1)
    print(f"built host, {' and '.join(M4_TARGETS)} in {results['build_s']} s")

    checks = {"host": run([*make, "check-host"]).stdout}
    for target in M4_TARGETS:
        checks[target] = run([*make, "check-cortex-m4", f"M4={target}"]).stdout
    results["golden"] = {
        target: sum(int(n) for n in re.findall(r"(\d+) output bytes differ", text))
        for target, text in checks.items()
    }
    print("golden int8 outputs, bytes that differ:", results["golden"])

    ten_minutes, _ = make_night(args.out / "night_10min.wav", duration_s=600, seed=3)
    clip = args.out / "clip_60s.wav"  # seconds 75-135 of the night: five coughs, some in bouts
    audio, sr = soundfile.read(ten_minutes, dtype="int16")
    soundfile.write(clip, audio[75 * sr : 135 * sr], sr, subtype="PCM_16")
    night = run([str(package / "build" / "host" / f"{NAME}_night"), str(clip)])
    host_events = events(night.stdout)
    results["clip_events"] = {"host": len(host_events)}
    per_window: dict[str, dict[str, int]] = {}
    for target in M4_TARGETS:
        m4 = run([*make, "run-cortex-m4", f"M4={target}", f"WAV={clip.resolve()}"], timeout=1800)
        results["clip_events"][target] = len(events(m4.stdout))
        results[f"clip_same_as_host_{target}"] = same_events(events(m4.stdout), host_events)
        found = re.search(r"frontend (\d+), model (\d+)", m4.stderr)
        if found is None:
            sys.exit(f"{target}: no instruction counts in:\n{m4.stderr}")
        per_window[target] = {"frontend": int(found[1]), "model": int(found[2])}
    results["instructions_per_window"] = per_window

    device = run([str(package / "build" / "host" / f"{NAME}_night"), str(ten_minutes)])
    detect_out = args.out / "detect_10min"
    run([sys.executable, "-m", "sensing.cli", "detect", str(ten_minutes), "--model", str(COUGH_SNORE_MICRO),
         "--out", str(detect_out)])  # fmt: skip
    reference = events((detect_out / "events.csv").read_text())
    results["night_10min"] = {
        "device_events": len(events(device.stdout)),
        "sensing_detect_events": len(reference),
        "same": same_events(events(device.stdout), reference),
    }

    print("\n| kernels | frontend / window | model / window | per 0.48 s hop | "
          + " | ".join(f"ms @{mhz} MHz (% of hop)" for mhz in CLOCKS_MHZ) + " |")  # fmt: skip
    print("|---|---|---|---|" + "---|" * len(CLOCKS_MHZ))
    for target, counts in per_window.items():
        total = counts["frontend"] + counts["model"]
        cells = [f"{total / (mhz * 1e3):.0f} ({total / (mhz * 1e6) / HOP_S:.0%})" for mhz in CLOCKS_MHZ]
        print(f"| {target} | {counts['frontend'] / 1e6:.2f} M | {counts['model'] / 1e6:.2f} M | {total / 1e6:.2f} M | "
              + " | ".join(cells) + " |")  # fmt: skip

    results["sizes"] = {}
    for target in M4_TARGETS:
        table = run(
            [sys.executable, "-m", "firmware_export.link_map", str(package), "--target", target]
        ).stdout
        results["sizes"][target] = json.loads((package / "size_report.json").read_text())["linked"][target]
        print(f"\n{target}:\n{table}")
    print("\n" + json.dumps({key: value for key, value in results.items() if key != "sizes"}, indent=2))
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
