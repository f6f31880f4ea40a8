"""The commands that need the ``train`` extra: ``train audio``, ``train radar``, ``prune``,
``evaluate``, and ``export firmware`` (the ``firmware`` extra; ``train`` only to quantize a run).

Two options name what a command works on, the same way everywhere: ``--model`` is the model
to use (a ``.tflite`` file or a training run folder), ``--run`` the training run folder a
command continues from (``prune``, ``evaluate``). TensorFlow's own output is kept off the
terminal unless ``--verbose`` is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensing.audio.features import FRONTENDS
from sensing.cli.options import (
    add_model_option,
    between,
    field_default,
    format_score,
    fraction,
    import_extra,
    non_negative_int,
    positive,
    positive_int,
)
from sensing.errors import SensingError
from sensing.files import make_folder
from sensing.run_folder import CONFIG, INT8_MODEL, KERAS_MODEL, MODEL, SPARSE_MODEL, RunFolder, resolve_model
from sensing.wording import plural


def scaling_help(*, cache: bool, unit: str) -> str:
    """The description of the "scaling up" options (``unit``: what one training example is)."""
    return (
        "training at scale: "
        + ("--cache keeps features between runs; " if cache else "")
        + "--distribute runs on several devices or workers (each replica takes --batch-size "
        f"{unit} per step and the learning rate is multiplied by the replicas); a checkpoint is "
        "written after every training pass and --resume continues a stopped run with the same result"
    )


def add_scale_arguments(parser: argparse.ArgumentParser, *, cache: bool, unit: str) -> None:
    """The options of :class:`training.scale.ScaleSettings` but ``--resume`` (which stands in for
    the training data: see :func:`add_resume_option`); ``--cache`` only where features are cached."""
    from training.scale import ScaleSettings

    group = parser.add_argument_group("scaling up", scaling_help(cache=cache, unit=unit))
    if cache:
        group.add_argument(
            "--cache",
            type=Path,
            default=None,
            help="feature cache folder, shared by runs and workers (default: none; "
            "clips are decoded again every training pass)",
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


def add_data_group(parser: argparse.ArgumentParser) -> Any:
    """The required choice of what to train on; the caller adds the data options, then
    :func:`add_resume_option`."""
    return parser.add_argument_group("training data (one of them is required)").add_mutually_exclusive_group(
        required=True
    )


def add_resume_option(group: Any) -> None:
    """``--resume``, which stands in for the training data: the run in ``--out`` continues with
    the settings and data recorded in its ``config.json``."""
    group.add_argument(
        "--resume",
        action="store_true",
        help="continue the stopped run in --out from its last checkpoint, with the settings and "
        "data recorded in its config.json",
    )


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    """``--verbose``: show TensorFlow's own log lines and converter output."""
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's own log lines and the TFLite converter's output (hidden by default)",
    )


def quiet_tensorflow(args: argparse.Namespace) -> None:
    """Keep TensorFlow's own output off the terminal unless ``--verbose`` (before it is imported)."""
    import_extra("training.tf_output").set_verbose(args.verbose)


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
    try:
        config = config_class.read(run.config_path, out=str(out))
    except SensingError as error:
        if not run.config_path.is_file():
            raise
        raise SensingError(
            f"{error}; --resume cannot continue this run: start it again without --resume"
        ) from None
    if run.finished():
        raise SensingError(f"{out}: this run already finished; nothing to resume")
    return config


