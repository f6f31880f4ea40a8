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

from sensing.errors import SensingError

TRAINING_PACKAGES = {"tensorflow", "tf_keras", "tensorflow_model_optimization", "librosa",
                     "matplotlib"}


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


def _command_train_audio(args: argparse.Namespace) -> int:
    config_module = _import_training("training.config")
    train_module = _import_training("training.train_audio")
    config = config_module.AudioTrainConfig(
        data=str(args.data), out=str(args.out), frontend=args.frontend, epochs=args.epochs,
        seed=args.seed, batch_size=args.batch_size, strict=args.strict,
        negative_label=args.negative_label, target_fpr=args.target_fpr)
    metrics = train_module.train_audio(config)
    test = metrics["test"]
    print(f"\nrun folder: {args.out}")
    print(f"model: {Path(args.out) / 'model.tflite'}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sensing", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model")
    train_kinds = train.add_subparsers(dest="kind", required=True)
    audio = train_kinds.add_parser(
        "audio", help="train a cough/snore classifier on labeled clips",
        description="Train an audio event classifier. DATA is a manifest CSV (path,label"
                    "[,group][,category]; paths relative to the CSV) or a folder with one "
                    "subfolder per label.")
    audio.add_argument("--data", required=True, type=Path, help="manifest CSV or label folders")
    audio.add_argument("--out", required=True, type=Path, help="run folder to write")
    audio.add_argument("--frontend", default="mel", choices=["mel"], help="feature frontend")
    audio.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    audio.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    audio.add_argument("--batch-size", type=int, default=64, help="windows per step (default 64)")
    audio.add_argument("--negative-label", default="other",
                       help="label meaning 'neither target sound' (default: other)")
    audio.add_argument("--target-fpr", type=float, default=0.01,
                       help="share of negative clips allowed to be called a target when "
                            "calibrating thresholds on validation groups (default 0.01)")
    audio.add_argument("--strict", action="store_true",
                       help="stop at the first unusable audio file instead of skipping it")
    audio.set_defaults(handler=_command_train_audio)

    classify = commands.add_parser(
        "classify", help="classify audio clips with a .tflite model (no TensorFlow needed)")
    classify.add_argument("--model", required=True, type=Path, help="a model.tflite from training")
    classify.add_argument("paths", nargs="+", help="audio files, folders or manifest CSVs")
    classify.add_argument("--jsonl", action="store_true", help="one JSON object per file on stdout")
    classify.add_argument("--threads", type=int, default=None, help="inference threads")
    classify.set_defaults(handler=_command_classify)
    return parser


def main(argv: list[str] | None = None) -> int:
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
