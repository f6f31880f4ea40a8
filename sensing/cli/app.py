"""The ``sensing`` command line. Thin: each subcommand calls library functions.

Subcommands that train import TensorFlow lazily, so the runtime install (a
Raspberry Pi) runs ``classify`` without it and is told which extra to install
for the rest.
"""

from __future__ import annotations

import argparse
import sys

from sensing.cli.audio import (
    add_bench_command,
    add_check_sparse_command,
    add_classify_detect_demo,
)
from sensing.cli.radar import add_radar_commands, add_simulate_commands
from sensing.cli.sleep import add_night_command, add_sleep_command
from sensing.cli.training import (
    add_evaluate_command,
    add_export_command,
    add_prune_command,
    add_train_commands,
)
from sensing.errors import SensingError


def build_parser() -> argparse.ArgumentParser:
    """The ``sensing`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="sensing", description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_commands(commands)
    add_classify_detect_demo(commands)
    add_evaluate_command(commands)
    add_prune_command(commands)
    add_export_command(commands)
    add_check_sparse_command(commands)
    add_radar_commands(commands)
    add_sleep_command(commands)
    add_night_command(commands)
    add_simulate_commands(commands)
    add_bench_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, 130 for Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SensingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
