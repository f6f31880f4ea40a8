"""``sensing rig run``: nights from the rig's configuration, every night, by themselves.

:func:`run_rig` waits for the bedtime window, runs the night (live microphone, or a
recording in its place; the radar replayed or from a driver; audio gated by the sleep
state, the sleeper's range the one stored at set-up) into a new ``OUTPUT/YYYY-MM-DD/``
folder, records it in the night history, publishes it over MQTT when configured,
deletes the oldest nights beyond ``keep_nights``, and waits for the next window.

A night ends at wake time, when the sleeper, having slept, has been out of bed for
``up_after_min`` minutes, when its audio or radar ends, or on SIGTERM or Ctrl-C (the night
is then written and the rig stops). What the rig survives:

- a lost microphone: the capture retries and fills the gap with silence
  (:func:`~sensing.audio.microphone.microphone_blocks`);
- a lost radar (its driver fails): the night is written with the epochs scored so far and
  the rig exits with status 1, so that systemd starts it again (``Restart=on-failure``)
  and the next start writes a new night;
- a power cut or ``kill -9``: ``audio/events.csv`` keeps every event made final (each row is
  synced at once) and the status file still says ``recording`` with a process that no longer
  exists, which ``sensing rig status`` reports; the next start writes a new folder beside it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import importlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sensing.audio.events import Event
from sensing.audio.model_file import read_metadata
from sensing.audio.night import StopOnSignal
from sensing.audio.stream import open_audio_stream
from sensing.errors import SensingError
from sensing.files import WriteError, locked_output_folder
from sensing.history.store import record_or_warn
from sensing.night.gating import GATES
from sensing.night.report_text import night_lines
from sensing.night.run import RadarSource, live_night, replay_radar
from sensing.radar.recording import EPOCH_S
from sensing.rig.checks import check_ready
from sensing.rig.config import RigConfig
from sensing.rig.nights import delete_old_nights, new_night_folder, remove_unfinished
from sensing.rig.status import write_status
from sensing.rig.window import Window, current_or_next

WAIT_STEP_S = 1.0
"""While waiting for bedtime, how often a stop request is checked, s."""
FILE_BLOCK_S = 1.0
"""Seconds per block when a recording stands in for the microphone."""


def open_audio(config: RigConfig) -> tuple[Iterator[np.ndarray], dict[str, Any]]:
    """Mono float32 blocks at the audio model's rate, and what they come from (for the report).

    Raises:
        SensingError: the recording cannot be opened, or live capture is not installed.
    """
    sr = read_metadata(config.models.audio_model()).features.sr
    if config.audio.file is not None:
        info, blocks = open_audio_stream(config.audio.file, sr=sr, block_s=FILE_BLOCK_S)
        if config.audio.replay_speed > 0:
            blocks = paced(blocks, sr=sr, speed=config.audio.replay_speed)
        return blocks, info.to_dict()
    from sensing.audio.microphone import microphone_blocks

    device = config.audio.device
    return microphone_blocks(sr=sr, device=device), {"microphone": device or "default input"}


def paced(blocks: Iterator[np.ndarray], *, sr: int, speed: float) -> Iterator[np.ndarray]:
    """Pass blocks on no faster than ``speed`` times real time (a recording standing in for a
    microphone, sped up for a bench test)."""
    started, seconds = time.monotonic(), 0.0
    for block in blocks:
        seconds += len(block) / sr
        time.sleep(max(0.0, started + seconds / speed - time.monotonic()))
        yield block


def open_radar(config: RigConfig) -> RadarSource:
    """The radar source the configuration names: a replayed recording, or its driver's.

    A driver is ``package.module:function``, called with the ``[radar]`` settings
    (:class:`~sensing.rig.config.RadarSettings`) and returning a
    :class:`~sensing.night.run.RadarSource`.

    Raises:
        SensingError: the recording cannot be read, or the driver cannot be loaded or fails.
    """
    settings = config.radar
    if settings.replay is not None:
        return replay_radar(settings.replay)
    assert settings.driver is not None
    module_name, _, function_name = settings.driver.partition(":")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise SensingError(
            f"{config.path}: radar driver {settings.driver!r} cannot be loaded ({error})"
        ) from None
    try:
        source = function(settings)
    except (SensingError, OSError) as error:
        raise SensingError(f"radar driver {settings.driver}: {error}") from None
    if not isinstance(source, RadarSource):
        raise SensingError(
            f"radar driver {settings.driver} returned {type(source).__name__}, not a RadarSource"
        )
    return dataclasses.replace(source, chunks=_driver_frames(source.chunks, settings.driver))


def _driver_frames(chunks: Iterator[np.ndarray], driver: str) -> Iterator[np.ndarray]:
    """A driver's frames, its own failures (of any kind: it is not this toolkit's code) turned
    into a :class:`SensingError` naming it, which the night treats as a lost radar."""
    try:
        yield from chunks
    except (SensingError, OSError):
        raise
    except Exception as error:
        raise SensingError(f"radar driver {driver}: {type(error).__name__}: {error}") from error


class UpAndAbout:
    """Tells when the sleeper, having slept, has been out of bed for ``after_min`` minutes.

    Fed each epoch's label as it is scored; ``after_min`` 0 never tells.
    """

    def __init__(self, after_min: float) -> None:
        self.epochs_needed = max(1, math.ceil(after_min * 60 / EPOCH_S)) if after_min > 0 else None
        self.slept = False
        self.absent_run = 0

    def epoch(self, label: str) -> None:
        self.slept = self.slept or label == "asleep"
        self.absent_run = self.absent_run + 1 if label == "absent" else 0

    @property
    def up(self) -> bool:
        return self.epochs_needed is not None and self.slept and self.absent_run >= self.epochs_needed


class LiveMessages:
    """What goes to MQTT while the night runs: the bed's state per epoch, and each cough or snore
    episode heard while the state allows it (the night's gate; the state known at the time,
    which lags the sound by about a minute and a half)."""

    def __init__(self, publisher: Any, *, gate: str, start: datetime.datetime) -> None:
        self.publisher, self.allowed, self.start = publisher, GATES[gate], start
        self.state: str | None = None

    def epoch(self, label: str) -> None:
        if label != self.state:
            self.publisher.publish_state(label)
        self.state = label

    def event(self, event: Event) -> None:
        if self.state in self.allowed:
            clock = self.start + datetime.timedelta(seconds=event.start_s)
            self.publisher.publish_event(event.to_dict(), clock_time=clock.isoformat(timespec="seconds"))


def _publisher(config: RigConfig) -> Any:
    """The night's live :class:`~sensing.mqtt.publisher.NightPublisher`, or None without a broker."""
    mqtt = config.mqtt
    if mqtt.broker is None:
        return None
    from sensing.mqtt.publisher import Broker, NightPublisher

    password = None  # None: the environment's, as for the other commands
    if mqtt.password_file is not None:
        try:
            password = mqtt.password_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise SensingError(f"{config.path}: [mqtt] password_file: cannot read it ({error})") from None
    broker = Broker.at(mqtt.broker, username=mqtt.username, password=password, tls=mqtt.tls)
    return NightPublisher(broker, node_id=mqtt.node_id, kind="night", live=True)


