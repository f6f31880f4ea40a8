"""``sensing rig``: a bedside rig set up once (``setup``), then running every night by itself
(``run``, ``install`` for systemd), and what it is doing (``status``)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import sys
from pathlib import Path
from typing import Any

from sensing.cli.options import at_least, non_negative_int, positive
from sensing.cli.sharing import broker_option, node_id_option
from sensing.errors import SensingError
from sensing.files import make_folder
from sensing.radar.calibration import MIN_SPAN_S

CONFIG_HELP = (
    "the rig configuration file (TOML; default ~/.config/sensing/rig.toml, or under $XDG_CONFIG_HOME)"
)


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    from sensing.rig.config import default_config_path

    parser.add_argument("--config", type=Path, default=default_config_path(), help=CONFIG_HELP)


def _clock_option(text: str) -> datetime.time:
    try:
        return datetime.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a clock time such as 22:30, got {text!r}") from None


def _list_devices() -> list[str]:
    """The audio input devices, one line each (or why they cannot be listed)."""
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        return [f"no audio devices listed: sounddevice is missing ({error}); pip install 'sensing[mic]'"]
    try:
        devices = sounddevice.query_devices()
    except sounddevice.PortAudioError as error:
        return [f"no audio devices listed: {error}"]
    inputs = [
        f"  {index}: {device['name']} ({device['max_input_channels']} channels, "
        f"{device['default_samplerate']:.0f} Hz)"
        for index, device in enumerate(devices)
        if device["max_input_channels"] > 0
    ]
    return (
        ["audio inputs (give the number or part of the name as --audio-device):", *inputs]
        if inputs
        else ["no audio input devices found"]
    )


def _ask(question: str, default: str | None = None) -> str:
    """Ask on the terminal until answered; Enter takes ``default`` when there is one."""
    shown = f" [{default}]" if default else ""
    while True:
        answer = input(f"{question}{shown}: ").strip() or (default or "")
        if answer:
            return answer


def _ask_radar() -> tuple[Path | None, str | None]:
    """Ask for the radar until the answer is a recording that exists or a driver's name."""
    while True:
        answer = _ask("radar: a recording to replay (a path), or a driver (package.module:function)")
        if Path(answer).is_file():
            return Path(answer).resolve(), None
        if ":" in answer:
            return None, answer
        print(f"{answer}: no such recording, and not package.module:function")


def _starting_config(args: argparse.Namespace) -> Any:
    """The configuration the options change: the file's, when it exists, else the defaults."""
    from sensing.rig.config import (
        AudioSettings,
        ModelSettings,
        MqttSettings,
        NightSettings,
        RadarSettings,
        RigConfig,
        read_config,
    )

    if args.config.exists():
        return read_config(args.config)
    interactive = sys.stdin.isatty()
    output = args.output
    if output is None and interactive:
        output = Path(_ask("folder for the nights", str(Path.home() / "nights"))).expanduser()
    if output is None:
        raise SensingError("give --output FOLDER: where the rig writes its nights")
    replay, driver = args.radar_replay, args.radar_driver
    if replay is None and driver is None and interactive:
        replay, driver = _ask_radar()
    if replay is None and driver is None:
        raise SensingError(
            "give the radar: --radar-replay RECORDING or --radar-driver package.module:function"
        )
    return RigConfig(
        path=args.config.resolve(),
        night=NightSettings(output=output.resolve()),
        audio=AudioSettings(),
        radar=RadarSettings(replay=None if replay is None else replay.resolve(), driver=driver),
        models=ModelSettings(),
        mqtt=MqttSettings(),
    )


def _resolved(path: Path | None) -> Path | None:
    return None if path is None else path.resolve()


def _apply_options(config: Any, args: argparse.Namespace) -> Any:
    """The configuration with every option given on the command line applied."""
    night = {
        "output": _resolved(args.output),
        "keep_nights": args.keep_nights,
        "bedtime": args.bedtime,
        "wake": args.wake,
        "up_after_min": args.up_after_min,
        "gate": args.gate,
        "history": _resolved(args.history),
    }
    if args.keep_audio is not None:
        night["keep_audio"] = args.keep_audio == "yes"
    audio = config.audio
    if args.audio_device is not None:
        audio = dataclasses.replace(audio, device=args.audio_device, file=None)
    elif args.audio_file is not None:
        audio = dataclasses.replace(audio, device=None, file=args.audio_file.resolve())
    radar: dict[str, Any] = {}
    if args.radar_replay is not None:
        radar = {"replay": args.radar_replay.resolve(), "driver": None}
    elif args.radar_driver is not None:
        radar = {"replay": None, "driver": args.radar_driver}
    models = {"audio": _resolved(args.audio_model), "sleep": _resolved(args.sleep_model)}
    mqtt = {
        "broker": args.mqtt,
        "node_id": args.mqtt_node_id,
        "username": args.mqtt_username,
        "password_file": _resolved(args.mqtt_password_file),
        "tls": args.mqtt_tls,
    }

    def changed(settings: Any, values: dict[str, Any]) -> Any:
        return dataclasses.replace(
            settings, **{key: value for key, value in values.items() if value is not None}
        )

    return dataclasses.replace(
        config,
        night=changed(config.night, night),
        audio=audio,
        radar=dataclasses.replace(config.radar, **radar),
        models=changed(config.models, models),
        mqtt=changed(config.mqtt, mqtt),
    )


