"""The radar subcommands of ``sensing``: convert, calibrate, breathing, view, and ``simulate radar``.

calibrate, breathing and view take the toolkit's ``.npz`` or an Acconeer ``.h5``
(converted on the fly, :func:`sensing.radar.sources.as_recording`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from sensing.cli.options import (
    add_start_time_option,
    at_least,
    between,
    non_negative_int,
    positive,
    positive_int,
)
from sensing.errors import SensingError
from sensing.radar.recording import EPOCH_S
from sensing.radar.simulate import MAX_HOURS

RECORDING_HELP = "a radar recording: the toolkit's .npz or an Acconeer .h5 (converted on the fly)"


def _command_convert(args: argparse.Namespace) -> int:
    from sensing.radar.acconeer import convert_acconeer, describe_acconeer

    if args.describe:
        print(json.dumps(describe_acconeer(args.input), indent=2))
        return 0
    if args.out is None:
        raise SensingError("give --out RECORDING.npz (or --describe to list the file's streams)")
    path = convert_acconeer(args.input, args.out, entry=args.entry, subsweep=args.subsweep)
    _print_recording(path)
    return 0


def _command_convert_adc(args: argparse.Namespace) -> int:
    from sensing.radar.adc import ChirpSettings, convert_adc_cube

    settings = ChirpSettings(
        start_frequency_hz=args.start_frequency,
        bandwidth_hz=args.bandwidth,
        ramp_time_s=args.ramp_time,
        adc_rate_hz=args.adc_rate,
        frame_rate_hz=args.frame_rate,
        rx_spacing_m=args.rx_spacing,
        device=args.device,
    )
    path = convert_adc_cube(args.cube, settings, args.out, n_bins=args.bins)
    _print_recording(path)
    return 0


def _command_calibrate(args: argparse.Namespace) -> int:
    from sensing.radar.calibration import calibrate
    from sensing.radar.recording import Recording
    from sensing.radar.sources import as_recording

    with as_recording(args.recording) as path, Recording(path) as recording:
        calibration = calibrate(recording, seconds=args.seconds, start_s=args.start)
    if args.json:
        print(json.dumps(calibration.to_dict(), indent=2))
    else:
        print(calibration.describe())
    return 0 if calibration.found else 1


def _command_breathing(args: argparse.Namespace) -> int:
    from sensing.radar.breathing import breathing_per_epoch, breathing_rate
    from sensing.radar.recording import Recording
    from sensing.radar.sources import as_recording

    with as_recording(args.recording) as path, Recording(path) as recording:
        estimates = (
            [breathing_rate(recording, start_s=args.start, seconds=args.seconds)]
            if not args.per_epoch
            else breathing_per_epoch(recording)
        )
    if args.json:
        print(json.dumps([dataclasses.asdict(e) for e in estimates], indent=2))
        return 0
    for estimate in estimates:
        verdict = "confident" if estimate.confident else "not confident"
        if estimate.note:
            verdict += f": {estimate.note}"
        print(
            f"{estimate.start_s:7.0f} s +{estimate.seconds:4.0f} s: "
            f"{estimate.rate_per_min:5.1f} breaths/min at {estimate.range_m:.2f} m, "
            f"confidence {estimate.confidence:.2f} ({verdict})"
        )
    return 0


def _command_view(args: argparse.Namespace) -> int:
    from sensing.radar.calibration import calibrate
    from sensing.radar.recording import Recording, epochs_path
    from sensing.radar.sources import as_recording
    from sensing.radar.view import write_views

    with as_recording(args.recording) as path:
        centre_m = None
        with Recording(path) as recording:
            if recording.duration_s >= 20:
                calibration = calibrate(recording)
                if calibration.centre_m is not None:
                    centre_m = calibration.centre_m
                    print(
                        f"sleeper at {calibration.range_min_m:.2f}-{calibration.range_max_m:.2f} m "
                        f"(calibration)"
                    )
        pictures = write_views(
            path, args.out, centre_m=centre_m, labels_path=epochs_path(args.recording), start=args.start_time
        )
    for picture in pictures:
        print(f"wrote {picture}")
    return 0


def _command_simulate(args: argparse.Namespace) -> int:
    from sensing.radar.simulate import simulate_nights
    from sensing.wording import duration, plural

    flags: dict[str, bool | None] = {
        name: (True if getattr(args, name) == "yes" else False if getattr(args, name) == "no" else None)
        for name in ("partner", "fan", "curtain")
    }
    results = simulate_nights(
        args.out,
        nights=args.nights,
        hours=args.hours,
        seed=args.seed,
        wide=args.wide,
        partner=flags["partner"],
        partner_side=args.partner_side,
        fan=flags["fan"],
        curtain=flags["curtain"],
    )
    for path, truth in results:
        labels = list(truth.epoch_labels)
        seconds = {label: labels.count(label) * EPOCH_S for label in ("asleep", "awake", "absent")}
        print(
            f"{path}: {duration(len(labels) * EPOCH_S)} ({plural(len(labels), 'sleep epoch')} of 30 s): "
            f"asleep {duration(seconds['asleep'])}, awake {duration(seconds['awake'])}, "
            f"absent {duration(seconds['absent'])}"
        )
    return 0


def _print_recording(path: Path) -> None:
    from sensing.radar.recording import Recording
    from sensing.wording import duration, plural

    with Recording(path) as recording:
        config = recording.config
        ranges = config.range_m(recording.n_bins)
        print(
            f"wrote {path}: {plural(recording.n_frames, 'frame')} ({duration(recording.duration_s)} at "
            f"{config.frame_rate_hz:.4g} frames per second), {plural(recording.n_rx, 'receiver')}, "
            f"{plural(recording.n_bins, 'range bin')} from {ranges[0]:.3f} to {ranges[-1]:.3f} m; "
            f"{config.device}"
        )


def add_radar_commands(commands: Any) -> None:
    """Add ``radar ...`` to the ``sensing`` subcommands."""
    radar = commands.add_parser(
        "radar",
        help="radar recordings: convert, calibrate, breathing rate, view",
        description="Work with one radar recording: convert another radar's files to the toolkit's "
        "format, find the sleeper's distance, estimate the breathing rate, or draw what the radar saw.",
    )
    actions = radar.add_subparsers(dest="action", required=True)

    convert = actions.add_parser(
        "convert",
        help="an Acconeer .h5 recording to the toolkit's .npz format",
        description="Convert an Acconeer Exploration Tool recording (A121 sparse IQ, A111 IQ "
        "or sparse) to NAME.npz (see docs/radar.md, Recording format). Needs h5py. The other "
        "radar commands, sensing sleep and sensing night also read an .h5 file directly.",
    )
    convert.add_argument("input", type=Path, help="the .h5 file")
    convert.add_argument("--out", type=Path, help="the .npz recording to write")
    convert.add_argument("--entry", help="which stream, when the file holds several (see --describe)")
    convert.add_argument("--subsweep", type=non_negative_int, help="only this A121 subsweep (0-based)")
    convert.add_argument("--describe", action="store_true", help="print what the file holds")
    convert.set_defaults(handler=_command_convert)

    adc = actions.add_parser(
        "convert-adc",
        help="a raw FMCW ADC cube (.npy) to the toolkit's .npz format",
        description="Range-FFT a (frames, chirps, rx, samples) ADC cube, average the chirps of "
        "each frame, and write NAME.npz. Frequencies in Hz, times in seconds.",
    )
    adc.add_argument("cube", type=Path, help="the .npy cube (real or complex samples)")
    adc.add_argument("--out", required=True, type=Path, help="the .npz recording to write")
    adc.add_argument("--start-frequency", type=positive, required=True, help="Hz at the first sample")
    adc.add_argument("--bandwidth", type=positive, required=True, help="Hz swept by the ramp")
    adc.add_argument("--ramp-time", type=positive, required=True, help="seconds of the ramp")
    adc.add_argument("--adc-rate", type=positive, required=True, help="ADC samples per second")
    adc.add_argument("--frame-rate", type=positive, required=True, help="frames per second")
    adc.add_argument(
        "--rx-spacing", type=at_least(0), required=True, help="metres between receive antennas (0 for one)"
    )
    adc.add_argument("--device", default="fmcw adc cube", help="name stored in the recording")
    adc.add_argument("--bins", type=positive_int, help="range bins to keep (default: all positive ranges)")
    adc.set_defaults(handler=_command_convert_adc)

    calibrate = actions.add_parser(
        "calibrate",
        help="find the sleeper's range (and say why)",
        description="Find the sleeper's range bins in the first minutes of a recording: the "
        "nearest breathing body, with the evidence for and against every moving "
        "region (a partner, a fan, a curtain). Exit 0 when found, 1 when not.",
    )
    calibrate.add_argument("recording", type=Path, help=RECORDING_HELP)
    calibrate.add_argument(
        "--seconds",
        type=positive,
        default=1800.0,
        help="seconds to analyse from --start (default 1800: on a night "
        "recording the sleeper may lie awake and move for a while)",
    )
    calibrate.add_argument("--start", type=at_least(0), default=0.0, help="start, in seconds (default 0)")
    calibrate.add_argument("--json", action="store_true", help="print one JSON object")
    calibrate.set_defaults(handler=_command_calibrate)

    breathing = actions.add_parser(
        "breathing",
        help="the breathing rate and how sure it is",
        description="Estimate the breathing rate from the range bin with the most 0.1-0.5 Hz "
        "motion: unwrapped phase to displacement, spectral peak, and a confidence "
        "(the share of motion power in the breathing peak and its harmonic).",
    )
    breathing.add_argument("recording", type=Path, help=RECORDING_HELP)
    breathing.add_argument("--start", type=at_least(0), default=0.0, help="start, in seconds (default 0)")
    breathing.add_argument("--seconds", type=positive, default=None, help="span in seconds (default: all)")
    breathing.add_argument("--per-epoch", action="store_true", help="one estimate per 30 s sleep epoch")
    breathing.add_argument("--json", action="store_true", help="print JSON")
    breathing.set_defaults(handler=_command_breathing)

    view = actions.add_parser(
        "view",
        help="PNGs of what the radar saw",
        description="Write range_time.png (movement by distance from the radar, over the night) and "
        "frequency_time.png (breathing and movement at the sleeper's distance) into OUT.",
    )
    view.add_argument("recording", type=Path, help=RECORDING_HELP)
    view.add_argument("--out", required=True, type=Path, help="folder for the PNGs")
    add_start_time_option(view)
    view.set_defaults(handler=_command_view)


def add_simulate_commands(commands: Any) -> None:
    """Add ``simulate radar`` to the ``sensing`` subcommands."""
    simulate = commands.add_parser(
        "simulate",
        help="generate data with known truth",
        description="Generate data whose truth is known, to try the toolkit or train on.",
    )
    kinds = simulate.add_subparsers(dest="kind", required=True)
    radar = kinds.add_parser(
        "radar",
        help="simulated radar nights with a label per 30 s sleep epoch",
        description="Simulate whole nights of a Soli-like 60 GHz radar (58-63.5 GHz, 2.7 cm bins, "
        "3 receivers, 15 Hz): a sleeper's breathing, heartbeat and movements, clutter, "
        "noise and optional interferers. Writes night_NNN.npz, .epochs.csv (a label per 30 s "
        "sleep epoch) and .truth.json per night.",
    )
    radar.add_argument("--out", required=True, type=Path, help="folder to write")
    radar.add_argument("--nights", type=positive_int, default=1, help="nights (default 1)")
    radar.add_argument(
        "--hours",
        type=between(EPOCH_S / 3600, MAX_HOURS),
        default=8.0,
        help=f"hours per night, from one 30 s sleep epoch to {MAX_HOURS:g} (default 8)",
    )
    radar.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    for name, what in (
        ("partner", "a bed partner"),
        ("fan", "a ceiling fan"),
        ("curtain", "a swaying curtain"),
    ):
        radar.add_argument(
            f"--{name}",
            choices=("yes", "no", "random"),
            default="no",
            help=f"{what}: yes, no or random per night (default no)",
        )
    radar.add_argument(
        "--partner-side",
        choices=("far", "near"),
        default="far",
        help="where the partner lies: beyond the sleeper (far; the radar on the sleeper's bedside, "
        "the default) or between the radar and the sleeper (near)",
    )
    radar.add_argument(
        "--wide",
        action="store_true",
        help="draw each sleeper's body, habits and noise from wider brackets and each "
        "radar's frame rate, receivers and bandwidth at random (for training)",
    )
    radar.set_defaults(handler=_command_simulate)
