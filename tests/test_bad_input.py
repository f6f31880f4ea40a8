"""Every command meets bad input and faults with one readable line, never a traceback.

Three layers, so that a new command or option cannot bring a traceback back unnoticed:
- the parser itself: every numeric option of every command refuses ``nan`` and ``inf``
  (found by walking the parser, not listed by hand), and every command has a description;
- a table of malformed inputs (audio files, radar archives, Acconeer files, manifests,
  models, resume folders) run through the commands that read them;
- faults: a full disk under every command that writes, and a second run into a busy folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import assert_one_line_error, run_main

from sensing import __version__
from sensing.cli import build_parser
from sensing.files import LOCK_FILE, locked_output_folder


def subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (command words, parser) pair below ``parser``, leaves and groups alike."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from subcommands(child, (*path, name))


COMMANDS = list(subcommands(build_parser()))

NUMERIC_OPTIONS = [
    (words, action.option_strings[-1])
    for words, parser in COMMANDS
    for action in parser._actions
    if action.option_strings and getattr(action.type, "__module__", "") == "sensing.cli.options"
]


def test_the_walk_finds_the_commands_and_their_numeric_options():
    names = {" ".join(words) for words, _ in COMMANDS}
    assert {"detect", "sleep", "night", "radar breathing", "train audio", "export firmware"} <= names
    assert len(NUMERIC_OPTIONS) > 30


def test_no_option_takes_a_bare_float_or_int():
    bare = [
        f"sensing {' '.join(words)} {action.option_strings}"
        for words, parser in COMMANDS
        for action in parser._actions
        if action.type in (float, int)
    ]
    assert bare == [], "use the checked types of sensing.cli.options (they refuse nan and inf)"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "ten"])
@pytest.mark.parametrize(("words", "option"), NUMERIC_OPTIONS, ids=lambda item: str(item))
def test_numeric_options_refuse_values_that_are_not_finite_numbers(words, option, value):
    result = run_main([*words, f"{option}={value}"])
    line = assert_one_line_error(result, status=2)
    assert option in line


def test_every_command_says_what_it_does():
    undescribed = [" ".join(words) for words, parser in COMMANDS if not parser.description]
    assert undescribed == []


def test_version():
    result = run_main(["--version"])
    assert result.returncode == 0
    assert result.stdout.strip() == f"sensing {__version__}"


def test_a_missing_command_is_one_line():
    assert "COMMAND" in assert_one_line_error(run_main([]), status=2)


# Malformed inputs, one class at a time ---------------------------------------------------------


def _wav(path: Path, seconds: float = 3.0, sr: int = 16000, channels: int = 1) -> Path:
    """A quiet noise recording, ``channels`` channels at ``sr`` Hz."""
    noise = np.random.default_rng(0).normal(0, 0.01, (int(seconds * sr), channels)).astype(np.float32)
    soundfile.write(path, noise, sr)
    return path


def _cut_wav(path: Path) -> Path:
    """A WAV whose data is cut short of what its header declares (``head -c``)."""
    whole = _wav(path.with_name("whole.wav"), seconds=2.0)
    path.write_bytes(whole.read_bytes()[:38348])
    return path


def _radar_archive(path: Path, fault: str) -> Path:
    from test_radar_damaged_archives import ARCHIVES

    ARCHIVES[fault][0](path)
    return path


def _a121(path: Path, damage: str) -> Path:
    import h5py
    from test_radar_readers import A121_DAMAGE, _a121_frames, _subsweep, _write_a121

    _write_a121(path, _a121_frames(12, 21, target_point=8), [_subsweep(119, 21)])
    with h5py.File(path, "r+") as file:
        A121_DAMAGE[damage][0](file)
    return path


def _manifest(path: Path, clips: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    """A manifest of ``rows`` (``path,label,group``) over the generated clips in ``clips``."""
    path.write_bytes("\n".join(["path,label,group", *rows]).encode(encoding) + b"\n")
    for row in rows:
        clip = clips / row.split(",")[0]
        if clip.exists():
            (path.parent / clip.parent.name).mkdir(exist_ok=True)
            (path.parent / row.split(",")[0]).write_bytes(clip.read_bytes())
    return path


def _clips(clips: Path, label: str, count: int) -> list[str]:
    """``count`` rows of ``label`` from the generated clip set, in different groups."""
    rows = [line for line in (clips / "manifest.csv").read_text().splitlines()[1:] if f",{label}," in line]
    return [",".join(row.split(",")[:3]) for row in rows[:count]]


def _run_copy(run: Path, folder: Path) -> Path:
    copy = folder / "run"
    shutil.copytree(run, copy)
    return copy


def _truncate(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _good_manifest(clips: Path) -> list[str]:
    """Every row of the generated clip set (enough clips and groups to train on)."""
    return _clips(clips, "cough", 99) + _clips(clips, "snore", 99) + _clips(clips, "other", 99)


BAD_INPUTS: dict[str, tuple[Callable[..., list[str]], int, str]] = {
    # audio files: cut, empty, corrupt, odd rates and channels
    "audio empty": (lambda f, i: ["detect", str(_empty(f / "e.wav")), "--out", str(f / "o")], 2, "an empty file, 0 bytes"),
    "audio random bytes": (lambda f, i: ["detect", str(_bytes(f / "r.wav", np.random.default_rng(0).bytes(5000))), "--out", str(f / "o")], 2, "cannot read audio (Format not recognised)"),
    "audio text": (lambda f, i: ["detect", str(_bytes(f / "notes.wav", b"not audio\n" * 50)), "--out", str(f / "o")], 2, "cannot read audio (Format not recognised)"),
    "audio no samples": (lambda f, i: ["detect", str(_wav(f / "z.wav", seconds=0)), "--out", str(f / "o")], 2, "empty audio (0 samples)"),
    "audio rate 4 kHz": (lambda f, i: ["detect", str(_wav(f / "p.wav", sr=4000)), "--out", str(f / "o")], 2, "sample rate 4000 Hz; at least 8000 Hz expected"),
    "audio cut short": (lambda f, i: ["detect", str(_cut_wav(f / "cut.wav")), "--out", str(f / "o")], 0, "cut short"),
    "audio 6 channels at 44.1 kHz": (lambda f, i: ["detect", str(_wav(f / "six.wav", sr=44100, channels=6)), "--out", str(f / "o")], 0, ""),
    # radar archives
    "radar pickled config": (lambda f, i: ["sleep", str(_radar_archive(f / "p.npz", "pickled config dict")), "--out", str(f / "o")], 2, "config is a pickled Python object"),
    "radar damaged config": (lambda f, i: ["radar", "calibrate", str(_radar_archive(f / "d.npz", "damaged config bytes"))], 2, "damaged archive"),
    "radar truncated": (lambda f, i: ["radar", "breathing", str(_radar_archive(f / "t.npz", "truncated"))], 2, "not an .npz archive"),
    "radar config not JSON": (lambda f, i: ["radar", "view", str(_radar_archive(f / "j.npz", "config bad JSON")), "--out", str(f / "o")], 2, "config is not valid JSON"),
    "radar in night": (lambda f, i: ["night", "--audio", str(i["wav"]), "--radar", str(_radar_archive(f / "n.npz", "not a zip")), "--out", str(f / "o")], 2, "not an .npz archive"),
    # Acconeer files
    "acconeer sensor_id text": (lambda f, i: ["radar", "convert", str(_a121(f / "a.h5", "sensor_id as text")), "--out", str(f / "a.npz")], 2, "sensor_id must be an integer"),
    "acconeer subsweeps integer": (lambda f, i: ["radar", "convert", str(_a121(f / "a.h5", "subsweeps an integer")), "--out", str(f / "a.npz")], 2, "'subsweeps' must be a non-empty list"),
    "acconeer frame_rate text": (lambda f, i: ["sleep", str(_a121(f / "a.h5", "frame_rate as text")), "--out", str(f / "o")], 2, "'frame_rate' must be a positive number"),
    # manifests
    "manifest duplicate rows": (lambda f, i: ["train", "audio", "--data", str(_manifest(f / "m.csv", i["clips"], _good_manifest(i["clips"]) * 2)), "--out", str(f / "run")], 2, "listed more than once"),
    "manifest not UTF-8": (lambda f, i: ["train", "audio", "--data", str(_manifest(f / "m.csv", i["clips"], ["tos\xf8,cough,a"], "latin-1")), "--out", str(f / "run")], 2, "not a readable UTF-8 CSV file"),
    "manifest missing clip": (lambda f, i: ["train", "audio", "--data", str(_manifest(f / "m.csv", i["clips"], [*_good_manifest(i["clips"]), "cough/gone.wav,cough,a"])), "--out", str(f / "run"), "--strict"], 2, "gone.wav: file not found"),
    "folder without label folders": (lambda f, i: ["train", "audio", "--data", str(_folder(f / "clips")), "--out", str(f / "run")], 2, "no label subfolders"),
    # models
    "model folder without one": (lambda f, i: ["detect", str(i["wav"]), "--model", str(f), "--out", str(f / "o")], 2, "is a folder without model.tflite"),
    "model not a model": (lambda f, i: ["detect", str(i["wav"]), "--model", str(_bytes(f / "m.tflite", b"not a model")), "--out", str(f / "o")], 2, "m.tflite"),
    "sleep model not a model": (lambda f, i: ["sleep", str(i["npz"]), "--model", str(_bytes(f / "m.tflite", b"\0" * 64)), "--out", str(f / "o")], 2, "m.tflite"),
    "firmware model not a model": (lambda f, i: ["export", "firmware", "--model", str(_bytes(f / "m.tflite", b"nope")), "--out", str(f / "fw")], 2, "m.tflite"),
    "prune damaged model.keras": (lambda f, i: ["prune", "--run", str(_damaged_keras(f, i["run"])), "--out", str(f / "pruned")], 2, "model.keras: damaged"),
    # resume folders
    "resume not a run": (lambda f, i: ["train", "audio", "--out", str(f), "--resume"], 2, "config.json: not found"),
    "resume config cut short": (lambda f, i: ["train", "audio", "--out", str(_truncate(_run_copy(i["run"], f) / "config.json").parent), "--resume"], 2, "not valid JSON"),
    "resume state damaged": (lambda f, i: ["train", "audio", "--out", str(_damaged_state(f, i["run"])), "--resume"], 2, "state.json: damaged"),
}  # fmt: skip


def _bytes(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


def _empty(path: Path) -> Path:
    return _bytes(path, b"")


def _damaged_keras(folder: Path, run: Path) -> Path:
    copy = _run_copy(run, folder)
    _truncate(copy / "model.keras")
    return copy


def _damaged_state(folder: Path, run: Path) -> Path:
    copy = _run_copy(run, folder)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "status": "running"}))
    for name in ("state.json", "state.previous.json"):
        _truncate(copy / "checkpoints" / name)
    return copy


@pytest.fixture(scope="module")
def bad_input_sources(night_inputs, clip_set, trained_run) -> dict[str, Path]:
    return {**night_inputs, "clips": clip_set.parent, "run": trained_run}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_malformed_input_is_one_line_or_a_correct_result(case, bad_input_sources, tmp_path):
    make_argv, status, fragment = BAD_INPUTS[case]
    result = run_main(make_argv(tmp_path, bad_input_sources))
    assert "Traceback" not in result.stderr, result.stderr
    if status == 0:
        assert result.returncode == 0, result.stderr
        warnings = [
            line for line in result.stdout.splitlines() + result.stderr.splitlines() if "warning" in line
        ]
        assert all(fragment in line for line in warnings) and (warnings or not fragment), result.stdout
    else:
        assert fragment in assert_one_line_error(result, status)


# Faults: a full disk and a busy output folder ------------------------------------------------


@pytest.fixture(scope="module")
def night_inputs(tmp_path_factory) -> dict[str, Path]:
    """A 2-minute generated night: its audio (WAV), a radar recording of the same length (NPZ)
    and a small Acconeer A121 file (HDF5), written on a disk with room to spare."""
    from test_radar_readers import _a121_frames, _subsweep, _write_a121

    from sensing.synthetic.night import make_night

    folder = tmp_path_factory.mktemp("night-inputs")
    wav, _ = make_night(folder / "night.wav", duration_s=120, seed=1)
    simulated = run_main(["simulate", "radar", "--out", str(folder), "--hours", "0.034", "--seed", "1"])
    assert simulated.returncode == 0, simulated.stderr
    a121 = _write_a121(folder / "a121.h5", _a121_frames(1000, 40, 8), [_subsweep(60, 40)])
    return {"wav": wav, "npz": folder / "night_000.npz", "h5": a121}


WRITING_COMMANDS = {
    "detect": lambda inputs, out: ["detect", str(inputs["wav"]), "--out", str(out)],
    "detect --save-audio": lambda inputs, out: [
        "detect", str(inputs["wav"]), "--out", str(out), "--save-audio"
    ],
    "sleep": lambda inputs, out: ["sleep", str(inputs["npz"]), "--out", str(out)],
    "night": lambda inputs, out: [
        "night", "--audio", str(inputs["wav"]), "--radar", str(inputs["npz"]), "--out", str(out)
    ],
    "demo": lambda inputs, out: ["demo", "--minutes", "1", "--out", str(out)],
    "simulate radar": lambda inputs, out: ["simulate", "radar", "--hours", "0.034", "--out", str(out)],
    "radar convert": lambda inputs, out: ["radar", "convert", str(inputs["h5"]), "--out", str(out / "a.npz")],
    "radar view": lambda inputs, out: ["radar", "view", str(inputs["npz"]), "--out", str(out)],
    "export firmware": lambda inputs, out: ["export", "firmware", "--out", str(out / "firmware")],
}  # fmt: skip


def assert_every_file_is_whole(folder: Path) -> None:
    """Every file under ``folder`` opens as what its suffix says; no temporary file is left."""
    for path in folder.rglob("*"):
        if path.is_dir() or path.name == LOCK_FILE:
            continue
        assert ".partial" not in path.name, f"temporary file left behind: {path}"
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".csv":
            rows = list(csv.reader(path.read_text().splitlines()))
            assert rows and all(len(row) == len(rows[0]) for row in rows), path
        elif path.suffix == ".png":
            data = path.read_bytes()
            assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), path
        elif path.suffix == ".npz":
            with np.load(path) as archive:
                for name in archive.files:
                    archive[name]
        elif path.suffix == ".wav":
            soundfile.read(path)


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_a_full_disk_is_one_line_and_leaves_no_damaged_file(command, night_inputs, full_disk):
    result = run_main(WRITING_COMMANDS[command](night_inputs, full_disk))
    line = assert_one_line_error(result, status=1)
    assert "no space left" in line
    assert_every_file_is_whole(full_disk)


@pytest.mark.parametrize("command", ["detect", "sleep", "night", "demo"])
def test_a_second_run_into_a_busy_folder_is_refused(command, night_inputs, tmp_path):
    (tmp_path / "report.json").write_text('{"from": "the run in progress"}')
    with locked_output_folder(tmp_path):
        result = run_main(WRITING_COMMANDS[command](night_inputs, tmp_path))
    assert "in use by another sensing run" in assert_one_line_error(result, status=2)
    assert json.loads((tmp_path / "report.json").read_text()) == {"from": "the run in progress"}