def _calibrating(args: argparse.Namespace, config: Any) -> bool:
    """Whether this setup calibrates: the first time, or when asked to again."""
    asked = args.calibrate_s is not None or args.calibration_recording is not None
    return args.sleeper_range_m is None and (asked or config.radar.sleeper_range_m is None)


def _command_setup(args: argparse.Namespace) -> int:
    from sensing.rig.checks import check_ready
    from sensing.rig.config import check_config, write_config
    from sensing.rig.setup import CALIBRATION_S, calibrate_source, calibrated_radar_settings, other_bodies

    if args.list_devices:
        for line in _list_devices():
            print(line)
        return 0
    if args.sleeper_range_m is not None and (args.calibrate_s or args.calibration_recording):
        raise SensingError(
            "--sleeper-range-m sets the range by hand: give it without --calibrate-s and --calibration-recording"
        )
    config = check_config(_apply_options(_starting_config(args), args))
    if args.sleeper_range_m is not None:
        config = dataclasses.replace(
            config,
            radar=dataclasses.replace(
                config.radar,
                sleeper_range_m=args.sleeper_range_m,
                calibrated_at=datetime.datetime.now().isoformat(timespec="seconds"),
            ),
        )
    check_ready(config, calibrated=False)
    make_folder(config.path.parent)
    if not os.access(config.path.parent, os.W_OK):
        raise SensingError(
            f"{config.path}: cannot write the configuration here ({config.path.parent} is not writable)"
        )
    if _calibrating(args, config):
        seconds = args.calibrate_s or CALIBRATION_S
        print(
            f"calibrating the radar on {args.calibration_recording or config.radar.describe()}: "
            f"the sleeper lies alone in bed, still, for {seconds:g} s",
            flush=True,
        )
        calibration = calibrate_source(config, seconds, recording=args.calibration_recording)
        print(calibration.reason)
        others = other_bodies(calibration)
        if others:
            print(
                f"warning: {others} more breathing {'body' if others == 1 else 'bodies'} seen beside the sleeper: "
                "calibrate with the sleeper alone in bed, or the range may be someone else's",
                file=sys.stderr,
            )
        config = dataclasses.replace(
            config, radar=dataclasses.replace(config.radar, **calibrated_radar_settings(calibration))
        )
        check_ready(config)
    path = write_config(config)
    print(
        f"sleeper's range: {config.radar.sleeper_range_m:.2f} m (the middle of their window), stored {config.radar.calibrated_at}"
    )
    print(
        f"wrote {path}: nights from {config.night.bedtime:%H:%M} to {config.night.wake:%H:%M} into "
        f"{config.night.output}, the newest {config.night.keep_nights or 'all'} kept; "
        f"next: sensing rig run --config {path} (or sensing rig install --config {path})"
    )
    return 0


def _command_run(args: argparse.Namespace) -> int:
    from sensing.rig.config import read_config
    from sensing.rig.run import run_rig

    return run_rig(read_config(args.config), once=args.once, now=args.now)


def _command_install(args: argparse.Namespace) -> int:
    from sensing.files import write_atomically
    from sensing.rig.config import read_config
    from sensing.rig.systemd import check_system_user, default_unit_path, enable_commands, unit_text

    config = read_config(args.config)
    system = args.system_user is not None
    if system:
        check_system_user(args.system_user, config.path)
    path = (args.unit or default_unit_path(system=system)).absolute()
    if path.suffix != ".service":
        raise SensingError(f"--unit {path}: a systemd service unit's name ends in .service")
    make_folder(path.parent)
    write_atomically(path, unit_text(config.path, system_user=args.system_user))
    print(f"wrote {path}")
    print("start it now and at every boot with:")
    for command in enable_commands(path, system=system):
        print(f"  {command}")
    return 0


def _command_status(args: argparse.Namespace) -> int:
    from sensing.rig.config import read_config
    from sensing.rig.nights import night_folders
    from sensing.rig.status import healthy, read_status, status_lines

    config = read_config(args.config)
    output = config.night.output
    status = read_status(output)
    for line in status_lines(status, nights=night_folders(output)):
        print(line)
    return 0 if healthy(status) else 1


