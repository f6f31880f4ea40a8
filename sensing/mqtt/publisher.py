"""Send a night to an MQTT broker with paho-mqtt, without ever holding the night up.

:class:`NightPublisher` connects in paho's background thread (``connect_async`` and
``loop_start``), so a broker that is down or far away costs the night nothing: the discovery
configs published when the night starts and the night's figures published when it ends wait in
paho's offline queue (at most :data:`MAX_QUEUED` messages), and :meth:`NightPublisher.finish`
waits a bounded time (:data:`DELIVERY_WAIT_S`) for the broker to acknowledge them, then names
what it did not.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sensing.errors import SensingError
from sensing.history.nights import NightRecord, read_night
from sensing.mqtt.discovery import (
    OFFLINE,
    ONLINE,
    check_node_id,
    discovery_messages,
    event_message,
    figures_for,
    live_discovery_messages,
    live_topic,
    night_message,
)

DEFAULT_PORT, DEFAULT_TLS_PORT = 1883, 8883
DELIVERY_WAIT_S = 10.0
"""How long the end of a night waits for the broker to acknowledge its messages."""
MAX_QUEUED = 100
"""paho's offline queue: messages kept while the broker is away."""
QOS = 1
PASSWORD_VARIABLE = "SENSING_MQTT_PASSWORD"
"""The environment variable that holds the broker password (never a command-line value)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Broker:
    """Where and how to connect.

    Attributes:
        host: the broker's host name or address.
        port: its port (None: 1883, or 8883 with TLS).
        username: the user name, or None for an anonymous connection.
        password: the password (from :data:`PASSWORD_VARIABLE`), used only with a user name.
        tls: connect over TLS, checking the broker's certificate against the system's CAs.
    """

    host: str
    port: int | None = None
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def at(
        cls, address: str, *, username: str | None = None, password: str | None = None, tls: bool = False
    ) -> Broker:
        """The broker at ``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` (:func:`parse_broker`);
        ``password`` None takes :data:`PASSWORD_VARIABLE` from the environment."""
        host, port = parse_broker(address)
        if password is None:
            password = os.environ.get(PASSWORD_VARIABLE) or None
        return cls(host=host, port=port, username=username, password=password, tls=tls)

    @property
    def port_number(self) -> int:
        """The port to connect to."""
        return self.port or (DEFAULT_TLS_PORT if self.tls else DEFAULT_PORT)

    @property
    def address(self) -> str:
        """``HOST:PORT``, as a message names the broker."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port_number}"


def parse_broker(text: str) -> tuple[str, int | None]:
    """(host, port or None) from ``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT``.

    Raises:
        SensingError: naming the value and what is expected.
    """
    host, port = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    if not host or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        raise SensingError(
            f"MQTT broker {text!r}: expected HOST or HOST:PORT, for example homeassistant:1883"
        )
    return host, int(port) if port else None


def _paho() -> Any:
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise SensingError(
            "--mqtt needs paho-mqtt (the mqtt extra): pip install 'sensing[mqtt]'  "
            "(from a clone: pip install -e '.[mqtt]')"
        ) from None
    return mqtt


class NightPublisher:
    """One night's messages to one broker (a context manager: :meth:`start` on entry, the
    connection closed on exit).

    Args:
        broker: where to send them.
        node_id: the node id of the discovery topics and of ``sensing/<node_id>/night``.
        kind: the command (``detect``, ``sleep`` or ``night``): which sensors to announce.
        wait_s: how long :meth:`finish` waits for the broker's acknowledgements (None:
            :data:`DELIVERY_WAIT_S`).
        live: also announce the live entities and publish the bed state and each sound as the
            night goes (:meth:`publish_state`, :meth:`publish_event`), with the rig's
            availability (``online``; ``offline`` at the end, or from the broker when the
            connection is lost).
    """

    def __init__(
        self, broker: Broker, *, node_id: str, kind: str, wait_s: float | None = None, live: bool = False
    ) -> None:
        self.broker = broker
        self.node_id = check_node_id(node_id)
        self.kind = kind
        figures_for(kind)
        self.wait_s = DELIVERY_WAIT_S if wait_s is None else wait_s
        self._sent: dict[int, str] = {}
        self._acknowledged: set[int] = set()
        self._refused: str | None = None
        self._condition = threading.Condition()
        mqtt = _paho()
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"sensing-{node_id}-{os.getpid()}"
        )
        self._client.max_queued_messages_set(MAX_QUEUED)
        self.live = live
        if live:
            self._client.will_set(live_topic(node_id, "availability"), OFFLINE, qos=QOS, retain=True)
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            try:
                self._client.tls_set()
            except (OSError, ValueError) as error:
                raise SensingError(f"MQTT broker {broker.address}: cannot set up TLS ({error})") from None
        self._client.on_publish = self._on_publish
        self._client.on_connect = self._on_connect
        self._started = False
        self._finished = False
        self._state: str | None = None
        self.events_dropped = 0

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        with self._condition:
            self._acknowledged.add(mid)
            self._condition.notify_all()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self._refused = (
            f"the broker refused the connection: {reason_code}" if reason_code.is_failure else None
        )
        if self.live and not reason_code.is_failure and not self._finished:
            # after a lost connection the broker has published the last will: online again, and
            # the state as it is now (what was missed in between is not sent late)
            self._publish(live_topic(self.node_id, "availability"), ONLINE)
            if self._state is not None:
                self._publish(live_topic(self.node_id, "state"), self._state)

    def __enter__(self) -> NightPublisher:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        """Connect in the background and announce the sensors (retained); returns at once."""
        self._client.connect_async(self.broker.host, self.broker.port_number)
        self._client.loop_start()
        self._started = True
        for topic, payload in discovery_messages(node_id=self.node_id, kind=self.kind):
            self._publish(topic, payload)
        if self.live:
            for topic, payload in live_discovery_messages(node_id=self.node_id):
                self._publish(topic, payload)
            self._publish(live_topic(self.node_id, "availability"), ONLINE)

    def _publish(self, topic: str, payload: str, *, retain: bool = True) -> None:
        info = self._client.publish(topic, payload, qos=QOS, retain=retain)
        with self._condition:
            self._sent[info.mid] = topic

    def publish_state(self, state: str) -> None:
        """Publish the bed's state (``absent``, ``awake`` or ``asleep``; retained); returns at once.
        While the broker is away only the latest is kept, and sent when it is back."""
        self._state = state
        if self._client.is_connected():
            self._publish(live_topic(self.node_id, "state"), state)

    def publish_event(self, event: dict[str, Any], *, clock_time: str | None = None) -> None:
        """Publish one cough or snore episode (not retained: an event happens once); returns at once.
        An event while the broker is away is dropped (counted in ``events_dropped``): a cough
        shown hours late would mislead; the night's message at the end counts it."""
        if not self._client.is_connected():
            self.events_dropped += 1
            return
        self._publish(*event_message(event, node_id=self.node_id, clock_time=clock_time), retain=False)

    def finish(self, night: NightRecord) -> list[str]:
        """Publish the night's figures (retained), wait up to ``wait_s`` for every message to be
        acknowledged, close the connection; returns the topics not delivered (empty: all were)."""
        self._publish(*night_message(night, node_id=self.node_id))
        if self.live:
            self._publish(live_topic(self.node_id, "availability"), OFFLINE)
        self._finished = True
        deadline = time.monotonic() + self.wait_s
        with self._condition:
            while set(self._sent) - self._acknowledged and (left := deadline - time.monotonic()) > 0:
                self._condition.wait(left)
            undelivered = list(
                dict.fromkeys(topic for mid, topic in self._sent.items() if mid not in self._acknowledged)
            )
        self.close()
        return undelivered

    @property
    def problem(self) -> str | None:
        """Why the broker refused the connection, when it did."""
        return self._refused

    def close(self) -> None:
        """Disconnect and stop the background thread (what is still queued is dropped). A live
        night that did not :meth:`finish` says ``offline`` first (waiting a second for it)."""
        if self._started:
            self._started = False
            if self.live and not self._finished:
                info = self._client.publish(
                    live_topic(self.node_id, "availability"), OFFLINE, qos=QOS, retain=True
                )
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(timeout=1.0)
            self._client.disconnect()
            self._client.loop_stop()


def undelivered_line(broker: Broker, topics: list[str], *, wait_s: float, problem: str | None = None) -> str:
    """One line naming the messages the broker did not acknowledge in ``wait_s`` seconds."""
    configs = [topic.split("/") for topic in topics if topic.endswith("/config")]
    named = [topic for topic in topics if not topic.endswith("/config")]
    if len(configs) == 1:
        named.insert(0, "/".join(configs[0]))
    elif configs:
        keys = ",".join(parts[-2] for parts in configs)
        named.insert(0, f"{len(configs)} discovery configs {'/'.join(configs[0][:-2])}/{{{keys}}}/config")
    why = f" ({problem})" if problem else ""
    return (
        f"warning: MQTT broker {broker.address}{why}: not delivered within {wait_s:g} s: "
        f"{' and '.join(named)}; the night's files are written"
    )


def finish_or_warn(publisher: NightPublisher, folder: Path) -> None:
    """Publish the finished night in ``folder`` (:meth:`NightPublisher.finish`); what failed or
    was not delivered is one warning line on stderr."""
    try:
        undelivered = publisher.finish(read_night(folder))
    except (SensingError, OSError, ValueError, RuntimeError) as error:
        publisher.close()
        print(f"warning: MQTT broker {publisher.broker.address}: not published: {error}", file=sys.stderr)
        return
    if undelivered:
        line = undelivered_line(
            publisher.broker, undelivered, wait_s=publisher.wait_s, problem=publisher.problem
        )
        print(line, file=sys.stderr)
