"""What ``detect``, ``sleep`` and ``night`` do with a finished night besides its folder:
``--history`` records it in the night history, ``--mqtt`` sends it to Home Assistant.

Neither can cost the night: its files are written first, and a failure of either is one
warning line on stderr that leaves the exit status as the night made it.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sensing.errors import SensingError


def broker_option(text: str) -> str:
    """An argparse type: ``HOST`` or ``HOST:PORT`` (checked here, parsed again when used)."""
    from sensing.mqtt.publisher import parse_broker

    try:
        parse_broker(text)
    except SensingError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def node_id_option(text: str) -> str:
    from sensing.mqtt.discovery import check_node_id

    try:
        return check_node_id(text)
    except SensingError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_sharing_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--history`` and the ``--mqtt`` options to a command that writes a night."""
    parser.add_argument(
        "--history",
        type=Path,
        default=None,
        metavar="PATH",
        help="also record the finished night in this night history (see sensing history)",
    )
    mqtt = parser.add_argument_group(
        "Home Assistant over MQTT (the mqtt extra)",
        "announce the night's figures as Home Assistant sensors (MQTT discovery) and publish them "
        "when the night ends; a broker that is down never stops the night",
    )
    mqtt.add_argument(
        "--mqtt", type=broker_option, default=None, metavar="HOST[:PORT]", help="the MQTT broker"
    )
    mqtt.add_argument(
        "--mqtt-node-id",
        type=node_id_option,
        default="sensing",
        help="this bedside's node id in the topics and in Home Assistant (default: sensing)",
    )
    mqtt.add_argument(
        "--mqtt-username",
        default=None,
        help="the broker user name; its password is read from the environment variable SENSING_MQTT_PASSWORD",
    )
    mqtt.add_argument(
        "--mqtt-tls", action="store_true", help="connect over TLS, checked against the system's CAs"
    )


def _publisher(args: argparse.Namespace, kind: str) -> Any:
    """The night's :class:`~sensing.mqtt.publisher.NightPublisher`, or None without ``--mqtt``."""
    if args.mqtt is None:
        for option, value in (("--mqtt-username", args.mqtt_username), ("--mqtt-tls", args.mqtt_tls)):
            if value:
                raise SensingError(f"{option} is for --mqtt: give the broker with --mqtt HOST[:PORT]")
        return None
    from sensing.mqtt.publisher import Broker, NightPublisher

    broker = Broker.at(args.mqtt, username=args.mqtt_username, tls=args.mqtt_tls)
    return NightPublisher(broker, node_id=args.mqtt_node_id, kind=kind)


@contextlib.contextmanager
def sharing(args: argparse.Namespace, kind: str) -> Iterator[Callable[[Path], None]]:
    """Around a night of ``kind`` (``detect``, ``sleep`` or ``night``): connects to the broker
    before it starts (``--mqtt``) and yields ``share(out)``, to call once the night's report is
    written in ``out``: it records the night (``--history``) and publishes it (``--mqtt``)."""
    from sensing.history.store import record_or_warn
    from sensing.mqtt.publisher import finish_or_warn

    publisher = _publisher(args, kind)

    def share(out: Path) -> None:
        if args.history is not None:
            record_or_warn(args.history, out)
        if publisher is not None:
            finish_or_warn(publisher, out)

    if publisher is None:
        yield share
    else:
        with publisher:
            yield share
