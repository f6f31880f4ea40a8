"""The rig's configuration file: a TOML file that ``sensing rig setup`` writes and ``rig run`` reads.

One file holds everything a bedside rig needs to run a night by itself::

    [night]
    output = "/home/pi/nights"   # one folder per night: OUTPUT/YYYY-MM-DD/
    keep_nights = 30             # older night folders are deleted, oldest first (0: keep all)
    bedtime = "22:00"            # the night runs from bedtime to wake time (local clock) ...
    wake = "08:00"
    up_after_min = 30            # ... or ends once the sleeper, having slept, is out of bed this long
    gate = "in-bed"              # count coughs and snoring in bed (in-bed) or only asleep (asleep)
    keep_audio = false           # keep the night's raw audio as audio/audio.wav
    history = ""                 # the night history ("": the one sensing history reads by default)

    [audio]
    device = ""                  # the microphone: a device number or part of its name ("": default)
    file = ""                    # or a recording played in its place (a bench test) ...
    replay_speed = 0.0           # ... at this many times real time (0: as fast as it is read)

    [radar]
    replay = "/home/pi/radar.npz"   # a radar recording replayed in step with the audio, or
    driver = ""                  # "package.module:function" returning a sensing.night.run.RadarSource
    sleeper_range_m = 1.05       # found by sensing rig setup with the sleeper alone in bed
    calibrated_at = "2026-12-06T21:40:12"

    [models]
    audio = ""                   # a .tflite file ("": the bundled model)
    sleep = ""

    [mqtt]
    broker = ""                  # HOST[:PORT] ("": no MQTT)
    node_id = "sensing"
    username = ""
    password_file = ""           # a file holding the password (never the password itself)
    tls = false

Relative paths are taken from the configuration file's folder (and written back absolute). Python 3.11's ``tomllib``
reads it (``tomli`` on 3.10); :func:`write_config` writes it atomically, readable only by its
owner, since it may name a password file.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

from sensing.errors import SensingError
from sensing.files import make_folder, write_atomically
from sensing.history.store import default_history_path
from sensing.mqtt.discovery import check_node_id
from sensing.mqtt.publisher import parse_broker
from sensing.night.gating import GATES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/sensing/rig.toml`` (``~/.config/sensing/rig.toml``): where the rig
    commands look when no ``--config`` is given."""
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "sensing" / "rig.toml"


@dataclasses.dataclass(frozen=True, kw_only=True)
class NightSettings:
    """When and where the rig records (the ``[night]`` table)."""

    output: Path
    keep_nights: int = 30
    bedtime: datetime.time = datetime.time(22, 0)
    wake: datetime.time = datetime.time(8, 0)
    up_after_min: float = 30.0
    gate: str = "in-bed"
    keep_audio: bool = False
    history: Path | None = None

    @property
    def history_path(self) -> Path:
        """The night history the rig records into (by default the one ``sensing history`` reads)."""
        return self.history if self.history is not None else default_history_path()


@dataclasses.dataclass(frozen=True, kw_only=True)
class AudioSettings:
    """The microphone, or a recording in its place (the ``[audio]`` table)."""

    device: str | None = None
    file: Path | None = None
    replay_speed: float = 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class RadarSettings:
    """The radar and the sleeper's calibrated range (the ``[radar]`` table)."""

    replay: Path | None = None
    driver: str | None = None
    sleeper_range_m: float | None = None
    calibrated_at: str | None = None

    def describe(self) -> str:
        """The radar source in words."""
        return f"driver {self.driver}" if self.driver else f"replay of {self.replay}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelSettings:
    """The models (None: the bundled ones)."""

    audio: Path | None = None
    sleep: Path | None = None

    def audio_model(self) -> Path:
        """The cough/snore model the rig runs."""
        from sensing.audio.night import default_model_path

        return self.audio or default_model_path()

    def sleep_model(self) -> Path:
        """The sleep model the rig runs."""
        from sensing.radar.sleep.model import default_sleep_model

        return self.sleep or default_sleep_model()


@dataclasses.dataclass(frozen=True, kw_only=True)
class MqttSettings:
    """Home Assistant over MQTT (the ``[mqtt]`` table; no broker: off)."""

    broker: str | None = None
    node_id: str = "sensing"
    username: str | None = None
    password_file: Path | None = None
    tls: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class RigConfig:
    """A whole rig configuration, as read from its file (``path``)."""

    path: Path
    night: NightSettings
    audio: AudioSettings
    radar: RadarSettings
    models: ModelSettings
    mqtt: MqttSettings


_TABLES: dict[str, type] = {
    "night": NightSettings,
    "audio": AudioSettings,
    "radar": RadarSettings,
    "models": ModelSettings,
    "mqtt": MqttSettings,
}


def _problem(path: Path, where: str, message: str) -> SensingError:
    return SensingError(f"{path}: {where}: {message}")