@dataclasses.dataclass(frozen=True)
class NightOutcome:
    """How one night went: its folder, its report, and why it ended."""

    folder: Path
    report: dict[str, Any]
    ended_by: str

    @property
    def failed(self) -> bool:
        """The audio failed or the radar was lost: systemd should start the rig again."""
        return bool(self.report.get("radar_lost")) or (self.report.get("audio_stopped_by") or "").startswith(
            "error"
        )


def run_night(
    config: RigConfig,
    *,
    until: datetime.datetime | None,
    stop: StopOnSignal,
    clock: Callable[[], datetime.datetime],
) -> NightOutcome:
    """Run one night into a new folder; returns how it went (the folder holds the night).

    Raises:
        SensingError: the sources or models cannot be opened, or the radar gave less than one epoch.
        WriteError: the night cannot be written.
    """
    check_ready(config)
    centre_m = config.radar.sleeper_range_m
    assert centre_m is not None
    output = config.night.output
    publisher = _publisher(config)
    blocks, source = open_audio(config)
    radar = open_radar(config)
    start = clock()
    folder = new_night_folder(output, start)
    write_status(output, "recording", night=str(folder), until=None if until is None else until.isoformat())
    up = UpAndAbout(config.night.up_after_min)
    live = None if publisher is None else LiveMessages(publisher, gate=config.night.gate, start=start)
    reasons: list[str] = []

    def stop_requested() -> bool:
        if stop.requested:
            reasons.append("a stop request")
        elif until is not None and clock() >= until:
            reasons.append("wake time")
        elif up.up:
            reasons.append("out of bed")
        return bool(reasons)

    def on_epoch(label: str) -> None:
        up.epoch(label)
        if live is not None:
            live.epoch(label)

    if publisher is not None:
        publisher.start()
    try:
        report = live_night(
            blocks,
            radar,
            out_dir=folder,
            centre_m=centre_m,
            audio_model=config.models.audio_model(),
            sleep_model=config.models.sleep_model(),
            gate=config.night.gate,
            source=source,
            stop_requested=stop_requested,
            on_epoch=on_epoch,
            on_event=None if live is None else live.event,
            save_audio=config.night.keep_audio,
        )
    except BaseException as error:
        if publisher is not None:
            publisher.close()
        if not isinstance(error, KeyboardInterrupt):  # stopped at once: keep the events so far
            remove_unfinished(folder)
        raise
    record_or_warn(config.night.history_path, folder)
    if publisher is not None:
        from sensing.mqtt.publisher import finish_or_warn

        finish_or_warn(publisher, folder)
    ended_by = reasons[0] if reasons else ("radar lost" if report.get("radar_lost") else "end of input")
    return NightOutcome(folder=folder, report=report, ended_by=ended_by)


