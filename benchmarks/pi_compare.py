"""The two halves of ``benchmarks/pi_emulated.sh``: model outputs on fixed inputs, and the comparison.

Usage (the shell script runs both; by hand):
    python benchmarks/pi_compare.py outputs --out DIR --night night.wav --radar radar.npz \\
        --audio-model dense=model.tflite --audio-model sparse=model_sparse.tflite
    python benchmarks/pi_compare.py report --x86 X86_DIR --arm ARM_DIR --out report.md

``outputs`` imports only numpy and the ``sensing`` runtime (no TensorFlow), so it
runs the same on the x86 host and in the emulated arm64 root. It writes, into
DIR, ``outputs_NAME.npy`` for every audio model (softmax outputs on the first
windows of the night and on random windows, seed 0), ``outputs_sleep.npy``
(the bundled sleep model on every epoch of the radar night) and
``platform.json`` (machine, Python, package versions, CPU features). Float
models must agree within 1e-5; an int8 model within one step of its output
quantization, since integer kernels may round differently on each CPU.

``report`` compares two such folders, each also holding ``detect/events.csv``,
``sleep/epochs.csv``, ``bench.json`` (``sensing bench --json``) and
``check_sparse.json``, prints a summary table, writes it to ``--out`` and exits
1 when the two machines disagree.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import struct
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

OUTPUT_TOLERANCE = 1e-5
"""Largest difference allowed between the two machines' model outputs."""
SCORE_TOLERANCE = 1e-4
"""Event scores are written with 4 decimals; one unit of the last place may differ."""
EPOCH_CSV_TOLERANCE = 1e-4
"""epochs.csv holds probabilities with 4 decimals (the raw outputs are compared to 1e-5)."""
XNNPACK_LINE = "Created TensorFlow Lite XNNPACK delegate"
"""What the TFLite runtime prints on stderr when XNNPACK takes the model."""
NIGHT_WINDOWS = 64
RANDOM_WINDOWS = 16
PACKAGES = ("sensing", "numpy", "soundfile", "ai-edge-litert", "tensorflow")

# AT_HWCAP bits of Linux on arm64 (arch/arm64/include/uapi/asm/hwcap.h) worth naming.
_ARM64_HWCAPS = {
    0: "fp",
    1: "asimd",
    3: "aes",
    4: "pmull",
    5: "sha1",
    6: "sha2",
    7: "crc32",
    8: "atomics",
    9: "fphp",
    10: "asimdhp",
    11: "cpuid",
    12: "asimdrdm",
    20: "asimddp",
    22: "sve",
    23: "asimdfhm",
}
_AT_HWCAP = 16


