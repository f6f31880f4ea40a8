"""The ``sensing`` command line: one module per command group, each calling library functions."""

from sensing.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
