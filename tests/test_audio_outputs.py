"""What ``sensing detect`` and ``sensing demo`` leave on disk when the disk fills, when a second
run shares the folder, and when a run is killed: complete files or none, never two runs mixed."""

import csv
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile
from conftest import assert_one_line_error, run_main

from sensing.audio.detect import EventLog
from sensing.audio.events import Event
from sensing.audio.wav_length import wav_length_warning
from sensing.audio.wav_recorder import WavRecorder
from sensing.files import WriteError
from sensing.synthetic.night import make_night


@pytest.fixture(scope="module")
def short_night(tmp_path_factory):
    """A generated two-minute night with two coughs and a snore episode."""
    wav, _ = make_night(tmp_path_factory.mktemp("night") / "night.wav", duration_s=120, seed=3)
    return wav


def _left(folder) -> dict[str, int]:
    """The files in ``folder`` (hidden ones too, but not the lock) and their sizes."""
    return {p.name: p.stat().st_size for p in folder.iterdir() if p.name != ".sensing.lock"}


def _complete_rows(path) -> list[list[str]]:
    """The rows of a CSV file, checking that it ends with a whole line."""
    text = path.read_text()
    assert text.endswith("\n"), f"{path} ends in the middle of a line: {text[-40:]!r}"
    return list(csv.reader(text.splitlines()))


def test_the_event_log_is_cut_back_to_its_last_whole_row_when_the_disk_fills(full_disk):
    log = EventLog(full_disk / "events.csv")
    with pytest.raises(WriteError, match=r"events.csv: no space left on the device"):
        for index in range(100_000):
            log.append(Event("cough", index * 1.5, index * 1.5 + 0.3, 0.97))
    log.close()
    rows = _complete_rows(full_disk / "events.csv")
    assert rows[0] == ["label", "start_s", "end_s", "score"] and len(rows) > 10
    assert all(len(row) == 4 for row in rows)


def test_saved_audio_on_a_full_disk_stays_a_valid_shorter_recording(full_disk):
    path = full_disk / "audio.wav"
    recorder = WavRecorder(path, sr=16000)
    block = (0.1 * np.sin(np.arange(1600) / 3)).astype(np.float32)  # 0.1 s
    with pytest.raises(
        WriteError, match=r"audio.wav: no space left .* \(it keeps the first [\d.]+ s of audio\)"
    ):
        for _ in range(10_000):
            recorder.write(block)
    recorder.close()
    kept, sr = soundfile.read(path, dtype="float32")
    assert sr == 16000 and kept.size == round(recorder.seconds * 16000) > 0
    assert kept.size % block.size == 0, "only whole blocks are kept"
    assert wav_length_warning(path) is None


def test_save_audio_that_cannot_start_is_removed_and_no_old_report_remains(full_disk, short_night):
    (full_disk / "report.json").write_text('{"cough_count": 99}\n')  # an earlier run's
    result = run_main(["detect", str(short_night), "--out", str(full_disk), "--save-audio"])
    line = assert_one_line_error(result)
    assert "audio.wav: no space left on the device" in line and "the partial file was removed" in line
    assert sorted(_left(full_disk)) == ["events.csv"]
    assert _complete_rows(full_disk / "events.csv") == [["label", "start_s", "end_s", "score"]]


def test_the_demo_refuses_at_once_without_room_for_its_night(full_disk):
    result = run_main(["demo", "--out", str(full_disk), "--minutes", "1"])
    line = assert_one_line_error(result)
    assert "no space left for it (it needs about 4 MB, 0 MB are free)" in line
    assert _left(full_disk) == {}


def test_a_run_killed_mid_night_leaves_its_own_rows_and_no_old_report(tmp_path):
    wav, _ = make_night(tmp_path / "night.wav", duration_s=600, seed=3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text(json.dumps({"cough_count": 99}))  # an earlier run's
    process = subprocess.Popen(
        [sys.executable, "-m", "sensing", "detect", str(wav), "--out", str(out), "--save-audio"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    events = out / "events.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if events.exists() and len(events.read_text().splitlines()) >= 3:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (out / "report.json").exists()
    assert len(_complete_rows(events)) >= 3
    kept, sr = soundfile.read(out / "audio.wav", dtype="float32")
    assert sr == 16000 and kept.size > 0