def _hwcap() -> int | None:
    """The kernel's (or qemu-user's) AT_HWCAP for this process, None when unreadable."""
    try:
        data = Path("/proc/self/auxv").read_bytes()
    except OSError:
        return None
    for key, value in struct.iter_unpack("QQ", data[: len(data) // 16 * 16]):
        if key == _AT_HWCAP:
            return value
    return None


def platform_facts() -> dict:
    """Machine, Python, installed versions and (on arm64) the CPU features this process sees."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    facts: dict = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "libc": " ".join(platform.libc_ver()),
        "versions": versions,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    try:
        import soundfile

        facts["libsndfile"] = soundfile.__libsndfile_version__
    except (ImportError, OSError):
        facts["libsndfile"] = None
    hwcap = _hwcap()
    if platform.machine() == "aarch64" and hwcap is not None:
        facts["hwcap"] = f"{hwcap:#x}"
        facts["cpu_features"] = [name for bit, name in _ARM64_HWCAPS.items() if hwcap >> bit & 1]
    return facts


def write_outputs(out: Path, night: Path, radar: Path, audio_models: dict[str, Path]) -> None:
    """Every model's outputs on fixed inputs, and platform.json."""
    from sensing.audio.classifier import AudioClassifier
    from sensing.audio.model_input import clip_inputs, input_shape
    from sensing.audio.reading import load_audio
    from sensing.radar.sleep.input import night_inputs
    from sensing.radar.sleep.model import SleepClassifier

    out.mkdir(parents=True, exist_ok=True)
    for name, path in audio_models.items():
        classifier = AudioClassifier(path, num_threads=1)
        settings = classifier.metadata.features
        audio = load_audio(night, sr=settings.sr).samples[: 120 * settings.sr]
        windows, _ = clip_inputs(audio, classifier.frontend, settings)
        noise = np.random.default_rng(0).standard_normal(
            (RANDOM_WINDOWS, *input_shape(classifier.frontend, settings))
        )
        inputs = np.concatenate([windows[:NIGHT_WINDOWS], noise.astype(np.float32)])
        np.save(out / f"outputs_{name}.npy", classifier.predict_windows(inputs))
        quantization = classifier.output_quantization
        step = {"output_step": None if quantization is None else float(quantization[0])}
        (out / f"outputs_{name}.json").write_text(json.dumps(step) + "\n")
        print(f"{name}: {len(inputs)} windows through {path}", file=sys.stderr)
    sleep = SleepClassifier(num_threads=1)
    epochs = night_inputs(radar, sleep.features).inputs
    np.save(out / "outputs_sleep.npy", sleep.predict_epochs(epochs))
    print(f"sleep: {len(epochs)} epochs through {sleep.model_path.name}", file=sys.stderr)
    (out / "platform.json").write_text(json.dumps(platform_facts(), indent=2) + "\n")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def compare_events(x86: Path, arm: Path) -> tuple[bool, str]:
    """Same events (label, start, end) in the same order, scores within :data:`SCORE_TOLERANCE`."""
    left, right = _rows(x86), _rows(arm)
    if len(left) != len(right):
        return False, f"{len(left)} events on x86, {len(right)} on arm64"
    worst = 0.0
    for a, b in zip(left, right):
        if (a["label"], a["start_s"], a["end_s"]) != (b["label"], b["start_s"], b["end_s"]):
            return False, f"x86 {a} against arm64 {b}"
        worst = max(worst, abs(float(a["score"]) - float(b["score"])))
    counts = {
        label: sum(row["label"] == label for row in left) for label in sorted({r["label"] for r in left})
    }
    summary = ", ".join(f"{count} {label}" for label, count in counts.items()) or "none"
    return (
        worst <= SCORE_TOLERANCE,
        f"{len(left)} events ({summary}) equal; scores differ by {worst:.1e} at most",
    )


def compare_epochs(x86: Path, arm: Path) -> tuple[bool, str]:
    """Same label per epoch, probabilities within :data:`EPOCH_CSV_TOLERANCE` (4 decimals in the file)."""
    left, right = _rows(x86), _rows(arm)
    if len(left) != len(right):
        return False, f"{len(left)} epochs on x86, {len(right)} on arm64"
    labels_differ = sum(a["label"] != b["label"] for a, b in zip(left, right))
    columns = [name for name in left[0] if name.startswith("p_")] if left else []
    worst = max(
        (abs(float(a[c]) - float(b[c])) for a, b in zip(left, right) for c in columns),
        default=0.0,
    )
    ok = labels_differ == 0 and worst <= EPOCH_CSV_TOLERANCE
    return (
        ok,
        f"{len(left)} epochs, {labels_differ} labels differ; probabilities differ by {worst:.1e} at most",
    )


def compare_outputs(x86: Path, arm: Path) -> list[tuple[str, bool, str]]:
    """Each ``outputs_*.npy`` of both folders within :data:`OUTPUT_TOLERANCE`."""
    results = []
    for left_path in sorted(x86.glob("outputs_*.npy")):
        name = left_path.stem.removeprefix("outputs_")
        right_path = arm / left_path.name
        if not right_path.is_file():
            results.append((name, False, "missing on arm64"))
            continue
        left, right = np.load(left_path), np.load(right_path)
        if left.shape != right.shape:
            results.append((name, False, f"shapes {left.shape} and {right.shape}"))
            continue
        differences = np.abs(left - right)
        worst = float(differences.max()) if left.size else 0.0
        same_top = bool(np.array_equal(left.argmax(axis=1), right.argmax(axis=1)))
        detail = f"{left.shape[0]} inputs, max |x86 - arm64| {worst:.1e}"
        tolerance = OUTPUT_TOLERANCE
        step_file = x86 / f"outputs_{name}.json"
        step = json.loads(step_file.read_text()).get("output_step") if step_file.is_file() else None
        if step is not None:  # an int8 model: integer kernels may round one step apart
            tolerance = max(OUTPUT_TOLERANCE, step * 1.001)
            detail += (
                f" (int8 output: {int(np.sum(differences > 0))} of {differences.size} values differ, "
                f"by at most {worst / step:.0f} step of {step:.4g})"
            )
        if not same_top:
            detail += ", top label differs"
        results.append((name, worst <= tolerance and same_top, detail))
    return results


def _bench(path: Path) -> list[dict]:
    return json.loads(path.read_text()) if path.is_file() else []


def _ratio(bench: list[dict]) -> float | None:
    """Dense-stored over sparse median latency: the second model's speed against the first."""
    return bench[1]["speed_vs_first"] if len(bench) >= 2 else None


def _latencies(bench: list[dict]) -> str:
    return " / ".join(f"{row['latency_median_ms']:.3f}" for row in bench[:2]) if bench else "n/a"


def _versions(facts: dict) -> str:
    versions = facts.get("versions", {})
    parts = [f"Python {facts.get('python')}"] + [
        f"{name} {version}" for name, version in versions.items() if version and name != "sensing"
    ]
    if facts.get("libsndfile"):
        parts.append(f"libsndfile {facts['libsndfile']}")
    return ", ".join(parts)


def report(args: argparse.Namespace) -> int:
    """Compare the x86 and arm64 folders; print and write the summary."""
    x86, arm = args.x86, args.arm
    checks = [
        ("detect: events.csv", *compare_events(x86 / "detect" / "events.csv", arm / "detect" / "events.csv")),
        ("sleep: epochs.csv", *compare_epochs(x86 / "sleep" / "epochs.csv", arm / "sleep" / "epochs.csv")),
    ]
    checks += [(f"outputs: {name}", ok, text) for name, ok, text in compare_outputs(x86, arm)]
    agree = all(ok for _, ok, _ in checks)

    arm_facts = json.loads((arm / "platform.json").read_text())
    x86_facts = json.loads((x86 / "platform.json").read_text())
    check = json.loads((arm / "check_sparse.json").read_text())
    arm_bench, x86_bench = _bench(arm / "bench.json"), _bench(x86 / "bench.json")
    noavx_bench = _bench(x86 / "bench_noavx.json")
    arm_ratio, noavx_ratio, native_ratio = _ratio(arm_bench), _ratio(noavx_bench), _ratio(x86_bench)
    bench_log = arm / "logs" / "bench.log"
    delegate = bench_log.is_file() and XNNPACK_LINE in bench_log.read_text(errors="replace")
    sparse_ran = delegate and arm_ratio is not None and arm_ratio >= args.sparse_ratio
    verdict = "yes" if check["sparse_ready"] else "no"

    x86_notes = json.loads((x86 / "check_sparse.json").read_text()).get("notes", [])
    avx = ", AVX: sparse kernels off" if any("AVX" in note for note in x86_notes) else ""

    def ratio_text(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}x"

    lines = [
        f"# x86-64 against emulated Raspberry Pi (arm64, qemu-user -cpu {args.cpu})",
        "",
        "| check | agree | detail |",
        "|---|---|---|",
        *(f"| {name} | {'yes' if ok else 'NO'} | {text} |" for name, ok, text in checks),
        "",
        f"| sparse path ({Path(check['model']).name}) | dense/sparse time | median ms dense / sparse |",
        "|---|---|---|",
        f"| check-sparse on arm64: {verdict} ({check['zero_fraction']:.1%} of 1x1 weights zero) | | |",
        f"| emulated {args.cpu} (qemu-aarch64) | {ratio_text(arm_ratio)} | {_latencies(arm_bench)} |",
        (
            f"| emulated x86-64 without AVX (qemu-x86_64 -cpu Nehalem) | {ratio_text(noavx_ratio)} "
            f"| {_latencies(noavx_bench)} |"
        ),
        (
            f"| native x86-64 ({x86_facts.get('cpu', x86_facts['machine'])}{avx}) | {ratio_text(native_ratio)} "
            f"| {_latencies(x86_bench)} |"
        ),
        "",
        (
            f"XNNPACK's sparse path on arm64: {'ran' if sparse_ran else 'did NOT run'} "
            f"(check-sparse says {verdict}; dense/sparse time {ratio_text(arm_ratio)} under emulation, "
            f"taken as sparse at {args.sparse_ratio:g}x or more; XNNPACK delegate "
            f"{'created' if delegate else 'NOT created'})."
        ),
        (
            "Emulated times count instructions through qemu's translation, not a Pi's pipeline, caches or "
            "memory: the ratios are proxies for the work the sparse kernels skip, not Raspberry Pi timings."
        ),
        "",
        f"arm64: {_versions(arm_facts)}; CPU features seen: {', '.join(arm_facts.get('cpu_features', []))}.",
        f"x86-64: {_versions(x86_facts)}.",
        *([f"Emulator: {args.qemu}."] if args.qemu else []),
        "",
        f"Agreement: {'all checks pass' if agree else 'the machines DISAGREE'}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    summary = {
        "agree": agree,
        "checks": [{"check": name, "agree": ok, "detail": detail} for name, ok, detail in checks],
        "check_sparse": check["sparse_ready"],
        "arm_ratio": arm_ratio,
        "noavx_ratio": noavx_ratio,
        "native_ratio": native_ratio,
        "xnnpack_delegate": delegate,
        "sparse_ran": sparse_ran,
        "arm": arm_facts,
        "x86": x86_facts,
        "cpu": args.cpu,
    }
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if agree else 1


def _named_model(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    outputs = commands.add_parser("outputs", help="model outputs on fixed inputs, and platform.json")
    outputs.add_argument("--out", type=Path, required=True)
    outputs.add_argument("--night", type=Path, required=True, help="an audio night (its first 2 minutes)")
    outputs.add_argument("--radar", type=Path, required=True, help="a radar night (.npz)")
    outputs.add_argument("--audio-model", type=_named_model, action="append", default=[], help="NAME=PATH")
    compare = commands.add_parser("report", help="compare an x86 and an arm64 folder")
    compare.add_argument("--x86", type=Path, required=True)
    compare.add_argument("--arm", type=Path, required=True)
    compare.add_argument("--out", type=Path, required=True, help="the summary (Markdown; JSON beside it)")
    compare.add_argument("--cpu", default="cortex-a72", help="the emulated arm64 CPU, for the summary")
    compare.add_argument("--qemu", default="", help="the emulator's version, for the summary")
    compare.add_argument(
        "--sparse-ratio",
        type=float,
        default=1.3,
        help="dense/sparse time ratio taken as the sparse kernels having run (default 1.3)",
    )
    args = parser.parse_args()
    if args.command == "outputs":
        write_outputs(args.out, args.night, args.radar, dict(args.audio_model))
        return
    sys.exit(report(args))


if __name__ == "__main__":
    main()
