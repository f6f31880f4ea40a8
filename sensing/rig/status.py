"""What the rig is doing, in ``OUTPUT/rig-status.json``, for ``sensing rig status``.

``rig run`` rewrites the file (atomically) at every change of state: ``waiting`` for bedtime,
``recording`` a night, ``finished`` with the last night written, ``stopped`` (a signal) or
``failed`` (with the error). Its process id lets ``rig status`` tell a rig that is running
from one that was killed or lost its power while the file still says ``recording``.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

from sensing.errors import SensingError
from sensing.files import make_folder, write_atomically
from sensing.wording import duration, plural

STATUS_FILE = "rig-status.json"
STATES = ("waiting", "recording", "finished", "stopped", "failed")
RUNNING_STATES = ("waiting", "recording")


def status_path(output: Path) -> Path:
    """The status file of a rig writing into ``output``."""
    return output / STATUS_FILE


def _now() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")


def write_status(output: Path, state: str, **details: Any) -> dict[str, Any]:
    """Record ``state`` (one of :data:`STATES`) with ``details``, keeping the last night written.

    ``details`` may hold ``night`` (the folder being written), ``until`` (when waiting or
    recording ends), ``last_night`` (a finished night's folder and figures) and ``message``.
    """
    assert state in STATES, state
    previous = read_status(output) or {}
    status = {
        "state": state,
        "since": _now(),
        "pid": os.getpid(),
        "last_night": previous.get("last_night"),
        **details,
    }
    write_atomically(status_path(make_folder(output)), json.dumps(status, indent=2) + "\n")
    return status


def read_status(output: Path) -> dict[str, Any] | None:
    """The status file's contents, or None when the rig never ran here.

    Raises:
        SensingError: the file is there but damaged.
    """
    path = status_path(output)
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SensingError(f"{path}: damaged rig status ({error})") from None
    if not isinstance(status, dict) or status.get("state") not in STATES:
        raise SensingError(f"{path}: damaged rig status (no known state)")
    return status


def process_alive(pid: Any) -> bool:
    """Whether a process with this id exists (on this machine)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def healthy(status: dict[str, Any] | None) -> bool:
    """Whether the rig is as it should be: never run, running, or ended in order (not failed,
    and not gone without a word)."""
    if status is None:
        return True
    if status["state"] in RUNNING_STATES:
        return process_alive(status.get("pid"))
    return bool(status["state"] != "failed")


def _last_night_line(last: dict[str, Any]) -> str:
    snoring = "-" if last["snore_minutes"] is None else duration(60 * last["snore_minutes"])
    asleep = "-" if last["total_sleep_min"] is None else duration(60 * last["total_sleep_min"])
    return (
        f"last night written: {last['folder']} at {last['finished_at']} (ended by {last['ended_by']}): "
        f"{plural(last['coughs'], 'cough')}, snoring {snoring}, asleep {asleep}"
    )


def status_lines(status: dict[str, Any] | None, *, nights: list[Path]) -> list[str]:
    """``sensing rig status``'s words for a status (None: never ran) and the night folders kept
    (a night being recorded is not counted among them)."""
    if status is None:
        lines = ["the rig has not run here yet (sensing rig run, or sensing rig install for systemd)"]
    else:
        state, since = status["state"], str(status.get("since", "?"))
        alive = process_alive(status.get("pid"))
        if state in RUNNING_STATES and not alive:
            lines = [
                f"not running: it was {state} (since {since}) when it stopped without a word (a power cut or a kill)"
            ]
            if state == "recording" and status.get("night"):
                lines.append(f"  that night's events so far are in {status['night']}/audio/events.csv")
        elif state == "waiting":
            lines = [f"waiting for bedtime at {status.get('until')} (process {status.get('pid')})"]
        elif state == "recording":
            until = f" until {status['until']}" if status.get("until") else ""
            lines = [
                f"recording into {status.get('night')} since {since}{until} (process {status.get('pid')})"
            ]
            nights = [night for night in nights if str(night) != status.get("night")]
        else:
            message = f": {status['message']}" if status.get("message") else ""
            lines = [f"{state} at {since}{message}"]
        if status.get("last_night"):
            lines.append(_last_night_line(status["last_night"]))
    if nights:
        span = nights[0].name if len(nights) == 1 else f"{nights[0].name} to {nights[-1].name}"
        lines.append(f"{plural(len(nights), 'night')} kept: {span}")
    return lines
