"""Bad training data gives a message naming the file and the reason, never a traceback."""

import csv

import numpy as np
import pytest
import soundfile
from conftest import assert_one_line_error, run_main

from sensing.audio.clips import read_manifest
from sensing.errors import AudioError
from training.audio.dataset import load_clips, skipped_summary


def _break_some_clips(manifest):
    """Corrupt one clip, empty another, silence a third, and list a missing one."""
    root = manifest.parent
    (root / "cough" / "spk00_cough_000.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    soundfile.write(root / "snore" / "spk01_snore_001.wav", np.zeros(0, np.float32), 16000)
    soundfile.write(root / "other" / "silence.wav", np.zeros(16000, np.float32), 16000)
    with open(manifest, "a", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["other/silence.wav", "other", "spk02", "silence"])
        writer.writerow(["cough/gone.wav", "cough", "spk03", "cough"])


def test_unusable_clips_are_skipped_and_counted_by_reason(clip_copy):
    _break_some_clips(clip_copy)
    records = read_manifest(clip_copy)
    loaded, skipped = load_clips(records, sr=16000, strict=False)
    assert len(loaded) == len(records) - 4
    summary = skipped_summary(skipped)
    assert summary.startswith("4 unusable files skipped")
    for reason in ("cannot read audio", "empty audio", "silent audio", "file not found"):
        assert reason in summary
    assert "spk00_cough_000.wav" in summary and "gone.wav" in summary


def test_strict_stops_at_the_first_unusable_file(clip_copy):
    _break_some_clips(clip_copy)
    with pytest.raises(AudioError, match="spk00_cough_000.wav: cannot read audio"):
        load_clips(read_manifest(clip_copy), sr=16000, strict=True)


@pytest.mark.parametrize(
    "manifest_text, message",
    [
        ("file,label\ncough/a.wav,cough\n", "missing column 'path'"),
        ("path,label\n", "manifest has a header but no clips"),
    ],
)
def test_cli_reports_bad_manifests_without_traceback(tmp_path, manifest_text, message):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(manifest_text)
    result = run_main(["train", "audio", "--data", str(manifest), "--out", str(tmp_path / "run")])
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_strict_names_the_corrupt_file(clip_copy, tmp_path):
    _break_some_clips(clip_copy)
    result = run_main(
        ["train", "audio", "--data", str(clip_copy), "--out", str(tmp_path / "run"), "--strict"]
    )
    assert result.returncode == 2
    assert "spk00_cough_000.wav: cannot read audio" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_a_label_with_too_few_examples_and_an_empty_folder(clip_copy, tmp_path):
    root = clip_copy.parent
    (root / "sneeze.wav").write_bytes((root / "cough" / "spk00_cough_000.wav").read_bytes())
    with open(clip_copy, "a", newline="") as handle:
        csv.writer(handle).writerow(["sneeze.wav", "sneeze", "spk00", "sneeze"])
    result = run_main(["train", "audio", "--data", str(clip_copy), "--out", str(tmp_path / "run")])
    assert result.returncode == 2
    assert "too few examples for label 'sneeze' (1 clip in 1 group)" in result.stderr
    (tmp_path / "empty").mkdir()
    result = run_main(["train", "audio", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run")])
    assert result.returncode == 2
    assert "no label subfolders" in result.stderr


def _train_line(data, tmp_path) -> str:
    """The one error line of ``sensing train audio --data DATA`` (exit status 2)."""
    return assert_one_line_error(
        run_main(["train", "audio", "--data", str(data), "--out", str(tmp_path / "run")]), 2
    )


def test_a_clip_listed_twice_is_refused_naming_its_lines(clip_copy, tmp_path):
    rows = clip_copy.read_text().splitlines()
    clip_copy.write_text("\n".join([*rows, rows[1], rows[2].replace(",cough,", ",snore,", 1)]) + "\n")
    line = _train_line(clip_copy, tmp_path)
    first, second = rows[1].split(",")[0], rows[2].split(",")[0]
    assert f"{clip_copy}: 2 clips are listed more than once" in line
    assert f"{first} on lines 2, {len(rows) + 1};" in line
    assert f"{second} on lines 3 (cough), {len(rows) + 2} (snore)" in line


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty manifest, expected a header with columns path, label"),
        (b"path,label\ncaf\xe9.wav,cough\n", "not a readable UTF-8 CSV file"),
        (b"path,label\ncough/a.wav\n", "line 2: empty path or label"),
    ],
)
def test_malformed_manifests_are_one_line(content, message, tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(content)
    line = _train_line(manifest, tmp_path)
    assert str(manifest) in line and message in line


def test_a_folder_named_like_a_manifest_is_read_as_label_folders(tmp_path):
    (tmp_path / "clips.csv").mkdir()
    assert "clips.csv: no label subfolders" in _train_line(tmp_path / "clips.csv", tmp_path)
