"""The audio commands of ``sensing``: ``classify``, ``detect``, ``demo``, ``bench`` and ``check-sparse``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sensing.cli.options import at_least, display_path
from sensing.cli.printing import print_audio_night, print_combined_night
from sensing.errors import SensingError
from sensing.folders import output_folder


def _audio_paths(inputs: list[str]) -> list[Path]:
    """Audio files named directly, found in folders, or listed in manifest CSVs."""
    from sensing.audio.clips import AUDIO_SUFFIXES, read_manifest

    paths: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise SensingError(f"{item}: no audio files in this folder")
            paths.extend(found)
        elif item.suffix.lower() == ".csv":
            paths.extend(display_path(record.path) for record in read_manifest(item))
        else:
            paths.append(item)
    return paths


def _command_classify(args: argparse.Namespace) -> int:
    from sensing.audio.classifier import AudioClassifier

    classifier = AudioClassifier(args.model, num_threads=args.threads)
    print(f"model {args.model} on {classifier.backend}", file=sys.stderr)
    paths = _audio_paths(args.paths)
    failures = 0
    if not args.jsonl:
        print(
            f"{'file':<40} {'seconds':>8} "
            + " ".join(f"{label:>8}" for label in classifier.labels)
            + "  label"
        )
    for path in paths:
        try:
            result = classifier.classify_file(path)
        except SensingError as error:
            failures += 1
            print(f"skipped {error}", file=sys.stderr)
            continue
        if args.jsonl:
            print(
                json.dumps(
                    {
                        "file": str(path),
                        "duration_s": round(result.duration_s, 3),
                        "scores": {k: round(v, 4) for k, v in result.scores.items()},
                        "label": result.label,
                    }
                ),
                flush=True,
            )
        else:
            name = str(path) if len(str(path)) <= 40 else "..." + str(path)[-37:]
            print(
                f"{name:<40} {result.duration_s:>8.2f} "
                + " ".join(f"{result.scores[label]:>8.3f}" for label in classifier.labels)
                + f"  {result.label}"
            )
    if failures:
        print(f"{failures} of {len(paths)} files could not be classified", file=sys.stderr)
    return 1 if failures else 0


def _threshold_overrides(pairs: list[str]) -> dict[str, float]:
    overrides = {}
    for pair in pairs:
        label, _, value = pair.partition("=")
        try:
            overrides[label.strip()] = float(value)
        except ValueError:
            raise SensingError(
                f"--threshold {pair!r}: expected LABEL=PROBABILITY, for example cough=0.9"
            ) from None
    return overrides


def _command_detect(args: argparse.Namespace) -> int:
    from sensing.audio.night import detect_night

    if args.mic == (args.input is not None):
        raise SensingError("give either an audio file or --mic")
    report = detect_night(
        args.input,
        out_dir=args.out,
        model_path=args.model,
        mic=args.mic,
        device=args.device,
        threads=args.threads,
        save_audio=args.save_audio,
        thresholds=_threshold_overrides(args.threshold),
    )
    print_audio_night(report, args.out)
    return 1 if (report["stopped_by"] or "").startswith("error") else 0


def _command_demo(args: argparse.Namespace) -> int:
    from sensing.audio.night import default_model_path
    from sensing.night.run import night_from_files
    from sensing.radar.recording import read_epochs
    from sensing.radar.simulate import simulate_night
    from sensing.radar.sleep.epoch_metrics import compare_epochs
    from sensing.radar.sleep.model import default_sleep_model
    from sensing.synthetic.night import (
        compare_with_truth,
        describe_comparison,
        make_night,
        read_truth,
    )

    default_model_path()
    default_sleep_model()
    output_folder(args.out)
    wav, truth_path = make_night(args.out / "night.wav", duration_s=args.minutes * 60, seed=args.seed)
    radar, radar_truth = simulate_night(args.out / "radar.npz", seed=args.seed, hours=args.minutes / 60)
    print(f"generated a {args.minutes:g}-minute night: {wav} (audio) and {radar} (radar)")
    report_dir = args.out / "report"
    report = night_from_files(wav, radar, out_dir=report_dir)
    print_combined_night(report, report_dir)
    audio_events = json.loads((report_dir / "audio" / "report.json").read_text())["events"]
    match = compare_with_truth(audio_events, read_truth(truth_path))
    print(f"audio truth, before gating: {describe_comparison(match)} ({truth_path})")
    print(
        "note: the night's sounds are made by the generator in sensing/synthetic, which also made 450 "
        "clips of the bundled model's data (other seeds and speakers; about 70% of them trained on), "
        "so this night flatters the model; its figures on real recordings it never heard are in "
        "sensing/models/MODEL_CARD.md (measured with sensing evaluate)"
    )
    agreement = compare_epochs(read_epochs(radar_truth), read_epochs(report_dir / "sleep" / "epochs.csv"))
    print(
        f"radar truth: {agreement['accuracy']:.0%} of {agreement['epochs']} epochs scored as simulated "
        f"({radar_truth})"
    )
    return 0


def _command_bench(args: argparse.Namespace) -> int:
    from sensing.audio.bench import bench_models
    from sensing.tflite.sparse_check import platform_notes

    results = bench_models(
        [str(model) for model in args.models], threads=args.threads, pipeline_seconds=args.seconds
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
        return 0
    print(
        f"{'model':<40} {'backend':<15} {'KB':>7} {'median ms':>10} {'p90 ms':>8} "
        f"{'vs first':>9} {'sparse':>7} {'real-time factor':>17}"
    )
    for r in results:
        name = r.model if len(r.model) <= 40 else "..." + r.model[-37:]
        print(
            f"{name:<40} {r.backend:<15} {r.model_bytes / 1024:>7.0f} {r.latency_median_ms:>10.3f} "
            f"{r.latency_p90_ms:>8.3f} {r.speed_vs_first:>8.2f}x "
            f"{'yes' if r.xnnpack_sparse else 'no':>7} {r.pipeline_real_time_factor:>17.1f}"
        )
    print(
        "latencies measured in turns (all models alternate), so their ratio is fair; "
        "'sparse': XNNPACK may use its sparse kernels for the file (sensing check-sparse "
        "says why not)"
    )
    if any(r.xnnpack_sparse for r in results):
        for note in platform_notes():
            print(f"note: {note}")
    return 0


def _command_check_sparse(args: argparse.Namespace) -> int:
    from sensing.tflite.sparse_check import check_sparse, format_report

    report = check_sparse(args.model)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0 if report.sparse_ready else 1


def add_classify_detect_demo(commands: Any) -> None:
    """Add ``classify``, ``detect`` and ``demo``."""
    classify = commands.add_parser(
        "classify", help="classify audio clips with a .tflite model (no TensorFlow needed)"
    )
    classify.add_argument("--model", required=True, type=Path, help="a model.tflite from training")
    classify.add_argument("paths", nargs="+", help="audio files, folders or manifest CSVs")
    classify.add_argument("--jsonl", action="store_true", help="one JSON object per file on stdout")
    classify.add_argument("--threads", type=int, default=None, help="inference threads")
    classify.set_defaults(handler=_command_classify)

    detect = commands.add_parser(
        "detect",
        help="count coughs and snoring over a night (a file of any length, or --mic)",
        description="Stream a recording (or the microphone) through the model and write "
        "events.csv, report.json and report.png into OUT.",
    )
    detect.add_argument("input", nargs="?", type=Path, help="audio file (any length and rate)")
    detect.add_argument("--mic", action="store_true", help="capture live from the default input")
    detect.add_argument("--device", default=None, help="input device name or number for --mic")
    detect.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    detect.add_argument(
        "--model", type=Path, default=None, help="a model.tflite (default: the bundled cough/snore model)"
    )
    detect.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="LABEL=P",
        help="override a label's window threshold, e.g. cough=0.9 (repeatable)",
    )
    detect.add_argument("--threads", type=int, default=None, help="inference threads")
    detect.add_argument(
        "--save-audio", action="store_true", help="also write the audio to OUT/audio.wav (off by default)"
    )
    detect.set_defaults(handler=_command_detect)

    demo = commands.add_parser(
        "demo",
        help="generate a night of audio and radar and run 'sensing night' on it",
        description="Generate a sample night (audio with coughs, snoring and everyday sounds; a simulated "
        "radar recording of a sleeper) and score it with the bundled models: sleep states, "
        "and coughs and snoring while in bed, beside the truth.",
    )
    demo.add_argument("--out", type=Path, default=Path("demo"), help="folder (default: demo)")
    demo.add_argument(
        "--minutes", type=at_least(1), default=30.0, help="night length in minutes, at least 1 (default 30)"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(handler=_command_demo)


def add_check_sparse_command(commands: Any) -> None:
    """Add ``check-sparse``."""
    check = commands.add_parser(
        "check-sparse",
        help="say whether XNNPACK will run a .tflite model sparsely, and why not",
        description="Read a .tflite file and say whether XNNPACK's sparse inference will run it "
        "(exit 0) or not (exit 1), naming the op that breaks the pattern, a missing "
        "DENSIFY, and the measured sparsity of each 1x1 convolution.",
    )
    check.add_argument("model", type=Path, help="a .tflite file")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=_command_check_sparse)


def add_bench_command(commands: Any) -> None:
    """Add ``bench``."""
    bench = commands.add_parser("bench", help="time models on this machine, side by side")
    bench.add_argument(
        "--model",
        dest="models",
        type=Path,
        action="extend",
        nargs="+",
        required=True,
        help="a .tflite model (repeat to compare several side by side)",
    )
    bench.add_argument("--threads", type=int, default=None, help="inference threads")
    bench.add_argument(
        "--seconds",
        type=at_least(5),
        default=120.0,
        help="seconds of audio for the pipeline's real-time factor (default 120)",
    )
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.set_defaults(handler=_command_bench)
