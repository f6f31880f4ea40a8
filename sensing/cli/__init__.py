"""The ``sensing`` command line: one module per command group, each calling library functions."""
