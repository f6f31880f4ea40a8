"""The training commands' options and help read the same way everywhere, and TensorFlow's own
output stays off the terminal unless ``--verbose``."""

from __future__ import annotations

import argparse
import os

import pytest
from conftest import run_main

from sensing.cli.app import build_parser

COMMANDS = [("train", "audio"), ("train", "radar"), ("prune",), ("evaluate",), ("export", "firmware")]
"""The commands of :mod:`sensing.cli.training`."""


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise KeyError(name)


def _parser(*names: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in names:
        parser = _subparser(parser, name)
    return parser


def _help(*names: str) -> str:
    return " ".join(run_main([*names, "--help"]).stdout.split())


@pytest.mark.parametrize("names", [*COMMANDS, ("train",), ("export",)], ids=" ".join)
def test_every_training_command_has_a_description_and_checked_numbers(names):
    parser = _parser(*names)
    assert parser.description, f"sensing {' '.join(names)} has no description"
    plain = [action.dest for action in parser._actions if action.type in (int, float)]
    assert not plain, f"options without a checked type: {plain}"


@pytest.mark.parametrize("names", COMMANDS, ids=" ".join)
def test_every_training_command_can_show_tensorflows_output(names):
    assert "--verbose show TensorFlow's own log lines" in _help(*names)


def test_train_help_says_what_is_required_and_what_a_pass_is():
    audio, radar = _help("train", "audio"), _help("train", "radar")
    assert "usage: sensing train audio [-h] (--data DATA | --resume) --out OUT" in audio
    assert "(--data DATA | --simulate N | --resume) --out OUT" in radar
    assert "--cache" not in radar and "windows" not in radar
    assert "--batch-size 30 s sleep epochs per step" in radar
    assert "training passes over the training nights" in radar
    assert "a checkpoint is written after every training pass" in audio


def test_model_is_the_model_to_use_and_run_the_run_to_continue_from():
    assert "--run RUN the finished training run folder to continue from" in _help("prune")
    evaluate = _help("evaluate")
    assert "--run RUN the finished training run folder to evaluate" in evaluate
    assert "--model MODEL the model to measure: a .tflite file or a training run folder" in evaluate
    firmware = _help("export", "firmware")
    assert "--model MODEL the int8 model to export" in firmware
    assert "a .tflite file or a training run folder (default: the bundled microcontroller model)" in firmware


def test_native_output_is_kept_unless_verbose_or_failing(capfd, monkeypatch):
    from training.tf_output import VERBOSE_VARIABLE, captured_native_stderr

    monkeypatch.delenv(VERBOSE_VARIABLE, raising=False)
    with captured_native_stderr():
        os.write(2, b"E0000 a C++ line\n")
    assert capfd.readouterr().err == ""
    with pytest.raises(RuntimeError), captured_native_stderr():
        os.write(2, b"E0000 why it failed\n")
        raise RuntimeError("conversion failed")
    assert capfd.readouterr().err == "E0000 why it failed\n"
    monkeypatch.setenv(VERBOSE_VARIABLE, "1")
    with captured_native_stderr():
        os.write(2, b"I0000 shown\n")
    assert capfd.readouterr().err == "I0000 shown\n"
