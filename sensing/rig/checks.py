"""Whether a rig configuration can run a night, checked before anything is recorded.

``sensing rig setup`` checks before it asks the sleeper to lie still for minutes, and
``rig run`` before it makes the night's folder, so a configuration that cannot work is one
line naming the setting, not an empty night folder every time systemd starts the rig again.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sensing.audio.model_file import read_metadata
from sensing.audio.stream import open_audio_stream
from sensing.errors import SensingError
from sensing.files import make_folder
from sensing.radar.recording import Recording
from sensing.radar.sleep.model import read_sleep_metadata
from sensing.rig.config import RigConfig


def _writable_folder(config: RigConfig, setting: str, folder: Path) -> None:
    try:
        make_folder(folder)
    except SensingError as error:
        raise SensingError(f"{config.path}: {setting}: {error}") from None
    if not os.access(folder, os.W_OK):
        raise SensingError(f"{config.path}: {setting}: {folder} is not writable")


def _radar_range_m(config: RigConfig) -> tuple[float, float] | None:
    """The replayed recording's range span, m (None for a driver, which is checked by name only)."""
    radar = config.radar
    if radar.driver is not None:
        module, _, function = radar.driver.partition(":")
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found or not function:
            raise SensingError(
                f"{config.path}: [radar] driver: no module {module!r} to import (is it installed?)"
            )
        return None
    assert radar.replay is not None
    try:
        with Recording(radar.replay) as recording:
            ranges = recording.config.range_m(recording.n_bins)
    except SensingError as error:
        raise SensingError(f"{config.path}: [radar] replay: {error}") from None
    return float(ranges[0]), float(ranges[-1])


def check_ready(config: RigConfig, *, calibrated: bool = True) -> None:
    """Check every source, model and folder the configuration names (nothing is recorded).

    Args:
        config: the rig's configuration.
        calibrated: also require the sleeper's range (and that it lies within the radar's reach).

    Raises:
        SensingError: naming the configuration file, the setting and what is wrong with it.
    """
    _writable_folder(config, "[night] output", config.night.output)
    _writable_folder(config, "[night] history", config.night.history_path.parent)
    for setting, read, path in (
        ("[models] audio", read_metadata, config.models.audio_model()),
        ("[models] sleep", read_sleep_metadata, config.models.sleep_model()),
    ):
        try:
            read(path)
        except SensingError as error:
            raise SensingError(f"{config.path}: {setting}: {error}") from None
    sr = read_metadata(config.models.audio_model()).features.sr
    if config.audio.file is not None:
        try:
            open_audio_stream(config.audio.file, sr=sr)
        except SensingError as error:
            raise SensingError(f"{config.path}: [audio] file: {error}") from None
    else:
        from sensing.audio.microphone import microphone_blocks

        # raises at once when live capture is not installed; the device is opened only when read
        microphone_blocks(sr=sr, device=config.audio.device)
    span = _radar_range_m(config)
    if config.mqtt.password_file is not None and not os.access(config.mqtt.password_file, os.R_OK):
        raise SensingError(f"{config.path}: [mqtt] password_file: cannot read {config.mqtt.password_file}")
    range_m = config.radar.sleeper_range_m
    if calibrated and range_m is None:
        raise SensingError(f"{config.path}: no sleeper range: run sensing rig setup to calibrate the radar")
    if range_m is not None and span is not None and not span[0] <= range_m <= span[1]:
        raise SensingError(
            f"{config.path}: [radar] sleeper_range_m: {range_m:g} m lies outside the radar's "
            f"{span[0]:.2f}-{span[1]:.2f} m"
        )
