"""The exported package built with TensorFlow Lite Micro on the host: its device loop hears a
night as ``sensing detect`` does, and its model gives the golden int8 outputs byte for byte.

Builds with the package's own ``Makefile`` against ``../shared/vendor/tflite-micro`` (or
``SENSING_TFLM_DIR``), which it only reads; skipped, with the reason, where either the tree or
a C++ toolchain is missing. The Cortex-M4 builds take longer and run under QEMU:
``benchmarks/firmware_cortex_m4.py``.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import REPO_ROOT, run_main

from sensing.bundled import COUGH_SNORE_MICRO
from sensing.synthetic.night import make_night

TFLM_DIR = Path(os.environ.get("SENSING_TFLM_DIR", REPO_ROOT.parent / "shared" / "vendor" / "tflite-micro"))
NAME = "cough_snore"
HOP_S = 0.48

pytestmark = [
    pytest.mark.skipif(
        not (TFLM_DIR / "tensorflow" / "lite" / "micro").is_dir(),
        reason=f"no TensorFlow Lite Micro source tree at {TFLM_DIR} (set SENSING_TFLM_DIR)",
    ),
    pytest.mark.skipif(
        not (shutil.which("make") and shutil.which("g++") and shutil.which("gcc")),
        reason="building the firmware needs make, gcc and g++",
    ),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The bundled microcontroller model's package, built for the host (``make host``)."""
    package = tmp_path_factory.mktemp("firmware") / "package"
    exported = run_main(["export", "firmware", "--out", str(package)])
    assert exported.returncode == 0, exported.stderr
    made = subprocess.run(
        ["make", "-C", str(package), "-j2", f"TFLM_DIR={TFLM_DIR}", "host"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    return package


def _events(path: Path) -> list[tuple[str, float, float]]:
    with open(path, newline="") as handle:
        return [(row["label"], float(row["start_s"]), float(row["end_s"])) for row in csv.DictReader(handle)]


def _night(built: Path, wav: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(built / "build" / "host" / f"{NAME}_night"), str(wav)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_model_gives_the_golden_outputs_byte_for_byte(built):
    checked = subprocess.run(
        ["make", "-s", "-C", str(built), f"TFLM_DIR={TFLM_DIR}", "check-host"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert len(lines) == 3 and all("0 output bytes differ" in line for line in lines), lines


def test_a_night_gives_the_events_sensing_detect_gives(built, tmp_path):
    wav, _ = make_night(tmp_path / "night.wav", duration_s=600, seed=3)
    device = _night(built, wav)
    assert device.returncode == 0, device.stderr
    (tmp_path / "device.csv").write_text(device.stdout)
    detected = run_main(
        ["detect", str(wav), "--model", str(COUGH_SNORE_MICRO), "--out", str(tmp_path / "py")]
    )
    assert detected.returncode == 0, detected.stderr
    ours, reference = _events(tmp_path / "device.csv"), _events(tmp_path / "py" / "events.csv")
    assert len(ours) == len(reference) >= 5
    for (label, start, end), (label_py, start_py, end_py) in zip(ours, reference):
        assert label == label_py
        assert abs(start - start_py) <= HOP_S and abs(end - end_py) <= HOP_S
    coughs = sum(label == "cough" for label, _, _ in ours)
    assert f"600.0 s of audio: {coughs} coughs" in device.stderr


def test_raw_pcm_on_stdin_is_the_same_night(built, tmp_path):
    wav, _ = make_night(tmp_path / "night.wav", duration_s=60, seed=3)
    audio, _ = soundfile.read(wav, dtype="int16")
    from_file = _night(built, wav)
    from_stdin = subprocess.run(
        [str(built / "build" / "host" / f"{NAME}_night"), "-"],
        input=audio.astype("<i2").tobytes(),
        capture_output=True,
        timeout=300,
    )
    assert from_file.returncode == from_stdin.returncode == 0
    assert from_stdin.stdout.decode() == from_file.stdout


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda path: soundfile.write(path, np.zeros(4410, np.int16), 44100), "44100 Hz, 1-channel, 16-bit"),
        (lambda path: path.write_bytes(b"not a wav file at all"), "not a WAV file"),
    ],
    ids=["44.1 kHz", "not a WAV"],
)
def test_audio_it_cannot_take_is_one_line(built, tmp_path, write, message):
    path = tmp_path / "input.wav"
    write(path)
    result = _night(built, path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: {message}"), lines
