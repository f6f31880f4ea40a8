"""Audio cut short, damaged, empty, not audio at all, or at an odd rate or channel count, through
``sensing classify`` and ``sensing detect``: a correct result (with a warning where the answer
covers less than the file promised) or one clear line."""

import json
import struct

import numpy as np
import pytest
import soundfile

from sensing.audio.stream import StreamingResampler
from sensing.cli import main
from sensing.synthetic import sounds as synth


def _cough_clip(seconds: float = 2.0, sr: int = 16000) -> np.ndarray:
    """A cough 0.6 s in, over quiet pink noise; the bundled model calls it a cough at any rate."""
    rng = np.random.default_rng(0)
    cough = synth.peak_normalise(
        synth.cough(rng, speaker=synth.random_speaker(rng), n_coughs=1), level_dbfs=-12
    )
    clip = synth.place(cough, duration_s=seconds, start_s=0.6) + 0.003 * synth.noise(
        rng, duration_s=seconds, color="pink"
    )
    if sr == 16000:
        return clip
    resampler = StreamingResampler(orig_sr=16000, target_sr=sr)
    return np.concatenate([resampler.process(clip), resampler.flush()])


def _classify(capsys, path) -> tuple[int, list[dict], str]:
    status = main(["classify", str(path), "--jsonl"])
    out, err = capsys.readouterr()
    return status, [json.loads(line) for line in out.splitlines()], err


def _detect(capsys, path, out) -> tuple[int, str, str]:
    status = main(["detect", str(path), "--out", str(out)])
    printed, err = capsys.readouterr()
    return status, printed, err


def _error_lines(err: str) -> list[str]:
    """stderr without the interpreter's informational lines."""
    return [line for line in err.splitlines() if not line.startswith("INFO:")]


@pytest.fixture
def cut_wav(tmp_path):
    """A 6 s WAV cut after 38348 bytes (1.2 s), as ``head -c 38348 clip.wav > cut.wav`` leaves it."""
    whole = tmp_path / "clip.wav"
    soundfile.write(whole, _cough_clip(6.0), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:38348])
    return cut


def test_classify_says_a_wav_is_cut_short(capsys, cut_wav):
    status, rows, err = _classify(capsys, cut_wav)
    assert status == 0
    message = "cut.wav: cut short: the header declares 6.0 s of audio but the file holds 1.2 s"
    assert message in rows[0]["warnings"][0]
    assert f"warning: {cut_wav.parent}/{message}" in err
    assert rows[0]["duration_s"] == pytest.approx(1.2, abs=0.01)


def test_detect_says_a_wav_is_cut_short(capsys, cut_wav, tmp_path):
    status, printed, err = _detect(capsys, cut_wav, tmp_path / "out")
    assert status == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "cut short" in report["input_warnings"][0]
    assert "warning:" in err and "cut short" in err
    assert "cut short" in printed


def _with_data_size(tmp_path, declared: int):
    """A 2 s WAV whose header declares ``declared`` bytes of samples (a recorder that never closed it)."""
    path = tmp_path / "unclosed.wav"
    soundfile.write(path, _cough_clip(), 16000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[at : at + 4] = struct.pack("<I", declared)
    path.write_bytes(bytes(data))
    return path


def test_a_header_that_declares_no_audio_is_refused_with_the_fix(capsys, tmp_path):
    path = _with_data_size(tmp_path, 0)
    status, _, err = _detect(capsys, path, tmp_path / "out")
    assert status == 2
    (line,) = _error_lines(err)
    assert line.startswith("error: ") and "declares no audio but 2.0 s follow it" in line
    assert "sox --ignore-length" in line
    status, rows, err = _classify(capsys, path)
    assert status == 1 and rows == [] and "declares no audio" in err


def test_a_header_shorter_than_its_audio_warns(capsys, tmp_path):
    path = _with_data_size(tmp_path, 16000)  # 0.5 s of the 2 s
    status, rows, _ = _classify(capsys, path)
    assert status == 0
    assert "declares 0.5 s of audio but 2.0 s follow it" in rows[0]["warnings"][0]


def _write_bad(tmp_path, name: str, content: bytes | None = None, *, sr: int = 16000):
    path = tmp_path / name
    if content is None:
        soundfile.write(path, _cough_clip(sr=sr) if sr else np.zeros(0, np.float32), sr or 16000)
    else:
        path.write_bytes(content)
    return path


BAD_FILES = [
    ("empty.wav", b"", "cannot read audio (an empty file, 0 bytes)"),
    ("random.wav", np.random.default_rng(0).bytes(5000), "cannot read audio (Format not recognised)"),
    ("notes.wav", b"not audio at all\n" * 50, "cannot read audio (Format not recognised)"),
    ("README.md", b"# a readme\n", "cannot read audio (Format not recognised)"),
    ("no_samples.wav", None, "empty audio (0 samples)"),
]


@pytest.mark.parametrize("name, content, message", BAD_FILES, ids=[row[0] for row in BAD_FILES])
def test_unreadable_files_give_one_line(capsys, tmp_path, name, content, message):
    path = _write_bad(tmp_path, name, content, sr=0 if content is None else 16000)
    status, _, err = _detect(capsys, path, tmp_path / "out")
    assert status == 2
    assert _error_lines(err) == [f"error: {path}: {message}"]
    status, rows, err = _classify(capsys, path)
    assert status == 1 and rows == []
    assert f"skipped {path}: {message}" in err


def test_a_rate_too_low_for_any_model_is_refused(capsys, tmp_path):
    path = tmp_path / "phone.wav"
    soundfile.write(path, np.zeros(4000, np.float32) + 0.1, 4000)
    status, _, err = _detect(capsys, path, tmp_path / "out")
    assert status == 2
    assert _error_lines(err) == [
        f"error: {path}: sample rate 4000 Hz; at least 8000 Hz expected (the model listens to 16000 Hz audio)"
    ]


@pytest.mark.parametrize("sr, channels", [(8000, 1), (44100, 1), (96000, 1), (16000, 2), (44100, 6)], ids=str)
def test_any_rate_and_channel_count_is_classified_and_detected(capsys, tmp_path, sr, channels):
    path = tmp_path / f"cough_{sr}_{channels}.wav"
    soundfile.write(path, np.repeat(_cough_clip(sr=sr)[:, None], channels, axis=1), sr)
    status, rows, _ = _classify(capsys, path)
    assert status == 0 and rows[0]["label"] == "cough"
    assert rows[0]["duration_s"] == pytest.approx(2.0, abs=0.01)
    low_rate = [w for w in rows[0]["warnings"] if "holds nothing above 4000 Hz" in w]
    assert len(low_rate) == (sr == 8000)
    status, _, _ = _detect(capsys, path, tmp_path / "out")
    assert status == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["source"]["source_sr"], report["source"]["source_channels"]) == (sr, channels)
    assert report["duration_s"] == pytest.approx(2.0, abs=0.01)


def test_a_flac_cut_short_ends_the_night_with_a_report_saying_where(capsys, tmp_path):
    whole = tmp_path / "night.flac"
    soundfile.write(whole, np.tile(_cough_clip(), 15), 16000)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    status, printed, err = _detect(capsys, cut, tmp_path / "out")
    assert status == 1
    assert "cannot read audio at" in err and "the file may be cut short or damaged" in err
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["stopped_by"].startswith("error:") and 0 < report["duration_s"] < 30
    assert "stopped early" in printed
