"""``sensing rig install``: a systemd unit that keeps ``sensing rig run`` going across nights and reboots.

A user unit (``~/.config/systemd/user/sensing-rig.service``; with ``loginctl enable-linger``
it runs without anyone logged in) or a system unit (``/etc/systemd/system``, run as a named
user). ``Restart=on-failure`` starts the rig again after a lost radar or a crash (exit status 1),
not after bad input such as a broken configuration (exit status 2);
``systemctl stop`` sends SIGTERM, on which the rig writes the night and exits.
"""

from __future__ import annotations

import os
import pwd
import stat
import sys
from pathlib import Path

from sensing.errors import SensingError

UNIT_NAME = "sensing-rig.service"


def _quoted(argument: str) -> str:
    """One ExecStart argument, quoted as systemd reads it (``%`` and ``$`` doubled: they start a
    specifier and a variable)."""
    argument = argument.replace("%", "%%").replace("$", "$$")
    if argument and not any(character in argument for character in " \t\"'\\;$"):
        return argument
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(config_path: Path, *, system_user: str | None = None, python: str | None = None) -> str:
    """The unit's text: runs ``python -m sensing rig run --config CONFIG``.

    Args:
        config_path: the rig configuration (made absolute).
        system_user: for a system unit, the user to run as; None for a user unit.
        python: the interpreter (default: the one running now, so the unit finds this install).
    """
    command = [
        python or sys.executable,
        "-m",
        "sensing",
        "rig",
        "run",
        "--config",
        str(config_path.resolve()),
    ]
    lines = ["[Unit]", "Description=sensing bedside rig: coughs, snoring and sleep every night"]
    if system_user is not None:  # a user manager cannot see the system's targets
        lines += ["Wants=network-online.target", "After=network-online.target sound.target"]
    lines += [
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={' '.join(_quoted(argument) for argument in command)}",
        "Restart=on-failure",
        "RestartSec=30",
        "RestartPreventExitStatus=2",  # a bad configuration: starting again would not help
        "KillSignal=SIGTERM",
        "TimeoutStopSec=120",
        "Environment=PYTHONUNBUFFERED=1",
    ]
    if system_user is not None:
        lines.append(f"User={system_user}")
    lines += ["", "[Install]", f"WantedBy={'multi-user.target' if system_user else 'default.target'}", ""]
    return "\n".join(lines)


def default_unit_path(*, system: bool) -> Path:
    """Where systemd looks for the unit."""
    if system:
        return Path("/etc/systemd/system") / UNIT_NAME
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "systemd" / "user" / UNIT_NAME


def enable_commands(unit: Path, *, system: bool) -> list[str]:
    """The commands that start the unit at ``unit`` now and at every boot (linked first when it
    lies outside the folder systemd looks in)."""
    systemctl = "sudo systemctl" if system else "systemctl --user"
    commands = [f"{systemctl} daemon-reload"]
    if unit.parent != default_unit_path(system=system).parent:
        commands.insert(0, f"{systemctl} link {unit}")
    commands.append(f"{systemctl} enable --now {unit.name}")
    if not system:
        commands.append("sudo loginctl enable-linger $USER    # run without anyone logged in")
    return commands


def check_system_user(user: str, config_path: Path) -> None:
    """Check that ``user`` exists here and can read the configuration a system unit runs with.

    Raises:
        SensingError: naming the user and what to do.
    """
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise SensingError(f"--system-user {user}: no such user on this machine") from None
    info = config_path.stat()
    if entry.pw_uid != 0 and info.st_uid != entry.pw_uid and not info.st_mode & stat.S_IROTH:
        raise SensingError(
            f"--system-user {user}: cannot read {config_path} (it is readable by its owner only): "
            f"sudo chown {user} {config_path}"
        )
