"""The sleep subcommands of ``sensing``: ``train radar``, ``sleep`` and ``night``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sensing.errors import SensingError
from sensing.folders import output_folder


def _command_train_radar(args: argparse.Namespace) -> int:
    from sensing.cli import _import_training, resumable_config, scale_settings

    config_module = _import_training("training.radar_config")
    train_module = _import_training("training.train_radar")
    output_folder(args.out)
    if args.resume:
        config = resumable_config(config_module.RadarTrainConfig, args.out)
    elif args.data is None and args.simulate is None:
        raise SensingError("give a folder of labelled recordings (--data) or a number of nights to "
                           "simulate (--simulate), unless --resume continues a run")
    else:
        config = config_module.RadarTrainConfig(
            out=str(args.out), data=None if args.data is None else str(args.data.resolve()),
            simulate=args.simulate, hours=args.hours, epochs=args.epochs, seed=args.seed,
            batch_size=args.batch_size, workers=args.workers, keep_recordings=args.keep_recordings)
    metrics = train_module.train_radar(config, scale_settings(args))
    if metrics is None:
        print("this worker's part of the training is done; worker 0 writes the run folder")
        return 0
    print(f"\nrun folder: {args.out}")
    print(f"model: {Path(args.out) / 'model.tflite'} ({metrics['model_bytes'] / 1024:.0f} KB, "
          f"{metrics['parameters']:,} parameters)")
    for name in ("validation", "test"):
        if name in metrics:
            figures = metrics[name]["smoothed"]
            print(f"{name} nights ({figures['nights']} nights, {figures['epochs']} epochs, smoothed): "
                  f"accuracy {figures['accuracy']:.3f}, sleep sensitivity "
                  f"{_fmt(figures['sleep_sensitivity'])}, "
                  f"wake specificity {_fmt(figures['wake_specificity'])}, absent recall "
                  f"{_fmt(figures['absent_recall'])}, kappa {figures['kappa']:.3f}")
    if "note" in metrics:
        print(f"note: {metrics['note']}")
    return 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _command_sleep(args: argparse.Namespace) -> int:
    from sensing.radar.sleep_model import SleepClassifier
    from sensing.radar.sleep_scoring import score_recording, write_sleep_outputs

    output_folder(args.out)
    classifier = SleepClassifier(args.model, num_threads=args.threads)
    print(f"model {classifier.model_path} on {classifier.backend}")
    score = score_recording(args.recording, classifier, centre_m=args.centre_m)
    report = write_sleep_outputs(score, classifier, args.out, source=str(args.recording))
    print_summary(report["summary"])
    print(f"{len(score.labels)} epochs in {score.processing_s:.1f} s; epochs: {args.out / 'epochs.csv'}, "
          f"report: {args.out / 'report.json'}" + (f", {report['plot']}" if report.get("plot") else ""))
    return 0


def _minutes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} min"


def print_summary(summary: dict) -> None:
    """The sleep summary in a few lines."""
    if summary["note"]:
        print(f"note: {summary['note']}")
    efficiency = summary["sleep_efficiency"]
    rate = summary["breathing_rate_bpm"]
    print(f"time in bed {_minutes(summary['time_in_bed_min'])}, total sleep "
          f"{_minutes(summary['total_sleep_min'])}, "
          f"sleep efficiency {'n/a' if efficiency is None else f'{efficiency:.0%}'}")
    print(f"sleep onset latency {_minutes(summary['sleep_onset_latency_min'])}, wake after sleep onset "
          f"{_minutes(summary['wake_after_sleep_onset_min'])}, {summary['awakenings']} awakening(s), "
          f"breathing {'n/a' if rate is None else f'{rate:.1f}/min'} asleep")


def add_train_radar_command(train_kinds) -> None:
    """Add ``train radar`` to the ``sensing train`` kinds."""
    from sensing.cli import _positive_int, add_scale_arguments

    radar = train_kinds.add_parser(
        "radar", help="train a sleep classifier (absent / awake / asleep per 30 s epoch)",
        description="Train the sleep classifier on radar nights: DATA holds NAME.npz recordings with "
                    "NAME.epochs.csv labels, or --simulate N generates N nights (wide randomisation) "
                    "into OUT/nights. Nights are split whole into train, validation and test.")
    source = radar.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="folder of labelled recordings")
    source.add_argument("--simulate", type=int, metavar="N", help="simulate N nights first (at least 2)")
    radar.add_argument("--out", required=True, type=Path, help="run folder to write")
    radar.add_argument("--hours", type=float, default=2.0, help="hours per simulated night (default 2)")
    radar.add_argument("--epochs", type=_positive_int, default=12,
                       help="passes over the training epochs (default 12)")
    radar.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    radar.add_argument("--batch-size", type=_positive_int, default=64,
                       help="epochs per replica per step (default 64)")
    radar.add_argument("--workers", type=_positive_int, default=1,
                       help="processes simulating and processing nights (default 1)")
    radar.add_argument("--keep-recordings", action="store_true",
                       help="keep the simulated recordings (about 130 MB per hour of night)")
    add_scale_arguments(radar, cache=False)
    radar.set_defaults(handler=_command_train_radar)


def add_sleep_command(commands) -> None:
    """Add ``sleep`` to the ``sensing`` subcommands."""
    sleep = commands.add_parser(
        "sleep", help="score a radar night: absent / awake / asleep per 30 s epoch and a sleep summary",
        description="Find the sleeper's range, classify every 30 s epoch, smooth the night and write "
                    "epochs.csv (start_s,label,p_absent,p_awake,p_asleep), report.json (time in bed, "
                    "total sleep time, sleep onset latency, wake after sleep onset, sleep efficiency, "
                    "awakenings, breathing rate asleep) and hypnogram.png into OUT.")
    sleep.add_argument("recording", type=Path, help="a .npz radar recording")
    sleep.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    sleep.add_argument("--model", type=Path, default=None,
                       help="a sleep model.tflite (default: the bundled one)")
    sleep.add_argument("--centre-m", type=float, default=None,
                       help="the sleeper's range in metres (default: found by calibration)")
    sleep.add_argument("--threads", type=int, default=None, help="inference threads")
    sleep.set_defaults(handler=_command_sleep)



def print_night(report: dict, out: Path) -> None:
    """The combined night in a few lines."""
    print_summary(report["sleep"])
    figures = report["combined"]
    per_hour = figures["coughs_per_hour_asleep"]
    print(f"gate '{report['gate']}': kept {report['events_kept']} audio events, dropped "
          f"{report['events_dropped']} {report['dropped_by_state'] or ''}".rstrip())
    print(f"coughs: {figures['coughs']} ({figures['coughs_asleep']} asleep, "
          f"{'n/a' if per_hour is None else f'{per_hour:.1f}'} per hour of sleep); snoring: "
          f"{figures['snore_minutes_asleep']:.1f} min while asleep in {figures['snore_episodes_asleep']} "
          f"episode(s)")
    print(f"report: {out / 'report.json'}" + (f", {report['plot']}" if report.get("plot") else "")
          + f"; events: {out / 'events.csv'}; sleep: {out / 'sleep'}; audio: {out / 'audio'}")


def _command_night(args: argparse.Namespace) -> int:
    from sensing.sleep_night import live_night, night_from_files, replay_radar

    if args.mic == (args.audio is not None):
        raise SensingError("give either --audio FILE or --mic")
    if not args.mic:
        report = night_from_files(args.audio, args.radar, out_dir=args.out, audio_model=args.model,
                                  sleep_model=args.sleep_model, gate=args.gate,
                                  offset_s=args.audio_offset_s, threads=args.threads, centre_m=args.centre_m)
        print_night(report, args.out)
        return _night_status(report)
    if args.audio_offset_s:
        raise SensingError("--audio-offset-s is for recorded audio; live, audio and radar start together")
    from sensing.microphone import microphone_blocks
    from sensing.model_file import read_metadata
    from sensing.night import StopOnSignal, default_model_path
    from sensing.radar.recording import Recording
    from sensing.radar.sleep_input import sleeper_centre
    from sensing.radar.sleep_model import default_sleep_model, read_sleep_metadata

    centre_m = args.centre_m
    if centre_m is None:
        settings = read_sleep_metadata(args.sleep_model or default_sleep_model()).features
        with Recording(args.radar) as recording:
            sleeper = sleeper_centre(recording, settings)
        centre_m = sleeper.centre_m
        print(f"sleeper's range: {centre_m:.2f} m ({sleeper.how})")
    sr = read_metadata(args.model or default_model_path()).features.sr
    with StopOnSignal() as stop:
        report = live_night(microphone_blocks(sr=sr, device=args.device), replay_radar(args.radar),
                            out_dir=args.out, centre_m=centre_m, audio_model=args.model,
                            sleep_model=args.sleep_model, gate=args.gate,
                            source={"microphone": args.device or "default input"}, threads=args.threads,
                            stop_requested=lambda: stop.requested)
    print_night(report, args.out)
    return _night_status(report)


def _night_status(report: dict) -> int:
    """Exit status of ``sensing night``: 1 when the audio stopped on an error, as ``sensing detect``."""
    stopped_by = report["audio_stopped_by"] or ""
    if stopped_by:
        print(f"audio stopped early: {stopped_by}")
    return 1 if stopped_by.startswith("error") else 0


def add_night_command(commands) -> None:
    """Add ``night`` to the ``sensing`` subcommands."""
    night = commands.add_parser(
        "night", help="radar and audio of one night: sleep states, and coughs and snoring only while in bed",
        description="Score the radar night (as 'sensing sleep'), detect coughs and snoring in the audio "
                    "(as 'sensing detect'), keep the audio events only while the sleeper is in bed (or "
                    "asleep), and write report.json, events.csv and night.png (hypnogram, coughs and "
                    "snore episodes on one timeline) into OUT, with the radar and audio outputs in "
                    "OUT/sleep and OUT/audio.")
    night.add_argument("--audio", type=Path, help="the night's audio file")
    night.add_argument("--mic", action="store_true",
                       help="live: capture the microphone while the radar frames arrive (here replayed "
                            "from --radar in step with the audio) until Ctrl-C or SIGTERM")
    night.add_argument("--radar", required=True, type=Path, help="the night's .npz radar recording")
    night.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    night.add_argument("--gate", choices=("in-bed", "asleep"), default="in-bed",
                       help="count audio events while the sleeper is in bed (awake or asleep; default) "
                            "or only asleep")
    night.add_argument("--audio-offset-s", type=float, default=0.0,
                       help="seconds from the radar's start to the audio's start (default 0)")
    night.add_argument("--model", type=Path, default=None,
                       help="audio model.tflite (default: the bundled cough/snore model)")
    night.add_argument("--sleep-model", type=Path, default=None,
                       help="sleep model.tflite (default: the bundled sleep model)")
    night.add_argument("--centre-m", type=float, default=None,
                       help="the sleeper's range in metres (default: found by calibration)")
    night.add_argument("--device", default=None, help="input device name or number for --mic")
    night.add_argument("--threads", type=int, default=None, help="inference threads")
    night.set_defaults(handler=_command_night)