def _wait_for(moment: datetime.datetime, stop: StopOnSignal, clock: Callable[[], datetime.datetime]) -> bool:
    """Sleep until ``moment``; False when a stop was requested first."""
    while clock() < moment:
        if stop.requested:
            return False
        time.sleep(min(WAIT_STEP_S, max(0.0, (moment - clock()).total_seconds())))
    return not stop.requested


def _last_night(outcome: NightOutcome) -> dict[str, Any]:
    combined, sleep = outcome.report["combined"], outcome.report["sleep"]
    return {
        "folder": str(outcome.folder),
        "finished_at": datetime.datetime.now().isoformat(timespec="seconds"),
        "ended_by": outcome.ended_by,
        "coughs": combined["coughs"],
        "snore_minutes": round(combined["snore_minutes_asleep"], 1),
        "total_sleep_min": sleep.get("total_sleep_min"),
    }


def run_rig(
    config: RigConfig,
    *,
    once: bool = False,
    now: bool = False,
    clock: Callable[[], datetime.datetime] = datetime.datetime.now,
    stream: Any = None,
) -> int:
    """Run nights by the configuration until stopped; returns the exit status.

    Args:
        config: the rig's configuration.
        once: stop after one night.
        now: start the first night at once; outside the bedtime window it ends at bedtime,
            when tonight's night starts.
        clock: the local clock.
        stream: where progress lines go (default stdout).

    Returns 0 after a stop request or ``once``; 1 when a night's audio failed or its radar
    was lost (the night is written). Errors that stop the rig are raised, after the status
    file says ``failed``.
    """
    out = stream or sys.stdout
    output = config.night.output
    not_before = clock()
    with contextlib.ExitStack() as hold:
        try:
            hold.enter_context(locked_output_folder(output))
        except WriteError:
            raise
        except SensingError:
            raise SensingError(
                f"{output}: another sensing rig is running into this folder (sensing rig status says what it does)"
            ) from None
        stop = hold.enter_context(
            StopOnSignal("stopping: a night being recorded is written first (again to stop at once)")
        )
        while True:
            window: Window = current_or_next(
                max(clock(), not_before), config.night.bedtime, config.night.wake
            )
            if not (now or window.holds(clock())):
                write_status(output, "waiting", until=window.start.isoformat())
                print(f"waiting for bedtime at {window.start:%Y-%m-%d %H:%M}", file=out, flush=True)
                if not _wait_for(window.start, stop, clock):
                    write_status(output, "stopped", message="stopped while waiting for bedtime")
                    return 0
            now = False
            started = clock()
            # a night started early (--now) ends at bedtime, and tonight's follows
            until = window.end if window.holds(started) else window.start
            print(f"night started; it ends by {until:%Y-%m-%d %H:%M}", file=out, flush=True)
            try:
                outcome = run_night(config, until=until, stop=stop, clock=clock)
            except KeyboardInterrupt:
                write_status(output, "stopped", message="interrupted: the night was not written")
                raise
            except BaseException as error:
                write_status(output, "failed", message=str(error) or type(error).__name__)
                raise
            for line in night_lines(outcome.report):
                print(line, file=out)
            print(f"night written in {outcome.folder} (ended by {outcome.ended_by})", file=out, flush=True)
            for old in delete_old_nights(output, config.night.keep_nights):
                print(f"deleted the old night {old}", file=out)
            last = _last_night(outcome)
            if outcome.failed:
                why = outcome.report.get("radar_lost") or outcome.report.get("audio_stopped_by")
                write_status(output, "failed", last_night=last, message=why)
                return 1
            if stop.requested or once:
                write_status(output, "stopped" if stop.requested else "finished", last_night=last)
                return 0
            write_status(output, "finished", last_night=last)
            not_before = until  # the next night starts at the next bedtime
