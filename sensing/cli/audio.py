"""The audio commands of ``sensing``: ``classify``, ``detect``, ``demo``, ``bench`` and ``check-sparse``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sensing.cli.options import (
    add_model_option,
    add_start_time_option,
    at_least,
    display_path,
    finite_float,
    non_negative_int,
    positive_int,
)
from sensing.cli.sharing import add_sharing_options, sharing
from sensing.errors import SensingError

BUNDLED_AUDIO_MODEL = "the bundled cough/snore model"


def _audio_model(path: Path | None) -> Path:
    """The ``.tflite`` a ``--model`` option names (a file or a run folder), else the bundled model."""
    from sensing.audio.night import DEFAULT_MODEL, default_model_path
    from sensing.run_folder import resolve_model

    return default_model_path() if path is None else resolve_model(path, DEFAULT_MODEL)


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


def _short_name(path: Path, width: int = 40) -> str:
    """``path`` cut from the left to ``width`` characters."""
    name = str(path)
    return name if len(name) <= width else "..." + name[-(width - 3) :]


def _command_classify(args: argparse.Namespace) -> int:
    from sensing.audio.classifier import AudioClassifier

    classifier = AudioClassifier(_audio_model(args.model), num_threads=args.threads)
    print(f"model {classifier.model_path} on {classifier.backend}", file=sys.stderr)
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
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if args.jsonl:
            row = {
                "file": str(path),
                "duration_s": round(result.duration_s, 3),
                "scores": {k: round(v, 4) for k, v in result.scores.items()},
                "label": result.label,
                "warnings": list(result.warnings),
            }
            print(json.dumps(row), flush=True)
        else:
            print(
                f"{_short_name(path):<40} {result.duration_s:>8.2f} "
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
            overrides[label.strip()] = finite_float(value)
        except argparse.ArgumentTypeError:
            raise SensingError(
                f"--threshold {pair!r}: expected LABEL=PROBABILITY, for example cough=0.9"
            ) from None
    return overrides


def _command_detect(args: argparse.Namespace) -> int:
    from sensing.audio.night import detect_night
    from sensing.audio.report_text import detect_lines

    if args.mic == (args.input is not None):
        raise SensingError("give either an audio file or --mic")
    if args.mic and args.start_time is not None:
        raise SensingError("--start-time is for recordings; live, the night starts now")
    with sharing(args, "detect") as share:
        report = detect_night(
            args.input,
            out_dir=args.out,
            model_path=_audio_model(args.model),
            mic=args.mic,
            device=args.device,
            threads=args.threads,
            save_audio=args.save_audio,
            thresholds=_threshold_overrides(args.threshold),
            start_time=args.start_time,
        )
        print("\n".join(detect_lines(report, args.out)), flush=True)
        share(args.out)
    return 1 if (report["stopped_by"] or "").startswith("error") else 0


DEMO_NIGHT = ("night.wav", "night.truth.csv")
"""The demo's audio night and its truth (:func:`sensing.synthetic.night.make_night`)."""
DEMO_RADAR = ("radar.npz", "radar.epochs.csv", "radar.truth.json")
"""The demo's radar night, its epochs and its truth (:func:`sensing.radar.simulate.simulate_night`)."""


def _demo_bytes(minutes: float) -> tuple[int, int]:
    """Bytes the demo writes for a night of ``minutes``: (audio WAV, radar recording)."""
    from sensing.radar.recording import IQ_DTYPE
    from sensing.radar.simulate import RadarHardware

    seconds = minutes * 60
    hardware = RadarHardware()
    radar = seconds * hardware.frame_rate_hz * hardware.n_rx * hardware.n_bins * IQ_DTYPE.itemsize
    return round(seconds * 16000 * 2), round(radar)


def _check_room(folder: Path, needed: int) -> None:
    """Refuse at once, before writing anything, when ``folder``'s disk has less than ``needed`` bytes free.

    Raises:
        WriteError: naming the space needed and the space free.
    """
    import shutil

    from sensing.files import WriteError

    free = shutil.disk_usage(folder).free
    if free < needed:
        raise WriteError(
            f"cannot write the demo night into {folder}: no space left for it (it needs about "
            f"{needed / 1e6:.0f} MB, {free / 1e6:.0f} MB are free); choose fewer --minutes or another --out"
        )


