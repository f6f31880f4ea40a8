"""Home Assistant MQTT discovery for a night: the sensors, their topics and the night's message.

Pure functions, no network: :func:`discovery_messages` gives each sensor's retained config
(``homeassistant/sensor/<node_id>/<key>/config``) and :func:`night_message` the night's
figures as one JSON object on ``sensing/<node_id>/night``, which every sensor reads with
``{{ value_json.<key> }}``.

A live night (the rig) adds two entities that follow the night as it happens:
:func:`live_discovery_messages` announces ``Bed`` (a sensor whose state, ``absent``,
``awake`` or ``asleep``, is published retained on ``sensing/<node_id>/state`` as each 30 s
epoch is scored) and ``Sound`` (an event entity: each cough or snore episode as
``{"event_type": "cough", ...}`` on ``sensing/<node_id>/event``). Both are available only
while the rig runs (``online`` or ``offline`` on ``sensing/<node_id>/availability``, the
broker publishing ``offline`` itself when the rig's connection is lost).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from sensing import __version__
from sensing.errors import SensingError
from sensing.history.nights import NightRecord

DISCOVERY_PREFIX = "homeassistant"
"""Home Assistant's default discovery prefix."""

NODE_ID = re.compile(r"[A-Za-z0-9_-]+")
"""What Home Assistant accepts as a discovery node id (and what keeps a topic one level)."""

KINDS = ("detect", "sleep", "night")
"""The commands whose nights are published (:attr:`NightRecord.kind`)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Figure:
    """One sensor: a figure of :class:`~sensing.history.nights.NightRecord`.

    Attributes:
        key: the record's attribute, the key in the night's message and the discovery object id.
        name: the sensor's name in Home Assistant.
        unit: its unit of measurement.
        kinds: the commands that measure it.
        scale: the record's value is multiplied by this (a fraction shown in %).
        device_class: Home Assistant's device class, or None.
    """

    key: str
    name: str
    unit: str
    kinds: tuple[str, ...]
    scale: float = 1.0
    device_class: str | None = None


AUDIO, SLEEP, ALL = ("detect", "night"), ("sleep", "night"), KINDS
FIGURES = (
    Figure(key="coughs", name="Coughs", unit="coughs", kinds=AUDIO),
    Figure(key="coughs_per_hour_asleep", name="Coughs per hour asleep", unit="coughs/h", kinds=("night",)),
    Figure(key="snore_minutes", name="Snoring", unit="min", kinds=AUDIO, device_class="duration"),
    Figure(key="snore_episodes", name="Snore episodes", unit="episodes", kinds=AUDIO),
    Figure(key="time_in_bed_min", name="Time in bed", unit="min", kinds=SLEEP, device_class="duration"),
    Figure(key="total_sleep_min", name="Total sleep", unit="min", kinds=SLEEP, device_class="duration"),
    Figure(key="sleep_efficiency", name="Sleep efficiency", unit="%", kinds=SLEEP, scale=100.0),
    Figure(key="duration_min", name="Recording", unit="min", kinds=ALL, device_class="duration"),
)
"""Every sensor a night can have; a command publishes those whose ``kinds`` hold it."""


def check_node_id(node_id: str) -> str:
    """``node_id`` when Home Assistant accepts it as a discovery node id.

    Raises:
        SensingError: naming the value and what is expected.
    """
    if not NODE_ID.fullmatch(node_id):
        raise SensingError(
            f"MQTT node id {node_id!r}: expected letters, digits, '_' and '-' only, for example bedroom"
        )
    return node_id


def figures_for(kind: str) -> tuple[Figure, ...]:
    """The sensors of a night of ``kind`` (``detect``, ``sleep`` or ``night``)."""
    if kind not in KINDS:
        raise SensingError(f"night kind {kind!r}: expected one of {', '.join(KINDS)}")
    return tuple(figure for figure in FIGURES if kind in figure.kinds)


def state_topic(node_id: str) -> str:
    """The topic of the night's figures."""
    return f"sensing/{node_id}/night"


