"""Synthetic recordings made from code (numpy only): labeled clips and whole nights.

They serve the README's first commands, ``sensing demo`` and the tests; the
scripts in ``samples/`` write them to disk.
"""