def _command_demo(args: argparse.Namespace) -> int:
    from sensing.audio.night import default_model_path
    from sensing.files import clear_outputs, locked_output_folder
    from sensing.night.report_text import night_lines
    from sensing.night.run import night_from_files
    from sensing.progress import Progress
    from sensing.radar.recording import read_epochs
    from sensing.radar.simulate import chunks_per_night, simulate_night
    from sensing.radar.sleep.epoch_metrics import compare_epochs
    from sensing.radar.sleep.model import default_sleep_model
    from sensing.synthetic.night import (
        BLOCK_S,
        compare_with_truth,
        describe_comparison,
        make_night,
        night_blocks,
        read_truth,
    )

    default_model_path()
    default_sleep_model()
    audio_bytes, radar_bytes = _demo_bytes(args.minutes)
    with locked_output_folder(args.out) as out:
        _check_room(out, audio_bytes + radar_bytes)
        clear_outputs(out, DEMO_NIGHT + DEMO_RADAR)
        print(
            f"writing a {args.minutes:g}-minute night into {out}: about {audio_bytes / 1e6:.0f} MB of "
            f"audio and {radar_bytes / 1e6:.0f} MB of radar",
            file=sys.stderr,
        )
        seconds, hours = args.minutes * 60, args.minutes / 60
        progress = Progress(
            f"step 1/3, audio in {BLOCK_S:g} s blocks", night_blocks(seconds), every_fraction=0.25
        )
        wav, truth_path = make_night(
            out / DEMO_NIGHT[0], duration_s=seconds, seed=args.seed, progress=progress
        )
        progress = Progress("step 2/3, radar in 1 min chunks", chunks_per_night(hours), every_fraction=0.25)
        radar, radar_truth = simulate_night(
            out / DEMO_RADAR[0], seed=args.seed, hours=hours, progress=progress
        )
        print("step 3/3: scoring the sleep and counting coughs and snoring", file=sys.stderr)
        report_dir = out / "report"
        report = night_from_files(wav, radar, out_dir=report_dir)
    print(f"generated a {args.minutes:g}-minute night: {wav} (audio) and {radar} (radar)")
    print("\n".join(night_lines(report)))
    print(f"report: {report_dir / 'report.json'}")
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

    models = [_audio_model(path) for path in args.models or [None]]
    results = bench_models(
        [str(model) for model in models], threads=args.threads, pipeline_seconds=args.seconds
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
        return 0
    print(
        f"{'model':<40} {'backend':<15} {'KB':>7} {'median ms':>10} {'p90 ms':>8} "
        f"{'vs first':>9} {'sparse':>7} {'real-time factor':>17}"
    )
    for r in results:
        print(
            f"{_short_name(Path(r.model)):<40} {r.backend:<15} {r.model_bytes / 1024:>7.0f} "
            f"{r.latency_median_ms:>10.3f} {r.latency_p90_ms:>8.3f} {r.speed_vs_first:>8.2f}x "
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

    report = check_sparse(_audio_model(args.model))
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0 if report.sparse_ready else 1


def add_classify_detect_demo(commands: Any) -> None:
    """Add ``classify``, ``detect`` and ``demo``."""
    classify = commands.add_parser(
        "classify",
        help="classify audio clips with a .tflite model (no TensorFlow needed)",
        description="Classify each audio file (any format, rate, channel count and length, read "
        "block by block): print each label's highest window probability and the decision, as a "
        "table or one JSON object per file. A file that cannot be read is named on stderr and "
        "the rest are classified (exit 1).",
    )
    add_model_option(classify, "the audio model", BUNDLED_AUDIO_MODEL)
    classify.add_argument("paths", nargs="+", help="audio files, folders or manifest CSVs")
    classify.add_argument("--jsonl", action="store_true", help="one JSON object per file on stdout")
    classify.add_argument("--threads", type=positive_int, default=None, help="inference threads")
    classify.set_defaults(handler=_command_classify)

    detect = commands.add_parser(
        "detect",
        help="count coughs and snoring over a night (a file of any length, or --mic)",
        description="Stream a recording (or the microphone) through the model and write "
        "events.csv, report.json and report.png into OUT (an earlier run's are replaced; "
        "one run at a time per folder).",
    )
    detect.add_argument("input", nargs="?", type=Path, help="audio file (any length and rate)")
    detect.add_argument("--mic", action="store_true", help="capture live from the default input")
    detect.add_argument("--device", default=None, help="input device name or number for --mic")
    detect.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    add_model_option(detect, "the audio model", BUNDLED_AUDIO_MODEL)
    detect.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="LABEL=P",
        help="override a label's window threshold, e.g. cough=0.9 (repeatable)",
    )
    detect.add_argument("--threads", type=positive_int, default=None, help="inference threads")
    add_start_time_option(detect, "audio recording", "time from the start; live: now")
    detect.add_argument(
        "--save-audio", action="store_true", help="also write the audio to OUT/audio.wav (off by default)"
    )
    add_sharing_options(detect)
    detect.set_defaults(handler=_command_detect)

    demo = commands.add_parser(
        "demo",
        help="generate a night of audio and radar and run 'sensing night' on it",
        description="Generate a sample night (audio with coughs, snoring and everyday sounds; a simulated "
        "radar recording of a sleeper) and score it with the bundled models: sleep states, "
        "and coughs and snoring while in bed, beside the truth. A night writes about 4 MB a "
        "minute (122 MB for 30 minutes).",
    )
    demo.add_argument("--out", type=Path, default=Path("demo"), help="folder (default: demo)")
    demo.add_argument(
        "--minutes", type=at_least(1), default=30.0, help="night length in minutes, at least 1 (default 30)"
    )
    demo.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
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
    check.add_argument("model", type=Path, help="a .tflite file or a training run folder")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=_command_check_sparse)


def add_bench_command(commands: Any) -> None:
    """Add ``bench``."""
    bench = commands.add_parser(
        "bench",
        help="time models on this machine, side by side",
        description="Time each model's single-window inference (in turns, so their ratio is fair) "
        "and the whole detection pipeline's real-time factor on generated audio, and say "
        "whether XNNPACK may run each sparsely.",
    )
    bench.add_argument(
        "--model",
        dest="models",
        metavar="MODEL",
        type=Path,
        action="extend",
        nargs="+",
        default=None,
        help="a .tflite file or a training run folder; repeat to compare several side by side "
        f"(default: {BUNDLED_AUDIO_MODEL})",
    )
    bench.add_argument("--threads", type=positive_int, default=None, help="inference threads")
    bench.add_argument(
        "--seconds",
        type=at_least(5),
        default=120.0,
        help="seconds of audio for the pipeline's real-time factor (default 120)",
    )
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.set_defaults(handler=_command_bench)
