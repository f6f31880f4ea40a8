"""The commands that need the ``train`` extra: ``train audio``, ``train radar``, ``prune``,
``evaluate``, and ``export firmware`` (the ``firmware`` extra; ``train`` only to quantize a run)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensing.audio.features import FRONTENDS
from sensing.cli.options import (
    between,
    field_default,
    format_score,
    fraction,
    import_extra,
    non_negative_int,
    positive_int,
)
from sensing.errors import SensingError
from sensing.folders import output_folder
from sensing.run_folder import MODEL, SPARSE_MODEL, RunFolder

SCALING_HELP = (
    "training at scale: --cache keeps features between runs; --distribute runs on several "
    "devices or workers (each replica takes --batch-size windows per step and the learning "
    "rate is multiplied by the replicas); a checkpoint is written after every epoch and "
    "--resume continues a stopped run with the same result"
)


def add_scale_arguments(parser: argparse.ArgumentParser, *, cache: bool) -> None:
    """The options of :class:`training.scale.ScaleSettings` (``--cache`` only where features are cached)."""
    from training.scale import ScaleSettings

    group = parser.add_argument_group("scaling up", SCALING_HELP)
    if cache:
        group.add_argument(
            "--cache",
            type=Path,
            default=None,
            help="feature cache folder, shared by runs and workers (default: none; "
            "clips are decoded again every epoch)",
        )
    group.add_argument(
        "--distribute",
        default=field_default(ScaleSettings, "distribute"),
        choices=("none", "mirrored", "multiworker"),
        help="none (default); mirrored: all local GPUs, or --cpu-devices logical CPU "
        "devices; multiworker: one process per worker, described by TF_CONFIG",
    )
    group.add_argument(
        "--cpu-devices",
        type=positive_int,
        default=field_default(ScaleSettings, "cpu_devices"),
        help="logical CPU devices for --distribute mirrored without GPUs (default %(default)s)",
    )
    group.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last checkpoint (its settings are "
        "read from its config.json)",
    )


def scale_settings(args: argparse.Namespace) -> Any:
    """The :class:`training.scale.ScaleSettings` of parsed arguments."""
    scale = import_extra("training.scale")
    cache = getattr(args, "cache", None)
    return scale.ScaleSettings(
        cache=None if cache is None else str(cache.resolve()),
        distribute=args.distribute,
        cpu_devices=args.cpu_devices,
        resume=args.resume,
    )


def resumable_config(config_class: Any, out: Path) -> Any:
    """The settings recorded in the run folder ``out``, for ``--resume``."""
    run = RunFolder(out)
    config = config_class.read(run.config_path, out=str(out))
    if run.finished():
        raise SensingError(f"{out}: this run already finished; nothing to resume")
    return config


def _command_train_audio(args: argparse.Namespace) -> int:
    output_folder(args.out)
    config_module = import_extra("training.audio.config")
    train_module = import_extra("training.audio.train")
    if args.resume:
        config = resumable_config(config_module.AudioTrainConfig, args.out)
    elif args.data is None:
        raise SensingError("--data is needed (the clips to train on), unless --resume continues a run")
    else:
        config = config_module.AudioTrainConfig(
            data=str(args.data.resolve()),
            out=str(args.out),
            frontend=args.frontend,
            epochs=args.epochs,
            seed=args.seed,
            batch_size=args.batch_size,
            strict=args.strict,
            negative_label=args.negative_label,
            target_fpr=args.target_fpr,
        )
    metrics = train_module.train_audio(config, scale_settings(args))
    if metrics is None:
        print("this worker's part of the training is done; worker 0 writes the run folder")
        return 0
    test = metrics["test"]
    print(f"\nrun folder: {args.out}")
    print(f"model: {Path(args.out) / MODEL}")
    if "leaf" in metrics:
        print(
            f"fast LEAF model: {Path(args.out) / metrics['leaf']['fast_model']} (features correlate "
            f"{metrics['leaf']['feature_correlation']:.4f} with the exact frontend's)"
        )
    print(f"test groups ({test['clips']} clips never seen in training):")
    for label, figures in test["per_class"].items():
        if label != metrics["negative_label"]:
            print(
                f"  {label:>10}: precision {figures['precision']}  recall {figures['recall']}  "
                f"F1 {figures['f1']}"
            )
    if "negatives" in test:
        negatives = test["negatives"]
        print(
            f"  false positives on {negatives['clips']} negative clips: "
            f"{negatives['false_positives']} ({negatives['false_positive_rate']:.1%}), "
            f"{negatives['false_positives_per_hour']} per hour of negative audio"
        )
    if metrics["skipped_files"]:
        print(f"{metrics['skipped_files']} unusable files were skipped: see {Path(args.out) / 'skipped.csv'}")
    return 0


def _command_train_radar(args: argparse.Namespace) -> int:
    config_module = import_extra("training.radar.config")
    train_module = import_extra("training.radar.train")
    output_folder(args.out)
    if args.resume:
        config = resumable_config(config_module.RadarTrainConfig, args.out)
    elif args.data is None and args.simulate is None:
        raise SensingError(
            "give a folder of labelled recordings (--data) or a number of nights to "
            "simulate (--simulate), unless --resume continues a run"
        )
    else:
        config = config_module.RadarTrainConfig(
            out=str(args.out),
            data=None if args.data is None else str(args.data.resolve()),
            simulate=args.simulate,
            hours=args.hours,
            epochs=args.epochs,
            seed=args.seed,
            batch_size=args.batch_size,
            workers=args.workers,
            keep_recordings=args.keep_recordings,
        )
    metrics = train_module.train_radar(config, scale_settings(args))
    if metrics is None:
        print("this worker's part of the training is done; worker 0 writes the run folder")
        return 0
    print(f"\nrun folder: {args.out}")
    print(
        f"model: {Path(args.out) / MODEL} ({metrics['model_bytes'] / 1024:.0f} KB, "
        f"{metrics['parameters']:,} parameters)"
    )
    for name in ("validation", "test"):
        if name in metrics:
            figures = metrics[name]["smoothed"]
            print(
                f"{name} nights ({figures['nights']} nights, {figures['epochs']} epochs, smoothed): "
                f"accuracy {figures['accuracy']:.3f}, sleep sensitivity "
                f"{format_score(figures['sleep_sensitivity'])}, "
                f"wake specificity {format_score(figures['wake_specificity'])}, absent recall "
                f"{format_score(figures['absent_recall'])}, kappa {figures['kappa']:.3f}"
            )
    if "note" in metrics:
        print(f"note: {metrics['note']}")
    return 0


def _command_prune(args: argparse.Namespace) -> int:
    if args.out.resolve() == args.run.resolve():
        raise SensingError(
            "--out must be a new folder; pruning into --run would overwrite the model it starts from"
        )
    output_folder(args.out)
    prune_module = import_extra("training.audio.prune")
    settings = prune_module.PruneSettings(
        sparsity=args.sparsity, epochs=args.epochs, learning_rate=args.learning_rate
    )
    metrics = prune_module.prune_run(args.run, args.out, settings)
    targets = [label for label in metrics["labels"] if label != metrics["negative_label"]]
    print(f"\nrun folder: {args.out}")
    print(
        f"1x1 convolutions: {metrics['sparsity_1x1']['overall']:.1%} zero weights "
        f"(target {settings.sparsity:.0%})"
    )
    print("test groups, each file run through the TFLite runtime:")
    print(
        f"{'file':<26} {'KB':>6} {'gzip KB':>8} "
        + " ".join(f"{label + ' F1':>10}" for label in targets)
        + f" {'false pos.':>10} {'same as float':>14}"
    )
    for figures in metrics["exports"].values():
        per_class = figures["test"]["per_class"]
        negatives = figures["test"].get("negatives")
        false_positives = f"{negatives['false_positive_rate']:.1%}" if negatives else "n/a"
        print(
            f"{figures['file']:<26} {figures['bytes'] / 1024:>6.0f} "
            f"{figures['gzip_bytes'] / 1024:>8.0f} "
            + " ".join(f"{format_score(per_class[label]['f1']):>10}" for label in targets)
            + f" {false_positives:>10} {figures['decisions_equal_to_float32']['test']:>14.1%}"
        )
    from sensing.tflite.sparse_check import check_sparse

    report = check_sparse(args.out / SPARSE_MODEL)
    verdict = "will" if report.sparse_ready else "will NOT"
    print(
        f"XNNPACK {verdict} run model_sparse.tflite sparsely "
        f"(details: sensing check-sparse {args.out / SPARSE_MODEL})"
    )
    return 0


def _command_evaluate(args: argparse.Namespace) -> int:
    if not (args.levels or args.nights or args.holdout):
        raise SensingError("nothing to measure: give --levels, --nights N and/or --holdout COLUMN")
    output_folder(args.out)
    evaluation = import_extra("training.audio.bedside_evaluation")
    results = evaluation.evaluate(
        args.run,
        out=args.out,
        model=args.model,
        nights=args.nights,
        minutes=args.minutes,
        levels=args.levels,
        holdout=args.holdout,
        holdout_epochs=args.epochs,
        skip_groups=tuple(args.skip_groups),
        seed=args.seed,
        cache=args.cache,
    )
    print((args.out / "evaluation.md").read_text())
    print(
        f"written: {args.out / 'evaluation.json'}, {args.out / 'evaluation.md'}"
        + (f", {results['plot']}" if results.get("plot") else "")
    )
    return 0


def _command_export_firmware(args: argparse.Namespace) -> int:
    output_folder(args.out)
    package = import_extra("firmware_export.package")
    check_name = import_extra("firmware_export.c_source").check_name
    check_name(args.name)
    model = args.model
    if model is not None and package.needs_quantizing(model):
        model = import_extra("training.audio.quantize").quantize_run(model, args.out)
    summary = package.export_firmware(model, args.out, args.name)
    print(f"firmware package: {args.out} ({len(summary['files'])} files)")
    print(f"model: {summary['model']}")
    print(
        f"flash (model): {summary['model_bytes'] / 1024:.1f} KB; tensor arena: "
        f"{summary['arena_bytes_measured'] / 1024:.1f} KB measured in TFLite Micro, "
        f"{summary['arena_bytes_exported'] / 1024:.1f} KB in {args.name}_settings.h"
    )
    print(
        f"ops ({len(summary['ops'])}): {', '.join(summary['ops'])}; "
        f"{summary['multiply_adds'] / 1e6:.2f} M multiply-adds per window"
    )
    print(
        f"golden vectors: {summary['golden_windows']} windows; TFLite Micro outputs equal "
        f"ai-edge-litert's reference kernels: {'yes' if summary['micro_outputs_equal_litert'] else 'no'}"
    )
    return 0


def add_train_commands(commands: Any) -> None:
    """Add ``train audio`` and ``train radar``."""
    train = commands.add_parser("train", help="train a model")
    train_kinds = train.add_subparsers(dest="kind", required=True)
    from training.audio.config import AudioTrainConfig
    from training.radar.config import RadarTrainConfig

    audio = train_kinds.add_parser(
        "audio",
        help="train a cough/snore classifier on labeled clips",
        description="Train an audio event classifier. DATA is a manifest CSV (path,label"
        "[,group][,category]; paths relative to the CSV) or a folder with one "
        "subfolder per label.",
    )
    audio.add_argument("--data", type=Path, help="manifest CSV or label folders")
    audio.add_argument("--out", required=True, type=Path, help="run folder to write")
    audio.add_argument(
        "--frontend",
        default=field_default(AudioTrainConfig, "frontend"),
        choices=FRONTENDS,
        help="mel: fixed log-mel features (default); leaf: a frontend learned with the "
        "CNN from raw audio (much slower to train), also exported in a fast form "
        "as model_fast.tflite",
    )
    audio.add_argument(
        "--epochs",
        type=positive_int,
        default=field_default(AudioTrainConfig, "epochs"),
        help="training epochs (default %(default)s)",
    )
    audio.add_argument(
        "--seed",
        type=non_negative_int,
        default=field_default(AudioTrainConfig, "seed"),
        help="random seed (default %(default)s)",
    )
    audio.add_argument(
        "--batch-size",
        type=positive_int,
        default=field_default(AudioTrainConfig, "batch_size"),
        help="windows per replica per step (default %(default)s)",
    )
    audio.add_argument(
        "--negative-label",
        default=field_default(AudioTrainConfig, "negative_label"),
        help="label meaning 'neither target sound' (default: %(default)s)",
    )
    audio.add_argument(
        "--target-fpr",
        type=fraction,
        default=field_default(AudioTrainConfig, "target_fpr"),
        help="share of negative clips allowed to be called a target when "
        "calibrating thresholds on validation groups (default %(default)s)",
    )
    audio.add_argument(
        "--strict", action="store_true", help="stop at the first unusable audio file instead of skipping it"
    )
    add_scale_arguments(audio, cache=True)
    audio.set_defaults(handler=_command_train_audio)

    radar = train_kinds.add_parser(
        "radar",
        help="train a sleep classifier (absent / awake / asleep per 30 s epoch)",
        description="Train the sleep classifier on radar nights: DATA holds NAME.npz recordings with "
        "NAME.epochs.csv labels, or --simulate N generates N nights (wide randomisation) "
        "into OUT/nights. Nights are split whole into train, validation and test.",
    )
    source = radar.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="folder of labelled recordings")
    source.add_argument("--simulate", type=int, metavar="N", help="simulate N nights first (at least 2)")
    radar.add_argument("--out", required=True, type=Path, help="run folder to write")
    radar.add_argument(
        "--hours",
        type=float,
        default=field_default(RadarTrainConfig, "hours"),
        help="hours per simulated night (default %(default)s)",
    )
    radar.add_argument(
        "--epochs",
        type=positive_int,
        default=field_default(RadarTrainConfig, "epochs"),
        help="passes over the training epochs (default %(default)s)",
    )
    radar.add_argument(
        "--seed",
        type=non_negative_int,
        default=field_default(RadarTrainConfig, "seed"),
        help="random seed (default %(default)s)",
    )
    radar.add_argument(
        "--batch-size",
        type=positive_int,
        default=field_default(RadarTrainConfig, "batch_size"),
        help="epochs per replica per step (default %(default)s)",
    )
    radar.add_argument(
        "--workers",
        type=positive_int,
        default=field_default(RadarTrainConfig, "workers"),
        help="processes simulating and processing nights (default %(default)s)",
    )
    radar.add_argument(
        "--keep-recordings",
        action="store_true",
        help="keep the simulated recordings (about 130 MB per hour of night)",
    )
    add_scale_arguments(radar, cache=False)
    radar.set_defaults(handler=_command_train_radar)


def add_evaluate_command(commands: Any) -> None:
    """Add ``evaluate``."""
    evaluate = commands.add_parser(
        "evaluate",
        help="measure a model as a bedside device would hear: levels, bedroom nights, unseen sources",
        description="Measure a trained model on the test groups of its run (never seen in training): "
        "a level sweep of every clip over a faint noise floor, bedroom nights built from the "
        "clips and run through sensing detect, and leave-one-out training over a manifest "
        "column. Writes OUT/evaluation.json, .md and .png.",
    )
    evaluate.add_argument("--run", required=True, type=Path, help="a finished training run folder")
    evaluate.add_argument("--out", required=True, type=Path, help="folder for the results")
    evaluate.add_argument(
        "--model", type=Path, default=None, help="model file to measure (default: the run's model.tflite)"
    )
    evaluate.add_argument(
        "--levels", action="store_true", help="clip recall and false positives at -6, -26 and -46 dBFS peak"
    )
    evaluate.add_argument(
        "--nights",
        type=positive_int,
        default=0,
        metavar="N",
        help="build N bedroom nights from the test clips and score sensing detect on them",
    )
    evaluate.add_argument(
        "--minutes",
        type=between(5, 240),
        default=30.0,
        help="minutes per night, 5 to 240 (default 30; a night is built in memory)",
    )
    evaluate.add_argument(
        "--holdout",
        default=None,
        metavar="COLUMN",
        help="train once without each value of this manifest column (e.g. source) "
        "and score that value's clips at 3%% false positives",
    )
    evaluate.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="epochs of each --holdout training (default: the run's)",
    )
    evaluate.add_argument("--cache", default=None, help="feature cache folder for --holdout training")
    evaluate.add_argument(
        "--skip-groups",
        action="append",
        default=[],
        metavar="PREFIX",
        help="leave out test clips (and --holdout values) whose group starts with PREFIX (repeatable)",
    )
    evaluate.add_argument(
        "--seed", type=non_negative_int, default=0, help="random seed of the nights and noise (default 0)"
    )
    evaluate.set_defaults(handler=_command_evaluate)


def add_prune_command(commands: Any) -> None:
    """Add ``prune``."""
    prune = commands.add_parser(
        "prune",
        help="prune a trained model so XNNPACK runs it sparsely (smaller; faster on ARM)",
        description="Fine-tune a trained run with magnitude pruning of its 1x1 convolutions and "
        "export model.tflite (dense float32), model_sparse.tflite, "
        "model_sparse_fp16.tflite and model_int8.tflite into OUT, each measured on "
        "the run's validation and test groups.",
    )
    from training.audio.config import PruneSettings

    prune.add_argument("--run", required=True, type=Path, help="a finished training run folder")
    prune.add_argument("--out", required=True, type=Path, help="new run folder to write")
    prune.add_argument(
        "--sparsity",
        type=fraction,
        default=field_default(PruneSettings, "sparsity"),
        help="share of 1x1 convolution weights set to zero (default %(default)s)",
    )
    prune.add_argument(
        "--epochs",
        type=positive_int,
        default=field_default(PruneSettings, "epochs"),
        help="fine-tuning epochs, at least 2 (default %(default)s)",
    )
    prune.add_argument(
        "--learning-rate",
        type=float,
        default=field_default(PruneSettings, "learning_rate"),
        help="peak fine-tuning learning rate (default %(default)s)",
    )
    prune.set_defaults(handler=_command_prune)


def add_export_command(commands: Any) -> None:
    """Add ``export firmware``."""
    export = commands.add_parser("export", help="export a model for another target")
    export_kinds = export.add_subparsers(dest="target", required=True)
    firmware = export_kinds.add_parser(
        "firmware",
        help="a C/C++ package for TensorFlow Lite Micro",
        description="Write a drop-in firmware package into OUT: the int8 model as a C array, "
        "its settings, an op resolver with exactly its ops, the log-mel frontend in "
        "C99, golden vectors, an example main.cc, a CMake snippet and a size report "
        "with the tensor arena measured in TFLite Micro.",
    )
    firmware.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a run folder (model_int8.tflite, or model.keras quantized on the "
        "run's training clips) or an int8 .tflite (default: the bundled "
        "microcontroller model)",
    )
    firmware.add_argument("--out", required=True, type=Path, help="folder to write")
    firmware.add_argument(
        "--name", default="cough_snore", help="prefix of the files and C identifiers (default: cough_snore)"
    )
    firmware.set_defaults(handler=_command_export_firmware)
