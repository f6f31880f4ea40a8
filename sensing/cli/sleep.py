"""The sleep commands of ``sensing``: ``sleep`` (a radar night) and ``night`` (radar and audio together)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sensing.cli.options import add_model_option, add_start_time_option, finite_float, positive, positive_int
from sensing.cli.radar import RECORDING_HELP
from sensing.cli.sharing import add_sharing_options, sharing
from sensing.errors import SensingError


def _command_sleep(args: argparse.Namespace) -> int:
    from sensing.files import clear_outputs, locked_output_folder
    from sensing.radar.recording import Recording
    from sensing.radar.sleep.model import SleepClassifier, default_sleep_model
    from sensing.radar.sleep.scoring import SLEEP_OUTPUTS, score_recording, write_sleep_outputs
    from sensing.radar.sleep.summary import summary_lines
    from sensing.radar.sources import as_recording
    from sensing.run_folder import resolve_model

    with sharing(args, "sleep") as share:
        with locked_output_folder(args.out) as out:
            classifier = SleepClassifier(
                resolve_model(args.model, default_sleep_model()), num_threads=args.threads
            )
            print(f"model {classifier.model_path} on {classifier.backend}")
            with as_recording(args.recording) as path:
                with Recording(path) as recording:
                    start = args.start_time or recording.config.started_at()
                clear_outputs(out, SLEEP_OUTPUTS)
                score = score_recording(path, classifier, centre_m=args.centre_m)
            report = write_sleep_outputs(score, classifier, out, source=str(args.recording), start=start)
        for line in summary_lines(score.summary, start=start):
            print(line)
        print(
            f"{len(score.labels)} sleep epochs of 30 s scored in {score.processing_s:.1f} s; "
            f"epochs: {out / 'epochs.csv'}, report: {out / 'report.json'}"
            + (f", picture: {report['plot']}" if report.get("plot") else ""),
            flush=True,
        )
        share(out)
    return 0


def add_sleep_command(commands: Any) -> None:
    """Add ``sleep`` to the ``sensing`` subcommands."""
    sleep = commands.add_parser(
        "sleep",
        help="score a radar night: absent / awake / asleep per 30 s sleep epoch and a sleep summary",
        description="Find the sleeper's range, classify every 30 s sleep epoch, smooth the night and "
        "write epochs.csv (start_s,label,p_absent,p_awake,p_asleep), report.json (time in bed, "
        "total sleep time, sleep onset latency, wake after sleep onset, sleep efficiency, "
        "awakenings, breathing rate asleep) and hypnogram.png into OUT (an earlier run's are "
        "replaced).",
    )
    sleep.add_argument("recording", type=Path, help=RECORDING_HELP)
    sleep.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    add_model_option(sleep, "the sleep model", "the bundled sleep model")
    sleep.add_argument(
        "--centre-m",
        type=positive,
        default=None,
        help="the sleeper's range in metres (default: found by calibration)",
    )
    sleep.add_argument("--threads", type=positive_int, default=None, help="inference threads")
    add_start_time_option(sleep)
    add_sharing_options(sleep)
    sleep.set_defaults(handler=_command_sleep)


def _command_night(args: argparse.Namespace) -> int:
    from sensing.night.run import live_night_from_microphone, night_from_files
    from sensing.radar.sleep.model import default_sleep_model
    from sensing.run_folder import resolve_model

    if args.mic == (args.audio is not None):
        raise SensingError("give either --audio FILE or --mic")
    sleep_model = resolve_model(args.sleep_model, default_sleep_model())
    if args.mic and args.audio_offset_s:
        raise SensingError("--audio-offset-s is for recorded audio; live, audio and radar start together")
    if args.mic and args.start_time is not None:
        raise SensingError("--start-time is for recordings; live, the night starts now")
    with sharing(args, "night") as share:
        if not args.mic:
            report = night_from_files(
                args.audio,
                args.radar,
                out_dir=args.out,
                audio_model=_audio_model(args.model),
                sleep_model=sleep_model,
                gate=args.gate,
                offset_s=args.audio_offset_s,
                threads=args.threads,
                centre_m=args.centre_m,
                start=args.start_time,
            )
        else:
            report = live_night_from_microphone(
                args.radar,
                out_dir=args.out,
                device=args.device,
                centre_m=args.centre_m,
                audio_model=_audio_model(args.model),
                sleep_model=sleep_model,
                gate=args.gate,
                threads=args.threads,
            )
        status = _print_night(report, args.out)
        share(args.out)
    return status


def _audio_model(path: Path | None) -> Path:
    """The audio model ``--model`` names (a .tflite file or a run folder), or the bundled one."""
    from sensing.audio.night import default_model_path
    from sensing.run_folder import resolve_model

    return resolve_model(path, default_model_path())


def _print_night(report: dict[str, Any], out: Path) -> int:
    """Print what ``sensing night`` found; returns its exit status: 1 when the audio stopped on
    an error, as ``sensing detect``."""
    from sensing.night.report_text import night_lines

    for line in night_lines(report):
        print(line)
    print(
        f"report: {out / 'report.json'}"
        + (f", picture: {report['plot']}" if report.get("plot") else "")
        + f"; events: {out / 'events.csv'}; sleep: {out / 'sleep'}; audio: {out / 'audio'}"
    )
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
        "OUT/sleep and OUT/audio. Warns when less than 90% of the audio overlaps the radar "
        "night, and stops when none does.",
    )
    night.add_argument("--audio", type=Path, help="the night's audio file")
    night.add_argument(
        "--mic",
        action="store_true",
        help="live: capture the microphone while the radar frames arrive (here replayed "
        "from --radar in step with the audio) until Ctrl-C or SIGTERM",
    )
    night.add_argument("--radar", required=True, type=Path, help=f"the night's radar: {RECORDING_HELP}")
    night.add_argument("--out", required=True, type=Path, help="folder for the outputs")
    night.add_argument(
        "--gate",
        choices=("in-bed", "asleep"),
        default="in-bed",
        help="count audio events while the sleeper is in bed (awake or asleep; default) or only asleep",
    )
    night.add_argument(
        "--audio-offset-s",
        type=finite_float,
        default=0.0,
        help="seconds from the radar's start to the audio's start (negative: the audio started first; "
        "default 0)",
    )
    add_model_option(night, "the audio (cough and snore) model", "the bundled cough/snore model")
    night.add_argument(
        "--sleep-model",
        type=Path,
        default=None,
        help="the sleep model: a .tflite file or a training run folder (default: the bundled sleep model)",
    )
    night.add_argument(
        "--centre-m",
        type=positive,
        default=None,
        help="the sleeper's range in metres (default: found by calibration)",
    )
    night.add_argument("--device", default=None, help="input device name or number for --mic")
    night.add_argument("--threads", type=positive_int, default=None, help="inference threads")
    add_start_time_option(night)
    add_sharing_options(night)
    night.set_defaults(handler=_command_night)
