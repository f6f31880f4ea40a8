"""The ``sensing`` command line. Thin: each subcommand calls library functions.

Subcommands that train import TensorFlow lazily, so the runtime install (a
Raspberry Pi) runs ``classify`` without it and is told which extra to install
for the rest.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from sensing import __version__
from sensing.cli.audio import (
    add_bench_command,
    add_check_sparse_command,
    add_classify_detect_demo,
)
from sensing.cli.history import add_history_command
from sensing.cli.radar import add_radar_commands, add_simulate_commands
from sensing.cli.rig import add_rig_command
from sensing.cli.sleep import add_night_command, add_sleep_command
from sensing.cli.training import (
    add_evaluate_command,
    add_export_command,
    add_prune_command,
    add_train_commands,
)
from sensing.errors import SensingError
from sensing.files import WriteError, os_error_cause


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit status 2), usage left to ``--help``.

    Subcommand parsers are made from the same class, so the whole command line behaves alike.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``sensing`` argument parser with every subcommand."""
    parser = OneLineErrorParser(
        prog="sensing",
        description=(
            "Count coughs and snoring minutes and stage sleep from a bedside microphone and radar: "
            "train small models on your recordings, run them here, export them to firmware."
        ),
        epilog="sensing COMMAND --help describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"sensing {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    add_train_commands(commands)
    add_classify_detect_demo(commands)
    add_evaluate_command(commands)
    add_prune_command(commands)
    add_export_command(commands)
    add_check_sparse_command(commands)
    add_radar_commands(commands)
    add_sleep_command(commands)
    add_night_command(commands)
    add_history_command(commands)
    add_rig_command(commands)
    add_simulate_commands(commands)
    add_bench_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 on success, 2 for bad input (a :class:`SensingError` or a bad option), 1 when the
    system failed us (a full disk, a missing permission: an :class:`OSError` or a
    :class:`~sensing.files.WriteError`) or on a fault of the toolkit
    itself, 130 for Ctrl-C. Each failure is one line on stderr; ``SENSING_TRACEBACK=1``
    adds the traceback of an unexpected fault.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except WriteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SensingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{os_error_cause(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if os.environ.get("SENSING_TRACEBACK"):
            raise
        print(
            f"error: unexpected {type(error).__name__}: {error} (a fault of the toolkit: please "
            "report it with the command; SENSING_TRACEBACK=1 shows where it happened)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
