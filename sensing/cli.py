"""The ``sensing`` command line. Thin: each subcommand calls library functions.

Subcommands that train import TensorFlow lazily, so the runtime install (a
Raspberry Pi) runs ``classify`` without it and is told which extra to install
for the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sensing.cli_radar import add_radar_commands, add_simulate_commands
from sensing.cli_sleep import add_night_command, add_sleep_command, add_train_radar_command
from sensing.errors import SensingError
from sensing.features import FRONTENDS
from sensing.folders import output_folder

TRAINING_PACKAGES = {"tensorflow", "tf_keras", "tensorflow_model_optimization", "librosa",
                     "matplotlib", "pyroomacoustics", "scipy"}


def _missing_extra_message(error: ImportError) -> str:
    return (f"this command needs the training extra ({error.name} is not installed): "
            f"pip install 'sensing[train]'  (from a clone: pip install -e '.[train]')")


def _import_training(module: str):
    """Import a training module, turning a missing training dependency into a clear message."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        if (error.name or "").split(".")[0] in TRAINING_PACKAGES:
            raise SensingError(_missing_extra_message(error)) from None
        raise


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value:g}")
    return value


def _at_least(minimum: float):
    """An argparse type: a number no smaller than ``minimum``."""
    def parse(text: str) -> float:
        value = float(text)
        if not value >= minimum:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, got {value:g}")
        return value
    return parse


def _between(low: float, high: float):
    """An argparse type: a number from ``low`` to ``high``."""
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {value:g}")
        return value
    return parse


SCALING_HELP = ("training at scale: --cache keeps features between runs; --distribute runs on several "
                "devices or workers (each replica takes --batch-size windows per step and the learning "
                "rate is multiplied by the replicas); a checkpoint is written after every epoch and "
                "--resume continues a stopped run with the same result")


def add_scale_arguments(parser: argparse.ArgumentParser, *, cache: bool) -> None:
    """The options of :class:`training.config.ScaleSettings` (``--cache`` only where features are cached)."""
    group = parser.add_argument_group("scaling up", SCALING_HELP)
    if cache:
        group.add_argument("--cache", type=Path, default=None,
                           help="feature cache folder, shared by runs and workers (default: none; "
                                "clips are decoded again every epoch)")
    group.add_argument("--distribute", default="none", choices=("none", "mirrored", "multiworker"),
                       help="none (default); mirrored: all local GPUs, or --cpu-devices logical CPU "
                            "devices; multiworker: one process per worker, described by TF_CONFIG")
    group.add_argument("--cpu-devices", type=_positive_int, default=2,
                       help="logical CPU devices for --distribute mirrored without GPUs (default 2)")
    group.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last checkpoint (its settings are "
                            "read from its config.json)")


def scale_settings(args: argparse.Namespace):
    """The :class:`training.config.ScaleSettings` of parsed arguments."""
    config_module = _import_training("training.config")
    cache = getattr(args, "cache", None)
    return config_module.ScaleSettings(cache=None if cache is None else str(cache.resolve()),
                                       distribute=args.distribute, cpu_devices=args.cpu_devices,
                                       resume=args.resume)


def resumable_config(config_class, out: Path):
    """The settings recorded in the run folder ``out``, for ``--resume``."""
    config = config_class.read(out / "config.json", out=str(out))
    status = json.loads((out / "config.json").read_text()).get("status")
    if status == "finished":
        raise SensingError(f"{out}: this run already finished; nothing to resume")
    return config