def config_topic(node_id: str, figure: Figure) -> str:
    """The retained discovery topic of one sensor."""
    return f"{DISCOVERY_PREFIX}/sensor/{node_id}/{figure.key}/config"


def discovery_messages(*, node_id: str, kind: str) -> list[tuple[str, str]]:
    """(topic, JSON payload) of each sensor's discovery config for a night of ``kind``."""
    device = _device(node_id, kind)
    messages = []
    for figure in figures_for(kind):
        config: dict[str, Any] = {
            "name": figure.name,
            "unique_id": f"{node_id}_{figure.key}",
            "state_topic": state_topic(node_id),
            "value_template": f"{{{{ value_json.{figure.key} }}}}",
            "unit_of_measurement": figure.unit,
            "state_class": "measurement",
            "device": device,
        }
        if figure.device_class is not None:
            config["device_class"] = figure.device_class
        messages.append((config_topic(node_id, figure), json.dumps(config)))
    return messages


BED_STATES = ("absent", "awake", "asleep")
"""The live bed sensor's states (the sleep epochs' labels)."""
EVENT_TYPES = ("cough", "snore")
"""The live sound events' types (the audio events' labels)."""
ONLINE, OFFLINE = "online", "offline"


def live_topic(node_id: str, name: str) -> str:
    """``sensing/<node_id>/<name>``: ``state``, ``event`` or ``availability``."""
    return f"sensing/{node_id}/{name}"


def _device(node_id: str, kind: str) -> dict[str, Any]:
    return {
        "identifiers": [node_id],
        "name": node_id,
        "manufacturer": "sensing",
        "model": f"sensing {kind}",
        "sw_version": __version__,
    }


def live_discovery_messages(*, node_id: str) -> list[tuple[str, str]]:
    """(topic, JSON payload) of the live bed-state sensor's and sound event entity's configs."""
    availability = {"availability_topic": live_topic(node_id, "availability")}
    bed = {
        "name": "Bed",
        "unique_id": f"{node_id}_bed_state",
        "state_topic": live_topic(node_id, "state"),
        "device_class": "enum",
        "options": list(BED_STATES),
        "device": _device(node_id, "night"),
        **availability,
    }
    sound = {
        "name": "Sound",
        "unique_id": f"{node_id}_sound",
        "state_topic": live_topic(node_id, "event"),
        "event_types": list(EVENT_TYPES),
        "device": _device(node_id, "night"),
        **availability,
    }
    return [
        (f"{DISCOVERY_PREFIX}/sensor/{node_id}/bed_state/config", json.dumps(bed)),
        (f"{DISCOVERY_PREFIX}/event/{node_id}/sound/config", json.dumps(sound)),
    ]


def event_message(event: dict[str, Any], *, node_id: str, clock_time: str | None) -> tuple[str, str]:
    """(topic, JSON payload) of one cough or snore episode: its type, start and end in seconds
    from the night's start, score, and its clock time when known."""
    payload = {
        "event_type": event["label"],
        "start_s": round(float(event["start_s"]), 2),
        "end_s": round(float(event["end_s"]), 2),
        "score": round(float(event["score"]), 3),
        "time": clock_time,
    }
    return live_topic(node_id, "event"), json.dumps(payload)


def night_values(night: NightRecord) -> dict[str, Any]:
    """The night's figures by key (the sensors of its kind; None where the night has none), with
    its date, start and kind."""
    values: dict[str, Any] = {
        "night_of": night.night_of.isoformat(),
        "start_time": night.start_time,
        "kind": night.kind,
    }
    for figure in figures_for(night.kind):
        value = getattr(night, figure.key)
        if value is not None and figure.scale != 1.0:
            value = round(value * figure.scale, 1)
        elif isinstance(value, float):
            value = round(value, 2)
        values[figure.key] = value
    return values


def night_message(night: NightRecord, *, node_id: str) -> tuple[str, str]:
    """(topic, JSON payload) of the night's figures, published under ``node_id``."""
    return state_topic(node_id), json.dumps(night_values(night))
