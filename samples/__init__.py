"""Generators of synthetic recordings for the README's first command and the tests."""