def _command_train_audio(args: argparse.Namespace) -> int:
    output_folder(args.out)
    config_module = _import_training("training.config")
    train_module = _import_training("training.train_audio")
    if args.resume:
        config = resumable_config(config_module.AudioTrainConfig, args.out)
    elif args.data is None:
        raise SensingError("--data is needed (the clips to train on), unless --resume continues a run")
    else:
        config = config_module.AudioTrainConfig(
            data=str(args.data.resolve()), out=str(args.out), frontend=args.frontend, epochs=args.epochs,
            seed=args.seed, batch_size=args.batch_size, strict=args.strict,
            negative_label=args.negative_label, target_fpr=args.target_fpr)
    metrics = train_module.train_audio(config, scale_settings(args))
    if metrics is None:
        print("this worker's part of the training is done; worker 0 writes the run folder")
        return 0
    test = metrics["test"]
    print(f"\nrun folder: {args.out}")
    print(f"model: {Path(args.out) / 'model.tflite'}")
    if "leaf" in metrics:
        print(f"fast LEAF model: {Path(args.out) / metrics['leaf']['fast_model']} (features correlate "
              f"{metrics['leaf']['feature_correlation']:.4f} with the exact frontend's)")
    print(f"test groups ({test['clips']} clips never seen in training):")
    for label, figures in test["per_class"].items():
        if label != metrics["negative_label"]:
            print(f"  {label:>10}: precision {figures['precision']}  recall {figures['recall']}  "
                  f"F1 {figures['f1']}")
    if "negatives" in test:
        negatives = test["negatives"]
        print(f"  false positives on {negatives['clips']} negative clips: "
              f"{negatives['false_positives']} ({negatives['false_positive_rate']:.1%}), "
              f"{negatives['false_positives_per_hour']} per hour of negative audio")
    if metrics["skipped_files"]:
        print(f"{metrics['skipped_files']} unusable files were skipped: "
              f"see {Path(args.out) / 'skipped.csv'}")
    return 0


def _command_prune(args: argparse.Namespace) -> int:
    if args.out.resolve() == args.run.resolve():
        raise SensingError("--out must be a new folder; pruning into --run would overwrite the "
                           "model it starts from")
    output_folder(args.out)
    prune_module = _import_training("training.prune")
    settings = prune_module.PruneSettings(sparsity=args.sparsity, epochs=args.epochs,
                                          learning_rate=args.learning_rate)
    metrics = prune_module.prune_run(args.run, args.out, settings)
    targets = [label for label in metrics["labels"] if label != metrics["negative_label"]]
    print(f"\nrun folder: {args.out}")
    print(f"1x1 convolutions: {metrics['sparsity_1x1']['overall']:.1%} zero weights "
          f"(target {settings.sparsity:.0%})")
    print("test groups, each file run through the TFLite runtime:")
    print(f"{'file':<26} {'KB':>6} {'gzip KB':>8} "
          + " ".join(f"{label + ' F1':>10}" for label in targets)
          + f" {'false pos.':>10} {'same as float':>14}")
    for figures in metrics["exports"].values():
        per_class = figures["test"]["per_class"]
        negatives = figures["test"].get("negatives")
        false_positives = f"{negatives['false_positive_rate']:.1%}" if negatives else "n/a"
        print(f"{figures['file']:<26} {figures['bytes'] / 1024:>6.0f} "
              f"{figures['gzip_bytes'] / 1024:>8.0f} "
              + " ".join(f"{_format_score(per_class[label]['f1']):>10}" for label in targets)
              + f" {false_positives:>10} {figures['decisions_equal_to_float32']['test']:>14.1%}")
    from sensing.sparse_check import check_sparse

    report = check_sparse(args.out / "model_sparse.tflite")
    verdict = "will" if report.sparse_ready else "will NOT"
    print(f"XNNPACK {verdict} run model_sparse.tflite sparsely "
          f"(details: sensing check-sparse {args.out / 'model_sparse.tflite'})")
    return 0


def _format_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _audio_paths(inputs: list[str]) -> list[Path]:
    """Audio files named directly, found in folders, or listed in manifest CSVs."""
    from sensing.clips import AUDIO_SUFFIXES, read_manifest

    paths: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*")
                           if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise SensingError(f"{item}: no audio files in this folder")
            paths.extend(found)
        elif item.suffix.lower() == ".csv":
            paths.extend(_display_path(record.path) for record in read_manifest(item))
        else:
            paths.append(item)
    return paths


