"""The audio commands' options: one ``--model`` (a file, a run folder, or the bundled model),
numbers checked, every command described; and classify reading a long file block by block."""

import argparse
import json
import shutil
import tracemalloc

import numpy as np
import pytest
import soundfile
from conftest import assert_one_line_error, run_main

from sensing.audio.classifier import AudioClassifier
from sensing.audio.features import frame_count, window_starts
from sensing.audio.night import DEFAULT_MODEL
from sensing.cli.app import build_parser
from sensing.synthetic import sounds as synth

AUDIO_COMMANDS = ("classify", "detect", "demo", "bench", "check-sparse")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A training run's folder as ``sensing train audio`` leaves it, holding the bundled model."""
    folder = tmp_path_factory.mktemp("run")
    shutil.copy(DEFAULT_MODEL, folder / "model.tflite")
    return folder


@pytest.fixture(scope="module")
def cough_wav(tmp_path_factory):
    rng = np.random.default_rng(0)
    cough = synth.peak_normalise(
        synth.cough(rng, speaker=synth.random_speaker(rng), n_coughs=1), level_dbfs=-12
    )
    clip = synth.place(cough, duration_s=2.0, start_s=0.6) + 0.003 * synth.noise(
        rng, duration_s=2.0, color="pink"
    )
    path = tmp_path_factory.mktemp("clip") / "cough.wav"
    soundfile.write(path, clip, 16000)
    return path


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices)


@pytest.mark.parametrize("model", ["bundled", "file", "folder"])
def test_classify_takes_the_bundled_model_a_file_or_a_run_folder(capsys, cough_wav, run_folder, model):
    extra = {"bundled": [], "file": ["--model", str(DEFAULT_MODEL)], "folder": ["--model", str(run_folder)]}
    result = run_main(["classify", str(cough_wav), "--jsonl", *extra[model]])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["label"] == "cough"


def test_detect_and_check_sparse_take_a_run_folder(tmp_path, cough_wav, run_folder):
    result = run_main(["detect", str(cough_wav), "--out", str(tmp_path / "out"), "--model", str(run_folder)])
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["model"]["path"] == str(run_folder / "model.tflite")
    result = run_main(["check-sparse", str(run_folder), "--json"])
    assert result.returncode in (0, 1) and "sparse_ready" in json.loads(result.stdout)


def test_bench_takes_run_folders_and_files_side_by_side(run_folder):
    result = run_main(
        ["bench", "--model", str(run_folder), "--model", str(DEFAULT_MODEL), "--seconds", "5", "--json"]
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["model"] for row in rows] == [str(run_folder / "model.tflite"), str(DEFAULT_MODEL)]


def test_a_folder_without_a_model_is_named(tmp_path, cough_wav):
    result = run_main(["classify", str(cough_wav), "--model", str(tmp_path)])
    assert f"{tmp_path} is a folder without model.tflite" in assert_one_line_error(result, 2)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["demo", "--minutes", "nan"], "argument --minutes: must be a finite number, got nan"),
        (["demo", "--minutes", "0.5"], "argument --minutes: must be at least 1, got 0.5"),
        (["demo", "--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
        (["classify", "x.wav", "--threads", "0"], "argument --threads: must be at least 1, got 0"),
        (["bench", "--seconds", "inf"], "argument --seconds: must be a finite number, got inf"),
        (
            ["detect", "x.wav", "--out", "o", "--start-time", "late"],
            "argument --start-time: must be a clock time",
        ),
    ],
)
def test_bad_numbers_are_refused_in_one_line(argv, fragment):
    result = run_main(argv)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_a_threshold_that_is_not_a_number_is_refused(tmp_path, cough_wav):
    result = run_main(["detect", str(cough_wav), "--out", str(tmp_path), "--threshold", "cough=nan"])
    assert "expected LABEL=PROBABILITY" in assert_one_line_error(result, 2)


def test_classify_reads_a_long_file_block_by_block(tmp_path):
    """Five minutes of audio: the whole file as float32 would be 19 MB, its model inputs 28 MB."""
    path = tmp_path / "five_minutes.wav"
    minute = (0.05 * np.random.default_rng(1).standard_normal(60 * 16000)).astype(np.float32)
    with soundfile.SoundFile(path, "w", samplerate=16000, channels=1, subtype="PCM_16") as sound:
        for _ in range(5):
            sound.write(minute)
    classifier = AudioClassifier(DEFAULT_MODEL)
    tracemalloc.start()
    try:
        result = classifier.classify_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.duration_s == pytest.approx(300)
    settings = classifier.metadata.features
    windows = window_starts(frame_count(300 * 16000, settings), settings)  # as for the whole clip
    assert result.window_probabilities.shape == (len(windows), 3)
    assert peak < 6e6, f"peak {peak / 1e6:.1f} MB"