def _command_train_audio(args: argparse.Namespace) -> int:
    quiet_tensorflow(args)
    make_folder(args.out)
    config_module = import_extra("training.audio.config")
    train_module = import_extra("training.audio.train")
    if args.resume:
        config = resumable_config(config_module.AudioTrainConfig, args.out)
    else:
        config = config_module.AudioTrainConfig(
            data=str(args.data.resolve()),
            out=str(args.out),
            frontend=args.frontend,
            cnn=import_extra("training.model_settings").CnnSettings().widened(args.width),
            epochs=args.epochs,
            seed=args.seed,
            split_seed=args.split_seed,
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
        print(
            f"{plural(metrics['skipped_files'], 'unusable file')} skipped: see {Path(args.out) / 'skipped.csv'}"
        )
    return 0


def _command_train_radar(args: argparse.Namespace) -> int:
    quiet_tensorflow(args)
    config_module = import_extra("training.radar.config")
    train_module = import_extra("training.radar.train")
    make_folder(args.out)
    if args.resume:
        config = resumable_config(config_module.RadarTrainConfig, args.out)
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


def prune_settings(args: argparse.Namespace, kind: str) -> Any:
    """The :class:`training.run_settings.PruneSettings` (``AudioPruneSettings`` for audio runs)
    that ``sensing prune``'s options ask for, for a run of ``kind`` (``"audio"`` or ``"radar"``).
    Pruning from scratch keeps the run's own learning rate unless one is given.

    Raises:
        SensingError: an audio-only option for a sleep run, or settings out of range.
    """
    audio_only = {"--from-scratch": args.from_scratch, "--thresholds": args.thresholds is not None}
    if kind == "radar" and any(audio_only.values()):
        raise SensingError(f"{args.run}: a sleep run; {', '.join(audio_only)} take audio runs")
    run_settings = import_extra("training.run_settings")
    learning_rate = args.learning_rate
    if args.from_scratch and learning_rate is None:
        learning_rate = (
            import_extra("training.audio.config").AudioTrainConfig.read(args.run / CONFIG).learning_rate
        )
    given = {
        name: value
        for name, value in (
            ("epochs", args.epochs),
            ("learning_rate", learning_rate),
            ("distill", args.distill),
            ("from_scratch", args.from_scratch or None),
            ("seed", args.seed),
            ("thresholds", args.thresholds),
        )
        if value is not None
    }
    settings_kind = run_settings.PruneSettings if kind == "radar" else run_settings.AudioPruneSettings
    return settings_kind(sparsity=args.sparsity, **given)


def _command_prune(args: argparse.Namespace) -> int:
    quiet_tensorflow(args)
    if args.out.resolve() == args.run.resolve():
        raise SensingError(
            "--out must be a new folder; pruning into --run would overwrite the model it starts from"
        )
    kind = RunFolder(args.run).kind()
    settings = prune_settings(args, kind)
    if kind == "radar":
        metrics = import_extra("training.radar.prune").prune_radar_run(args.run, args.out, settings)
    else:
        metrics = import_extra("training.audio.prune").prune_run(args.run, args.out, settings)
    print(f"\nrun folder: {args.out}")
    print(
        f"1x1 convolutions: {metrics['sparsity_1x1']['overall']:.1%} zero weights "
        f"(target {settings.sparsity:.0%})"
    )
    if kind == "radar":
        _print_sleep_exports(metrics["exports"])
    else:
        _print_audio_exports(metrics)
    from sensing.tflite.sparse_check import check_sparse

    report = check_sparse(args.out / SPARSE_MODEL)
    verdict = "will" if report.sparse_ready else "will NOT"
    print(
        f"XNNPACK {verdict} run model_sparse.tflite sparsely "
        f"(details: sensing check-sparse {args.out / SPARSE_MODEL})"
    )
    return 0


def _print_audio_exports(metrics: dict[str, Any]) -> None:
    targets = [label for label in metrics["labels"] if label != metrics["negative_label"]]
    print("test groups, each file run through the TFLite runtime:")
    print(
        f"{'file':<26} {'KB':>6} {'gzip KB':>8} "
        + " ".join(f"{label + ' F1':>10}" for label in targets)
        + f" {'false pos.':>10} {'same as float':>14} {'same as dense':>14}"
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
            f" {figures['decisions_equal_to_dense']['test']:>14.1%}"
        )


SLEEP_FIGURES = ("accuracy", "sleep_sensitivity", "wake_specificity", "absent_recall")


def _print_sleep_exports(exports: dict[str, Any]) -> None:
    split = "test" if "test" in exports["float32"] else "validation"
    nights = exports["float32"][split]["smoothed"]["nights"]
    print(f"{split} nights ({nights}), smoothed, each file run through the TFLite runtime:")
    print(f"{'file':<40} {'KB':>6} " + " ".join(f"{name.replace('_', ' '):>17}" for name in SLEEP_FIGURES))
    for figures in exports.values():
        smoothed = figures[split]["smoothed"]
        print(
            f"{_short_path(figures['file']):<40} {figures['bytes'] / 1024:>6.0f} "
            + " ".join(f"{format_score(smoothed[name]):>17}" for name in SLEEP_FIGURES)
        )


def _short_path(path: str) -> str:
    """The last two parts of a path (run folder and file)."""
    return str(Path(*Path(path).parts[-2:]))


def _command_evaluate(args: argparse.Namespace) -> int:
    if not (args.levels or args.nights or args.holdout):
        raise SensingError("nothing to measure: give --levels, --nights N and/or --holdout COLUMN")
    if args.prune is not None and not args.holdout:
        raise SensingError("--prune prunes the --holdout runs; give --holdout COLUMN with it")
    if args.prune_epochs is not None and args.prune is None:
        raise SensingError("--prune-epochs sets how long --prune fine-tunes; give --prune SPARSITY with it")
    if args.prune_distill is not None and args.prune is None:
        raise SensingError("--prune-distill sets how --prune fine-tunes; give --prune SPARSITY with it")
    if args.prune is not None and RunFolder(args.run).config().get("frontend") != "mel":
        raise SensingError(f"{args.run}: not a mel run; --prune takes runs trained with --frontend mel")
    quiet_tensorflow(args)
    make_folder(args.out)
    model = resolve_model(args.model, RunFolder(args.run).model)
    evaluation = import_extra("training.audio.bedside_evaluation")
    results = evaluation.evaluate(
        args.run,
        out=args.out,
        model=model,
        nights=args.nights,
        minutes=args.minutes,
        levels=args.levels,
        holdout=args.holdout,
        holdout_epochs=args.epochs,
        skip_groups=tuple(args.skip_groups),
        seed=args.seed,
        cache=None if args.cache is None else str(args.cache),
        prune=None
        if args.prune is None
        else import_extra("training.run_settings").AudioPruneSettings(
            sparsity=args.prune,
            **{
                field: value
                for field, value in (("epochs", args.prune_epochs), ("distill", args.prune_distill))
                if value is not None
            },
        ),
    )
    print((args.out / "evaluation.md").read_text())
    print(
        f"written: {args.out / 'evaluation.json'}, {args.out / 'evaluation.md'}"
        + (f", {results['plot']}" if results.get("plot") else "")
    )
    return 0


def _command_export_firmware(args: argparse.Namespace) -> int:
    make_folder(args.out)
    package = import_extra("firmware_export.package")
    check_name = import_extra("firmware_export.c_source").check_name
    check_name(args.name)
    model = args.model
    if model is not None and package.needs_quantizing(model):
        model = quantize_for_firmware(model, args)
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


def quantize_for_firmware(run: Path, args: argparse.Namespace) -> Path:
    """Quantize the run folder ``run``'s ``model.keras`` to int8 into ``args.out`` (the ``train`` extra)."""
    quiet_tensorflow(args)
    try:
        quantize = import_extra("training.audio.quantize")
    except SensingError as error:
        needs = f"{run} has no {INT8_MODEL}; quantizing its {KERAS_MODEL} to int8 first needs"
        raise SensingError(str(error).replace("this command needs", needs, 1)) from None
    return Path(quantize.quantize_run(run, args.out))


def add_train_commands(commands: Any) -> None:
    """Add ``train audio`` and ``train radar``."""
    train = commands.add_parser(
        "train",
        help="train a model",
        description="Train a model: a cough/snore classifier on labeled audio clips (train audio), "
        "or a sleep classifier on radar nights (train radar). Each run writes a run folder "
        "(--out) with the model, its settings, its figures on held-out data and checkpoints.",
    )
    train_kinds = train.add_subparsers(dest="kind", required=True, metavar="KIND", title="kinds")
    from training.audio.config import AudioTrainConfig
    from training.radar.config import RadarTrainConfig

    audio = train_kinds.add_parser(
        "audio",
        help="train a cough/snore classifier on labeled clips",
        description="Train an audio event classifier. DATA is a manifest CSV (path,label"
        "[,group][,category]; paths relative to the CSV; each clip listed once) or a folder "
        "with one subfolder per label. Give --data, or --resume to continue a stopped run.",
    )
    data = add_data_group(audio)
    data.add_argument("--data", type=Path, help="manifest CSV or folder of label folders")
    add_resume_option(data)
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
        "--width",
        type=positive,
        default=1.0,
        help="every layer's channels times this, e.g. 1.2 for a wider network to prune with "
        "sensing prune (default %(default)s)",
    )
    audio.add_argument(
        "--epochs",
        type=positive_int,
        default=field_default(AudioTrainConfig, "epochs"),
        help="training passes over the training clips (default %(default)s)",
    )
    audio.add_argument(
        "--seed",
        type=non_negative_int,
        default=field_default(AudioTrainConfig, "seed"),
        help="random seed (default %(default)s)",
    )
    audio.add_argument(
        "--split-seed",
        type=non_negative_int,
        default=None,
        help="seed of the train/validation/test split of groups (default: --seed); runs with "
        "other --seed values and one --split-seed are measured on the same test groups",
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
    add_verbose_option(audio)
    add_scale_arguments(audio, cache=True, unit="windows")
    audio.set_defaults(handler=_command_train_audio)

    radar = train_kinds.add_parser(
        "radar",
        help="train a sleep classifier (absent / awake / asleep per 30 s epoch)",
        description="Train the sleep classifier on radar nights: DATA holds NAME.npz recordings with "
        "NAME.epochs.csv labels (one per 30 s sleep epoch), or --simulate N generates N nights "
        "(wide randomisation) into OUT/nights; --resume continues a stopped run. Nights are "
        "split whole into train, validation and test.",
    )
    source = add_data_group(radar)
    source.add_argument("--data", type=Path, help="folder of labelled recordings")
    source.add_argument(
        "--simulate", type=positive_int, metavar="N", help="simulate N nights first (at least 2)"
    )
    add_resume_option(source)
    radar.add_argument("--out", required=True, type=Path, help="run folder to write")
    radar.add_argument(
        "--hours",
        type=positive,
        default=field_default(RadarTrainConfig, "hours"),
        help="hours per simulated night, at least 5 minutes' worth (default %(default)s)",
    )
    radar.add_argument(
        "--epochs",
        type=positive_int,
        default=field_default(RadarTrainConfig, "epochs"),
        help="training passes over the training nights (default %(default)s)",
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
        help="30 s sleep epochs per replica per step (default %(default)s)",
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
    add_verbose_option(radar)
    add_scale_arguments(radar, cache=False, unit="30 s sleep epochs")
    radar.set_defaults(handler=_command_train_radar)


def add_evaluate_command(commands: Any) -> None:
    """Add ``evaluate``."""
    from training.run_settings import AudioPruneSettings

    evaluate = commands.add_parser(
        "evaluate",
        help="measure a model as a bedside device would hear: levels, bedroom nights, unseen sources",
        description="Measure a trained model on the test groups of its run (--run; never seen in "
        "training): a level sweep of every clip over a faint noise floor, bedroom nights built "
        "from the clips and run through sensing detect, and leave-one-out training over a "
        "manifest column. --model measures another model on the same clips. Writes "
        "OUT/evaluation.json, .md and .png.",
    )
    evaluate.add_argument(
        "--run",
        required=True,
        type=Path,
        help="the finished training run folder to evaluate (its test groups and settings)",
    )
    evaluate.add_argument("--out", required=True, type=Path, help="folder for the results")
    add_model_option(evaluate, "the model to measure", "the run's model.tflite")
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
        help="training passes of each --holdout run (default: the run's)",
    )
    evaluate.add_argument(
        "--prune",
        type=fraction,
        default=None,
        metavar="SPARSITY",
        help="also prune each --holdout run to this share of zero 1x1 weights (sensing prune's "
        "defaults otherwise) and score its sparse file beside the dense one",
    )
    evaluate.add_argument(
        "--prune-epochs",
        type=positive_int,
        default=None,
        help="fine-tuning passes of each --prune, at least 2 (default: sensing prune's "
        f"{field_default(AudioPruneSettings, 'epochs')})",
    )
    evaluate.add_argument(
        "--prune-distill",
        type=fraction,
        default=None,
        metavar="SHARE",
        help="share of each --prune fine-tuning target taken from the held-out run's scores "
        f"(default: sensing prune's {field_default(AudioPruneSettings, 'distill')})",
    )
    evaluate.add_argument(
        "--cache", type=Path, default=None, help="feature cache folder for --holdout training"
    )
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
    add_verbose_option(evaluate)
    evaluate.set_defaults(handler=_command_evaluate)


def add_prune_command(commands: Any) -> None:
    """Add ``prune``."""
    prune = commands.add_parser(
        "prune",
        help="prune a trained model so XNNPACK runs it sparsely (smaller; faster on ARM)",
        description="Continue a finished training run (--run) with magnitude pruning of its 1x1 "
        "convolutions, fine-tuned on the run's own clips or nights, and export into a new run folder "
        "OUT: for an audio run model.tflite (dense float32), model_sparse.tflite, "
        "model_sparse_fp16.tflite and model_int8.tflite, each measured on the run's validation and "
        "test groups; for a sleep run (sensing train radar) model.tflite and model_sparse.tflite, "
        "measured with the model it started from on the run's validation and test nights.",
    )
    from training.run_settings import THRESHOLD_SOURCES, AudioPruneSettings, PruneSettings

    prune.add_argument(
        "--run",
        required=True,
        type=Path,
        help="the finished training run folder to continue from (its model.keras, settings and clips or nights)",
    )
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
        default=None,
        help="fine-tuning passes over the training clips or nights, at least 2 (default "
        f"{field_default(AudioPruneSettings, 'epochs')} for an audio run, "
        f"{field_default(PruneSettings, 'epochs')} for a sleep run)",
    )
    prune.add_argument(
        "--learning-rate",
        type=positive,
        default=None,
        help=f"peak fine-tuning learning rate (default {field_default(PruneSettings, 'learning_rate')}; "
        "with --from-scratch, the run's own)",
    )
    prune.add_argument(
        "--distill",
        type=between(0, 1),
        default=None,
        help="share of each training target taken from the unpruned model's scores for the same "
        f"window or night epoch, 0 (labels only) to 1 (default {field_default(AudioPruneSettings, 'distill')} "
        f"for an audio run, {field_default(PruneSettings, 'distill')} for a sleep run)",
    )
    prune.add_argument(
        "--from-scratch",
        action="store_true",
        help="audio runs: train the run's network again from new weights while pruning it (pruning "
        "during training) instead of fine-tuning its trained weights; --distill still learns from "
        "the trained model",
    )
    prune.add_argument(
        "--seed",
        type=non_negative_int,
        default=None,
        help="random seed of the pruning (batch order, augmentation, dropout, and the first "
        "weights with --from-scratch), to measure how much a result owes to chance; "
        "the training, validation and test split stays the run's (default: the run's own seed)",
    )
    prune.add_argument(
        "--thresholds",
        choices=THRESHOLD_SOURCES,
        default=None,
        help="audio runs: own: the pruned files' thresholds let the run's target share of validation "
        "negatives through, as training's do; dense: they make the pruned model decide as the dense "
        "model it came from does on the validation clips (each file on its own scores, int8 included) "
        f"(default {field_default(AudioPruneSettings, 'thresholds')})",
    )
    add_verbose_option(prune)
    prune.set_defaults(handler=_command_prune)