def _display_path(path: Path) -> Path:
    """Relative to the working directory when below it, else absolute."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path.resolve()


def _command_classify(args: argparse.Namespace) -> int:
    from sensing.classifier import AudioClassifier

    classifier = AudioClassifier(args.model, num_threads=args.threads)
    print(f"model {args.model} on {classifier.backend}", file=sys.stderr)
    paths = _audio_paths(args.paths)
    failures = 0
    if not args.jsonl:
        print(f"{'file':<40} {'seconds':>8} " + " ".join(f"{label:>8}" for label in classifier.labels)
              + "  label")
    for path in paths:
        try:
            result = classifier.classify_file(path)
        except SensingError as error:
            failures += 1
            print(f"skipped {error}", file=sys.stderr)
            continue
        if args.jsonl:
            print(json.dumps({"file": str(path), "duration_s": round(result.duration_s, 3),
                              "scores": {k: round(v, 4) for k, v in result.scores.items()},
                              "label": result.label}), flush=True)
        else:
            name = str(path) if len(str(path)) <= 40 else "..." + str(path)[-37:]
            print(f"{name:<40} {result.duration_s:>8.2f} "
                  + " ".join(f"{result.scores[label]:>8.3f}" for label in classifier.labels)
                  + f"  {result.label}")
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
            raise SensingError(f"--threshold {pair!r}: expected LABEL=PROBABILITY, "
                               f"for example cough=0.9") from None
    return overrides


def _print_night(report: dict, out: Path) -> None:
    print(f"{report['duration_s'] / 60:.1f} min of audio in {report['processing_s']:.1f} s "
          f"(real-time factor {report['real_time_factor'] or 'n/a'}) on {report['model']['backend']}")
    if report["stopped_by"]:
        print(f"stopped early: {report['stopped_by']}")
    print(f"coughs: {report['cough_count']}   snore: {report['snore_minutes']:.1f} min in "
          f"{report['snore_episodes']} episodes")
    for warning in report["input_warnings"]:
        print(f"warning: {warning}")
    print(f"report: {out / 'report.json'}" + (f", {report['plot']}" if report.get("plot") else ""))
    print(f"events: {out / 'events.csv'}")


def _command_detect(args: argparse.Namespace) -> int:
    from sensing.night import detect_night

    if args.mic == (args.input is not None):
        raise SensingError("give either an audio file or --mic")
    report = detect_night(args.input, out_dir=args.out, model_path=args.model, mic=args.mic,
                          device=args.device, threads=args.threads, save_audio=args.save_audio,
                          thresholds=_threshold_overrides(args.threshold))
    _print_night(report, args.out)
    return 1 if (report["stopped_by"] or "").startswith("error") else 0


def _command_demo(args: argparse.Namespace) -> int:
    from sensing.cli_sleep import print_night
    from sensing.night import default_model_path
    from sensing.radar.epoch_metrics import compare_epochs
    from sensing.radar.recording import read_epochs
    from sensing.radar.simulate import simulate_night
    from sensing.radar.sleep_model import default_sleep_model
    from sensing.sleep_night import night_from_files
    from sensing.synthetic.night import compare_with_truth, describe_comparison, make_night, read_truth

    default_model_path()
    default_sleep_model()
    output_folder(args.out)
    wav, truth_path = make_night(args.out / "night.wav", duration_s=args.minutes * 60, seed=args.seed)
    radar, radar_truth = simulate_night(args.out / "radar.npz", seed=args.seed, hours=args.minutes / 60)
    print(f"generated a {args.minutes:g}-minute night: {wav} (audio) and {radar} (radar)")
    report_dir = args.out / "report"
    report = night_from_files(wav, radar, out_dir=report_dir)
    print_night(report, report_dir)
    audio_events = json.loads((report_dir / "audio" / "report.json").read_text())["events"]
    match = compare_with_truth(audio_events, read_truth(truth_path))
    print(f"audio truth, before gating: {describe_comparison(match)} ({truth_path})")
    print("note: the night's sounds are made by the generator in sensing/synthetic, which also made 450 "
          "clips of the bundled model's data (other seeds and speakers; about 70% of them trained on), "
          "so this night flatters the model; its figures on real recordings it never heard are in "
          "sensing/models/MODEL_CARD.md (measured with sensing evaluate)")
    agreement = compare_epochs(read_epochs(radar_truth), read_epochs(report_dir / "sleep" / "epochs.csv"))
    print(f"radar truth: {agreement['accuracy']:.0%} of {agreement['epochs']} epochs scored as simulated "
          f"({radar_truth})")
    return 0


def _command_evaluate(args: argparse.Namespace) -> int:
    if not (args.levels or args.nights or args.holdout):
        raise SensingError("nothing to measure: give --levels, --nights N and/or --holdout COLUMN")
    output_folder(args.out)
    evaluation = _import_training("training.bedside_evaluation")
    results = evaluation.evaluate(args.run, out=args.out, model=args.model, nights=args.nights,
                                  minutes=args.minutes, levels=args.levels, holdout=args.holdout,
                                  holdout_epochs=args.epochs, skip_groups=tuple(args.skip_groups),
                                  seed=args.seed, cache=args.cache)
    print((args.out / "evaluation.md").read_text())
    print(f"written: {args.out / 'evaluation.json'}, {args.out / 'evaluation.md'}"
          + (f", {results['plot']}" if results.get("plot") else ""))
    return 0


def _command_bench(args: argparse.Namespace) -> int:
    from sensing.bench import bench_models
    from sensing.sparse_check import platform_notes

    results = bench_models([str(model) for model in args.models], threads=args.threads,
                           pipeline_seconds=args.seconds)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
        return 0
    print(f"{'model':<40} {'backend':<15} {'KB':>7} {'median ms':>10} {'p90 ms':>8} "
          f"{'vs first':>9} {'sparse':>7} {'real-time factor':>17}")
    for r in results:
        name = r.model if len(r.model) <= 40 else "..." + r.model[-37:]
        print(f"{name:<40} {r.backend:<15} {r.model_bytes / 1024:>7.0f} {r.latency_median_ms:>10.3f} "
              f"{r.latency_p90_ms:>8.3f} {r.speed_vs_first:>8.2f}x "
              f"{'yes' if r.xnnpack_sparse else 'no':>7} {r.pipeline_real_time_factor:>17.1f}")
    print("latencies measured in turns (all models alternate), so their ratio is fair; "
          "'sparse': XNNPACK may use its sparse kernels for the file (sensing check-sparse "
          "says why not)")
    if any(r.xnnpack_sparse for r in results):
        for note in platform_notes():
            print(f"note: {note}")
    return 0


def _command_export_firmware(args: argparse.Namespace) -> int:
    output_folder(args.out)
    package = _import_training("firmware_export.package")
    summary = package.export_firmware(args.model, args.out, args.name)
    print(f"firmware package: {args.out} ({len(summary['files'])} files)")
    print(f"model: {summary['model']}")
    print(f"flash (model): {summary['model_bytes'] / 1024:.1f} KB; tensor arena: "
          f"{summary['arena_bytes_measured'] / 1024:.1f} KB measured in TFLite Micro, "
          f"{summary['arena_bytes_exported'] / 1024:.1f} KB in {args.name}_settings.h")
    print(f"ops ({len(summary['ops'])}): {', '.join(summary['ops'])}; "
          f"{summary['multiply_adds'] / 1e6:.2f} M multiply-adds per window")
    print(f"golden vectors: {summary['golden_windows']} windows; TFLite Micro outputs equal "
          f"ai-edge-litert's reference kernels: {'yes' if summary['micro_outputs_equal_litert'] else 'no'}")
    return 0


def _command_check_sparse(args: argparse.Namespace) -> int:
    from sensing.sparse_check import check_sparse, format_report

    report = check_sparse(args.model)
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0 if report.sparse_ready else 1


def build_parser() -> argparse.ArgumentParser:
    """The ``sensing`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="sensing", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model")
    train_kinds = train.add_subparsers(dest="kind", required=True)
    audio = train_kinds.add_parser(
        "audio", help="train a cough/snore classifier on labeled clips",
        description="Train an audio event classifier. DATA is a manifest CSV (path,label"
                    "[,group][,category]; paths relative to the CSV) or a folder with one "
                    "subfolder per label.")
    audio.add_argument("--data", type=Path, help="manifest CSV or label folders")
    audio.add_argument("--out", required=True, type=Path, help="run folder to write")
    audio.add_argument("--frontend", default="mel", choices=FRONTENDS,
                       help="mel: fixed log-mel features (default); leaf: a frontend learned with the "
                            "CNN from raw audio (much slower to train), also exported in a fast form "
                            "as model_fast.tflite")
    audio.add_argument("--epochs", type=_positive_int, default=20, help="training epochs (default 20)")
    audio.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    audio.add_argument("--batch-size", type=_positive_int, default=64,
                       help="windows per replica per step (default 64)")
    audio.add_argument("--negative-label", default="other",
                       help="label meaning 'neither target sound' (default: other)")
    audio.add_argument("--target-fpr", type=_fraction, default=0.01,
                       help="share of negative clips allowed to be called a target when "
                            "calibrating thresholds on validation groups (default 0.01)")
    audio.add_argument("--strict", action="store_true",
                       help="stop at the first unusable audio file instead of skipping it")
    add_scale_arguments(audio, cache=True)
    audio.set_defaults(handler=_command_train_audio)
    add_train_radar_command(train_kinds)

    classify = commands.add_parser(
        "classify", help="classify audio clips with a .tflite model (no TensorFlow needed)")
    classify.add_argument("--model", required=True, type=Path, help="a model.tflite from training")
    classify.add_argument("paths", nargs="+", help="audio files, folders or manifest CSVs")
    classify.add_argument("--jsonl", action="store_true", help="one JSON object per file on stdout")
    classify.add_argument("--threads", type=int, default=None, help="inference threads")
    classify.set_defaults(handler=_command_classify)

    detect = commands.add_parser(
        "detect", help="count coughs and snoring over a night (a file of any length, or --mic)",
        description="Stream a recording (or the microphone) through the model and write "
                    "events.csv, report.json and report.png into OUT.")
    detect.add_argument("input", nargs="?", type=Path, help="audio file (any length and rate)")
    detect.add_argument("--mic", action="store_true", help="capture live from the default input")
    detect.add_argument("--device", default=None, help="input device name or number for --mic")
    detect.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    detect.add_argument("--model", type=Path, default=None,
                        help="a model.tflite (default: the bundled cough/snore model)")
    detect.add_argument("--threshold", action="append", default=[], metavar="LABEL=P",
                        help="override a label's window threshold, e.g. cough=0.9 (repeatable)")
    detect.add_argument("--threads", type=int, default=None, help="inference threads")
    detect.add_argument("--save-audio", action="store_true",
                        help="also write the audio to OUT/audio.wav (off by default)")
    detect.set_defaults(handler=_command_detect)

    demo = commands.add_parser(
        "demo", help="generate a night of audio and radar and run 'sensing night' on it",
        description="Generate a sample night (audio with coughs, snoring and everyday sounds; a simulated "
                    "radar recording of a sleeper) and score it with the bundled models: sleep states, "
                    "and coughs and snoring while in bed, beside the truth.")
    demo.add_argument("--out", type=Path, default=Path("demo"), help="folder (default: demo)")
    demo.add_argument("--minutes", type=_at_least(1), default=30.0,
                      help="night length in minutes, at least 1 (default 30)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(handler=_command_demo)

    evaluate = commands.add_parser(
        "evaluate", help="measure a model as a bedside device would hear: levels, bedroom nights, "
                         "unseen sources",
        description="Measure a trained model on the test groups of its run (never seen in training): "
                    "a level sweep of every clip over a faint noise floor, bedroom nights built from the "
                    "clips and run through sensing detect, and leave-one-out training over a manifest "
                    "column. Writes OUT/evaluation.json, .md and .png.")
    evaluate.add_argument("--run", required=True, type=Path, help="a finished training run folder")
    evaluate.add_argument("--out", required=True, type=Path, help="folder for the results")
    evaluate.add_argument("--model", type=Path, default=None,
                          help="model file to measure (default: the run's model.tflite)")
    evaluate.add_argument("--levels", action="store_true",
                          help="clip recall and false positives at -6, -26 and -46 dBFS peak")
    evaluate.add_argument("--nights", type=_positive_int, default=0, metavar="N",
                          help="build N bedroom nights from the test clips and score sensing detect on them")
    evaluate.add_argument("--minutes", type=_between(5, 240), default=30.0,
                          help="minutes per night, 5 to 240 (default 30; a night is built in memory)")
    evaluate.add_argument("--holdout", default=None, metavar="COLUMN",
                          help="train once without each value of this manifest column (e.g. source) "
                               "and score that value's clips at 3%% false positives")
    evaluate.add_argument("--epochs", type=_positive_int, default=None,
                          help="epochs of each --holdout training (default: the run's)")
    evaluate.add_argument("--cache", default=None, help="feature cache folder for --holdout training")
    evaluate.add_argument("--skip-groups", action="append", default=[], metavar="PREFIX",
                          help="leave out test clips (and --holdout values) whose group starts with "
                               "PREFIX (repeatable)")
    evaluate.add_argument("--seed", type=_non_negative_int, default=0,
                          help="random seed of the nights and noise (default 0)")
    evaluate.set_defaults(handler=_command_evaluate)

    prune = commands.add_parser(
        "prune", help="prune a trained model so XNNPACK runs it sparsely (smaller; faster on ARM)",
        description="Fine-tune a trained run with magnitude pruning of its 1x1 convolutions and "
                    "export model.tflite (dense float32), model_sparse.tflite, "
                    "model_sparse_fp16.tflite and model_int8.tflite into OUT, each measured on "
                    "the run's validation and test groups.")
    prune.add_argument("--run", required=True, type=Path, help="a finished training run folder")
    prune.add_argument("--out", required=True, type=Path, help="new run folder to write")
    prune.add_argument("--sparsity", type=_fraction, default=0.8,
                       help="share of 1x1 convolution weights set to zero (default 0.8)")
    prune.add_argument("--epochs", type=_positive_int, default=12,
                       help="fine-tuning epochs, at least 2 (default 12)")
    prune.add_argument("--learning-rate", type=float, default=1e-3,
                       help="peak fine-tuning learning rate (default 0.001)")
    prune.set_defaults(handler=_command_prune)

    export = commands.add_parser("export", help="export a model for another target")
    export_kinds = export.add_subparsers(dest="target", required=True)
    firmware = export_kinds.add_parser(
        "firmware", help="a C/C++ package for TensorFlow Lite Micro",
        description="Write a drop-in firmware package into OUT: the int8 model as a C array, "
                    "its settings, an op resolver with exactly its ops, the log-mel frontend in "
                    "C99, golden vectors, an example main.cc, a CMake snippet and a size report "
                    "with the tensor arena measured in TFLite Micro.")
    firmware.add_argument("--model", type=Path, default=None,
                          help="a run folder (model_int8.tflite, or model.keras quantized on the "
                               "run's training clips) or an int8 .tflite (default: the bundled "
                               "microcontroller model)")
    firmware.add_argument("--out", required=True, type=Path, help="folder to write")
    firmware.add_argument("--name", default="cough_snore",
                          help="prefix of the files and C identifiers (default: cough_snore)")
    firmware.set_defaults(handler=_command_export_firmware)

    check = commands.add_parser(
        "check-sparse", help="say whether XNNPACK will run a .tflite model sparsely, and why not",
        description="Read a .tflite file and say whether XNNPACK's sparse inference will run it "
                    "(exit 0) or not (exit 1), naming the op that breaks the pattern, a missing "
                    "DENSIFY, and the measured sparsity of each 1x1 convolution.")
    check.add_argument("model", type=Path, help="a .tflite file")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(handler=_command_check_sparse)

    add_radar_commands(commands)
    add_sleep_command(commands)
    add_night_command(commands)
    add_simulate_commands(commands)

    bench = commands.add_parser("bench", help="time models on this machine, side by side")
    bench.add_argument("--model", dest="models", type=Path, action="extend", nargs="+",
                       required=True,
                       help="a .tflite model (repeat to compare several side by side)")
    bench.add_argument("--threads", type=int, default=None, help="inference threads")
    bench.add_argument("--seconds", type=_at_least(5), default=120.0,
                       help="seconds of audio for the pipeline's real-time factor (default 120)")
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.set_defaults(handler=_command_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, 130 for Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SensingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
