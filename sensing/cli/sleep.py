"""The sleep commands of ``sensing``: ``sleep`` (a radar night) and ``night`` (radar and audio together)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensing.cli.printing import print_combined_night, print_sleep_summary
from sensing.errors import SensingError
from sensing.folders import output_folder


def _command_sleep(args: argparse.Namespace) -> int:
    from sensing.radar.sleep.model import SleepClassifier
    from sensing.radar.sleep.scoring import score_recording, write_sleep_outputs

    output_folder(args.out)
    classifier = SleepClassifier(args.model, num_threads=args.threads)
    print(f"model {classifier.model_path} on {classifier.backend}")
    score = score_recording(args.recording, classifier, centre_m=args.centre_m)
    report = write_sleep_outputs(score, classifier, args.out, source=str(args.recording))
    print_sleep_summary(report["summary"])
    print(
        f"{len(score.labels)} epochs in {score.processing_s:.1f} s; epochs: {args.out / 'epochs.csv'}, "
        f"report: {args.out / 'report.json'}" + (f", {report['plot']}" if report.get("plot") else "")
    )
    return 0


def add_sleep_command(commands: Any) -> None:
    """Add ``sleep`` to the ``sensing`` subcommands."""
    sleep = commands.add_parser(
        "sleep",
        help="score a radar night: absent / awake / asleep per 30 s epoch and a sleep summary",
        description="Find the sleeper's range, classify every 30 s epoch, smooth the night and write "
        "epochs.csv (start_s,label,p_absent,p_awake,p_asleep), report.json (time in bed, "
        "total sleep time, sleep onset latency, wake after sleep onset, sleep efficiency, "
        "awakenings, breathing rate asleep) and hypnogram.png into OUT.",
    )
    sleep.add_argument("recording", type=Path, help="a .npz radar recording")
    sleep.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    sleep.add_argument(
        "--model", type=Path, default=None, help="a sleep model.tflite (default: the bundled one)"
    )
    sleep.add_argument(
        "--centre-m",
        type=float,
        default=None,
        help="the sleeper's range in metres (default: found by calibration)",
    )
    sleep.add_argument("--threads", type=int, default=None, help="inference threads")
    sleep.set_defaults(handler=_command_sleep)


def _command_night(args: argparse.Namespace) -> int:
    from sensing.night.run import live_night_from_microphone, night_from_files

    if args.mic == (args.audio is not None):
        raise SensingError("give either --audio FILE or --mic")
    if not args.mic:
        report = night_from_files(
            args.audio,
            args.radar,
            out_dir=args.out,
            audio_model=args.model,
            sleep_model=args.sleep_model,
            gate=args.gate,
            offset_s=args.audio_offset_s,
            threads=args.threads,
            centre_m=args.centre_m,
        )
        print_combined_night(report, args.out)
        return _night_status(report)
    if args.audio_offset_s:
        raise SensingError("--audio-offset-s is for recorded audio; live, audio and radar start together")
    report = live_night_from_microphone(
        args.radar,
        out_dir=args.out,
        device=args.device,
        centre_m=args.centre_m,
        audio_model=args.model,
        sleep_model=args.sleep_model,
        gate=args.gate,
        threads=args.threads,
    )
    print_combined_night(report, args.out)
    return _night_status(report)


def _night_status(report: dict[str, Any]) -> int:
    """Exit status of ``sensing night``: 1 when the audio stopped on an error, as ``sensing detect``."""
    stopped_by = report["audio_stopped_by"] or ""
    if stopped_by:
        print(f"audio stopped early: {stopped_by}")
    return 1 if stopped_by.startswith("error") else 0


def add_night_command(commands: Any) -> None:
    """Add ``night`` to the ``sensing`` subcommands."""
    night = commands.add_parser(
        "night",
        help="radar and audio of one night: sleep states, and coughs and snoring only while in bed",
        description="Score the radar night (as 'sensing sleep'), detect coughs and snoring in the audio "
        "(as 'sensing detect'), keep the audio events only while the sleeper is in bed (or "
        "asleep), and write report.json, events.csv and night.png (hypnogram, coughs and "
        "snore episodes on one timeline) into OUT, with the radar and audio outputs in "
        "OUT/sleep and OUT/audio.",
    )
    night.add_argument("--audio", type=Path, help="the night's audio file")
    night.add_argument(
        "--mic",
        action="store_true",
        help="live: capture the microphone while the radar frames arrive (here replayed "
        "from --radar in step with the audio) until Ctrl-C or SIGTERM",
    )
    night.add_argument("--radar", required=True, type=Path, help="the night's .npz radar recording")
    night.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    night.add_argument(
        "--gate",
        choices=("in-bed", "asleep"),
        default="in-bed",
        help="count audio events while the sleeper is in bed (awake or asleep; default) or only asleep",
    )
    night.add_argument(
        "--audio-offset-s",
        type=float,
        default=0.0,
        help="seconds from the radar's start to the audio's start (default 0)",
    )
    night.add_argument(
        "--model", type=Path, default=None, help="audio model.tflite (default: the bundled cough/snore model)"
    )
    night.add_argument(
        "--sleep-model", type=Path, default=None, help="sleep model.tflite (default: the bundled sleep model)"
    )
    night.add_argument(
        "--centre-m",
        type=float,
        default=None,
        help="the sleeper's range in metres (default: found by calibration)",
    )
    night.add_argument("--device", default=None, help="input device name or number for --mic")
    night.add_argument("--threads", type=int, default=None, help="inference threads")
    night.set_defaults(handler=_command_night)
