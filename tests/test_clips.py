"""Manifests and label folders load as documented; bad ones say what is wrong."""

import pytest

from sensing.audio.clips import (
    check_label_counts,
    read_clip_list,
    read_folder,
    read_manifest,
)
from sensing.errors import DataError


def test_manifest_paths_are_relative_to_the_csv_and_keep_groups(clip_set):
    records = read_manifest(clip_set)
    assert len(records) == 48
    assert {r.label for r in records} == {"cough", "snore", "other"}
    assert all(r.path.is_file() for r in records)
    cough = [r for r in records if r.label == "cough"]
    assert {r.group for r in cough} == {f"spk{i:02d}" for i in range(6)}
    assert {r.category for r in records if r.label == "other"} >= {"knock", "babble"}


def test_label_folders_load_with_one_group_per_file(clip_set):
    records = read_folder(clip_set.parent)
    assert len(records) == 48
    assert len({r.group for r in records}) == 48
    assert read_clip_list(clip_set.parent) == records


def test_missing_column_names_the_columns_found(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,lable\na.wav,cough\n")
    with pytest.raises(DataError, match="missing column 'label'.*path, lable.*did you mean 'lable'"):
        read_manifest(manifest)


def test_empty_manifest_empty_folder_and_missing_paths(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty manifest"):
        read_manifest(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("path,label\n")
    with pytest.raises(DataError, match="no clips"):
        read_manifest(tmp_path / "header.csv")
    (tmp_path / "data").mkdir()
    with pytest.raises(DataError, match="no label subfolders"):
        read_folder(tmp_path / "data")
    (tmp_path / "data" / "cough").mkdir()
    with pytest.raises(DataError, match="no audio files"):
        read_folder(tmp_path / "data")
    with pytest.raises(DataError, match="not found"):
        read_clip_list(tmp_path / "nothing.csv")


def test_labels_with_too_few_examples_are_named(clip_set):
    records = read_manifest(clip_set)
    sneezes = [r for r in records if r.label == "snore"][:3]
    rare = [r.__class__(path=r.path, label="sneeze", group=r.group, category="sneeze") for r in sneezes]
    with pytest.raises(DataError, match=r"'sneeze' \(3 clips in 3 groups\)"):
        check_label_counts(records + rare, min_clips=5, min_groups=3)
    with pytest.raises(DataError, match="at least 2 labels"):
        check_label_counts([r for r in records if r.label == "cough"], min_clips=5, min_groups=3)


def test_a_binary_file_named_csv_is_refused(tmp_path):
    (tmp_path / "manifest.csv").write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(DataError, match="not a readable UTF-8 CSV"):
        read_manifest(tmp_path / "manifest.csv")


def test_a_row_with_more_fields_than_the_header_names_its_line(tmp_path):
    (tmp_path / "manifest.csv").write_text("path,label\ncough/a.wav,cough\ncough/b,1.wav,cough\n")
    with pytest.raises(DataError, match="line 3: more fields than the header"):
        read_manifest(tmp_path / "manifest.csv")