def add_export_command(commands: Any) -> None:
    """Add ``export firmware``."""
    export = commands.add_parser(
        "export",
        help="export a model for another target",
        description="Export a model for another target: firmware writes a C/C++ package for "
        "TensorFlow Lite Micro.",
    )
    export_kinds = export.add_subparsers(dest="target", required=True, metavar="TARGET", title="targets")
    firmware = export_kinds.add_parser(
        "firmware",
        help="a C/C++ package for TensorFlow Lite Micro",
        description="Write a drop-in firmware package into OUT: the int8 model (--model) as a C "
        "array, its settings, an op resolver with exactly its ops, the log-mel frontend in "
        "C99, the event rules in C, the device loop (audio in, events out), golden vectors, a "
        "Makefile that builds it with your TFLite Micro tree for the host or a Cortex-M4 under "
        "QEMU, a CMake snippet and a size report with the tensor arena measured in TFLite Micro. "
        "The package appears in OUT whole or not at all.",
    )
    add_model_option(
        firmware,
        "the int8 model to export (a run folder gives its model_int8.tflite, or its model.keras "
        "quantized to int8 on its training clips, which needs the train extra)",
        "the bundled microcontroller model",
    )
    firmware.add_argument("--out", required=True, type=Path, help="folder to write")
    firmware.add_argument(
        "--name", default="cough_snore", help="prefix of the files and C identifiers (default: cough_snore)"
    )
    add_verbose_option(firmware)
    firmware.set_defaults(handler=_command_export_firmware)