def _clock(path: Path, where: str, value: Any) -> datetime.time:
    try:
        return datetime.time.fromisoformat(value)
    except (TypeError, ValueError):
        raise _problem(path, where, f'expected a clock time such as "22:30", got {value!r}') from None


def _value(path: Path, table: str, name: str, value: Any, kind: Any) -> Any:
    """One setting checked against its field's type; "" means unset for optional text and paths."""
    where = f"[{table}] {name}"
    text = str(kind)
    if value == "" and "None" in text:
        return None
    if text.startswith(("Path", "str")):
        if not isinstance(value, str):
            raise _problem(path, where, f"expected text in quotes, got {value!r}")
        if text.startswith("Path"):
            resolved = Path(os.path.expanduser(value))
            return resolved if resolved.is_absolute() else path.parent / resolved
        return value
    if text == "bool":
        if not isinstance(value, bool):
            raise _problem(path, where, f"expected true or false, got {value!r}")
        return value
    if text == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _problem(path, where, f"expected a whole number >= 0, got {value!r}")
        return value
    if text.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise _problem(path, where, f"expected a number >= 0, got {value!r}")
        return float(value)
    if text == "datetime.time":
        return _clock(path, where, value)
    raise AssertionError(f"no reader for {text}")  # pragma: no cover - a field type without a reader


def _table(path: Path, name: str, values: Any) -> Any:
    settings = _TABLES[name]
    if not isinstance(values, dict):
        raise _problem(path, f"[{name}]", "expected a table")
    fields = {field.name: field for field in dataclasses.fields(settings)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise _problem(path, f"[{name}] {unknown[0]}", f"unknown setting (known: {', '.join(fields)})")
    checked = {key: _value(path, name, key, value, fields[key].type) for key, value in values.items()}
    try:
        return settings(**checked)
    except TypeError:
        missing = [
            key for key, field in fields.items() if key not in values and field.default is dataclasses.MISSING
        ]
        raise _problem(path, f"[{name}] {missing[0]}", "missing") from None


def check_config(config: RigConfig) -> RigConfig:
    """``config`` when its settings fit together.

    Raises:
        SensingError: naming the setting that does not fit.
    """
    path = config.path
    if config.night.gate not in GATES:
        raise _problem(path, "[night] gate", f"expected one of {', '.join(GATES)}, got {config.night.gate!r}")
    if config.night.bedtime == config.night.wake:
        raise _problem(path, "[night] wake", "the same as bedtime: the night would have no length")
    if (config.radar.replay is None) == (config.radar.driver is None):
        raise _problem(path, "[radar]", "give either replay (a recording) or driver (module:function)")
    if config.radar.driver is not None and ":" not in config.radar.driver:
        raise _problem(
            path, "[radar] driver", f"expected package.module:function, got {config.radar.driver!r}"
        )
    if config.audio.device is not None and config.audio.file is not None:
        raise _problem(path, "[audio]", "give device or file, not both")
    for setting, check in (("broker", parse_broker), ("node_id", check_node_id)):
        value = getattr(config.mqtt, setting)
        if value is not None:
            try:
                check(value)
            except SensingError as error:
                raise _problem(path, f"[mqtt] {setting}", str(error)) from None
    return config


def read_config(path: str | Path) -> RigConfig:
    """Read and check a rig configuration.

    Raises:
        SensingError: the file is missing or unreadable, is not TOML, or holds an unknown, missing
            or ill-typed setting (named with its table).
    """
    path = Path(path).absolute()
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SensingError(f"{path}: no rig configuration here (sensing rig setup writes one)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SensingError(f"{path}: cannot read the rig configuration ({error})") from None
    except tomllib.TOMLDecodeError as error:
        raise SensingError(f"{path}: not a valid TOML file ({error})") from None
    unknown = sorted(set(values) - set(_TABLES))
    if unknown:
        raise _problem(path, f"[{unknown[0]}]", f"unknown table (known: {', '.join(_TABLES)})")
    if "night" not in values:
        raise _problem(path, "[night]", "missing (it names the output folder)")
    tables = {name: _table(path, name, values.get(name, {})) for name in _TABLES}
    return check_config(RigConfig(path=path.resolve(), **tables))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime.time):
        return json.dumps(value.strftime("%H:%M"))
    return json.dumps("" if value is None else str(value))  # JSON's string escapes are TOML's


def config_text(config: RigConfig) -> str:
    """The configuration as TOML text (every setting written, unset ones as "")."""
    lines = ["# sensing rig configuration: written by sensing rig setup; edit freely", ""]
    for name, settings in _TABLES.items():
        lines.append(f"[{name}]")
        for field in dataclasses.fields(settings):
            lines.append(f"{field.name} = {_toml_value(getattr(getattr(config, name), field.name))}")
        lines.append("")
    return "\n".join(lines)


def write_config(config: RigConfig) -> Path:
    """Write ``config`` to ``config.path`` whole (readable and writable by its owner only)."""
    make_folder(config.path.parent)
    path = write_atomically(config.path, config_text(config))
    path.chmod(0o600)
    return path
