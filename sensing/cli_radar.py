"""The radar subcommands of ``sensing``: convert, calibrate, view, and ``simulate radar``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sensing.errors import SensingError


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

    settings = ChirpSettings(start_frequency_hz=args.start_frequency, bandwidth_hz=args.bandwidth,
                             ramp_time_s=args.ramp_time, adc_rate_hz=args.adc_rate,
                             frame_rate_hz=args.frame_rate, rx_spacing_m=args.rx_spacing,
                             device=args.device)
    path = convert_adc_cube(args.cube, settings, args.out, n_bins=args.bins)
    _print_recording(path)
    return 0


def _print_recording(path: Path) -> None:
    from sensing.radar.recording import Recording

    with Recording(path) as recording:
        config = recording.config
        ranges = config.range_m(recording.n_bins)
        print(f"wrote {path}: {recording.n_frames} frames ({recording.duration_s:.1f} s at "
              f"{config.frame_rate_hz:g} Hz), {recording.n_rx} receiver(s), {recording.n_bins} "
              f"range bins from {ranges[0]:.3f} to {ranges[-1]:.3f} m; {config.device}")


def add_radar_commands(commands) -> None:
    """Add ``radar ...`` to the ``sensing`` subcommands."""
    radar = commands.add_parser("radar", help="radar recordings: convert, calibrate, view")
    actions = radar.add_subparsers(dest="action", required=True)

    convert = actions.add_parser(
        "convert", help="an Acconeer .h5 recording to the toolkit's .npz format",
        description="Convert an Acconeer Exploration Tool recording (A121 sparse IQ, A111 IQ "
                    "or sparse) to NAME.npz (see the README's radar format). Needs h5py.")
    convert.add_argument("input", type=Path, help="the .h5 file")
    convert.add_argument("--out", type=Path, help="the .npz recording to write")
    convert.add_argument("--entry", help="which stream, when the file holds several")
    convert.add_argument("--subsweep", type=int, help="only this A121 subsweep (0-based)")
    convert.add_argument("--describe", action="store_true", help="print what the file holds")
    convert.set_defaults(handler=_command_convert)

    adc = actions.add_parser(
        "convert-adc", help="a raw FMCW ADC cube (.npy) to the toolkit's .npz format",
        description="Range-FFT a (frames, chirps, rx, samples) ADC cube, average the chirps of "
                    "each frame, and write NAME.npz. Frequencies in Hz, times in seconds.")
    adc.add_argument("cube", type=Path, help="the .npy cube (real or complex samples)")
    adc.add_argument("--out", required=True, type=Path, help="the .npz recording to write")
    adc.add_argument("--start-frequency", type=float, required=True, help="Hz at the first sample")
    adc.add_argument("--bandwidth", type=float, required=True, help="Hz swept by the ramp")
    adc.add_argument("--ramp-time", type=float, required=True, help="seconds of the ramp")
    adc.add_argument("--adc-rate", type=float, required=True, help="ADC samples per second")
    adc.add_argument("--frame-rate", type=float, required=True, help="frames per second")
    adc.add_argument("--rx-spacing", type=float, required=True,
                     help="metres between receive antennas (0 for one)")
    adc.add_argument("--device", default="fmcw adc cube", help="name stored in the recording")
    adc.add_argument("--bins", type=int, help="range bins to keep (default: all positive ranges)")
    adc.set_defaults(handler=_command_convert_adc)