def _add_setup(commands: Any) -> None:
    setup = commands.add_parser(
        "setup",
        help="write the rig configuration and calibrate the sleeper's range once",
        description="Write (or update) the rig configuration from the options given (asking on a "
        "terminal for the output folder and the radar when the file does not exist yet), and "
        "calibrate the radar with the sleeper lying alone in bed: the range found is stored, so "
        "a partner who lies nearer on a later night cannot take the sleeper's place.",
    )
    _add_config_option(setup)
    setup.add_argument("--list-devices", action="store_true", help="list the audio input devices and stop")
    setup.add_argument("--output", type=Path, help="folder for the nights (one folder per night inside)")
    setup.add_argument(
        "--keep-nights", type=non_negative_int, help="night folders kept, newest first (0: all)"
    )
    setup.add_argument("--bedtime", type=_clock_option, help="when the night starts, local clock (HH:MM)")
    setup.add_argument("--wake", type=_clock_option, help="when the night ends at the latest (HH:MM)")
    setup.add_argument(
        "--up-after-min",
        type=positive,
        help="end the night once the sleeper, having slept, has been out of bed this long (minutes)",
    )
    setup.add_argument("--gate", choices=("in-bed", "asleep"), help="count sounds in bed or only asleep")
    setup.add_argument("--keep-audio", choices=("yes", "no"), help="keep the raw audio of each night")
    setup.add_argument(
        "--history", type=Path, help="the night history (default: the one sensing history reads)"
    )
    audio = setup.add_mutually_exclusive_group()
    audio.add_argument("--audio-device", help="the microphone: its number or part of its name")
    audio.add_argument("--audio-file", type=Path, help="a recording played in place of the microphone")
    radar = setup.add_mutually_exclusive_group()
    radar.add_argument("--radar-replay", type=Path, help="a radar recording replayed in step with the audio")
    radar.add_argument("--radar-driver", help="package.module:function returning the radar's frames")
    setup.add_argument("--audio-model", type=Path, help="the cough/snore model (.tflite)")
    setup.add_argument("--sleep-model", type=Path, help="the sleep model (.tflite)")
    calibration = setup.add_argument_group(
        "calibration",
        "the first setup calibrates; a later one keeps the stored range unless one of these is given",
    )
    calibration.add_argument(
        "--calibrate-s",
        type=at_least(MIN_SPAN_S),
        help=f"calibrate (again) on this many seconds of the radar, at least {MIN_SPAN_S:g} (default 300)",
    )
    calibration.add_argument(
        "--calibration-recording",
        type=Path,
        help="calibrate (again) on this recording, made with the sleeper alone in bed, instead of the radar",
    )
    calibration.add_argument(
        "--sleeper-range-m", type=positive, help="set the sleeper's range by hand (metres) instead"
    )
    mqtt = setup.add_argument_group("Home Assistant over MQTT")
    mqtt.add_argument("--mqtt", type=broker_option, metavar="HOST[:PORT]", help="the MQTT broker")
    mqtt.add_argument("--mqtt-node-id", type=node_id_option, help="this bedside's node id (default sensing)")
    mqtt.add_argument("--mqtt-username", help="the broker user name")
    mqtt.add_argument("--mqtt-password-file", type=Path, help="a file holding the broker password")
    mqtt.add_argument("--mqtt-tls", action="store_true", default=None, help="connect over TLS")
    setup.set_defaults(handler=_command_setup)


def add_rig_command(commands: Any) -> None:
    """Add ``rig`` and its subcommands."""
    rig = commands.add_parser(
        "rig",
        help="a bedside rig: set up once, then a night every night by itself",
        description="Set up a bedside rig once (setup), run it every night from its configuration "
        "(run, or install for systemd) and see what it is doing (status).",
    )
    actions = rig.add_subparsers(dest="rig_command", required=True, metavar="ACTION", title="actions")
    _add_setup(actions)
    run = actions.add_parser(
        "run",
        help="run nights by the configuration until stopped",
        description="Wait for bedtime, run the night (microphone, radar, audio gated by the sleep state) "
        "into OUTPUT/YYYY-MM-DD/, record it in the history, publish it over MQTT when configured, "
        "delete the oldest nights, and wait for the next bedtime. SIGTERM or Ctrl-C writes the "
        "night and stops. Exit status 1 when a night's radar was lost or its audio failed.",
    )
    _add_config_option(run)
    run.add_argument("--now", action="store_true", help="start the first night now, not at bedtime")
    run.add_argument("--once", action="store_true", help="stop after one night")
    run.set_defaults(handler=_command_run)
    install = actions.add_parser(
        "install",
        help="write a systemd unit that runs the rig",
        description="Write a systemd unit (a user unit by default, a system unit with --system-user) that "
        "runs 'sensing rig run' with Restart=on-failure, and say how to enable it.",
    )
    _add_config_option(install)
    install.add_argument("--system-user", help="write a system unit that runs as this user")
    install.add_argument("--unit", type=Path, help="where to write the unit (default: where systemd looks)")
    install.set_defaults(handler=_command_install)
    status = actions.add_parser(
        "status",
        help="what the rig is doing and when it last wrote a night",
        description="Say whether the rig is waiting, recording or stopped, the last night it wrote, and "
        "the nights kept.",
    )
    _add_config_option(status)
    status.set_defaults(handler=_command_status)
