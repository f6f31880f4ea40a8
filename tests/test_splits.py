"""Grouped splits: no group on two sides, every label everywhere, repeatable."""

import collections
from pathlib import Path

import pytest

from sensing.audio.clips import ClipRecord, read_manifest
from sensing.errors import DataError
from training.audio.splits import grouped_split


def _records(n_groups: int, per_group: int = 4):
    return [
        ClipRecord(path=Path(f"{label}{g}_{i}.wav"), label=label, group=f"{label}-g{g}", category=label)
        for label in ("cough", "other")
        for g in range(n_groups)
        for i in range(per_group)
    ]


def test_no_group_straddles_splits_and_every_label_is_in_each(clip_set):
    records = read_manifest(clip_set)
    splits = grouped_split(records, fractions=(0.7, 0.15, 0.15), seed=0)
    assert sorted(i for indices in splits.values() for i in indices) == list(range(len(records)))
    groups = {name: {records[i].group for i in indices} for name, indices in splits.items()}
    assert not groups["train"] & groups["validation"]
    assert not groups["train"] & groups["test"]
    assert not groups["validation"] & groups["test"]
    for indices in splits.values():
        assert {records[i].label for i in indices} == {"cough", "snore", "other"}


def test_split_shares_follow_the_fractions_and_the_seed():
    records = _records(n_groups=40)
    splits = grouped_split(records, fractions=(0.6, 0.2, 0.2), seed=1)
    counts = {name: collections.Counter(records[i].label for i in idx) for name, idx in splits.items()}
    assert counts["validation"]["cough"] == pytest.approx(32, abs=4)
    assert splits == grouped_split(records, fractions=(0.6, 0.2, 0.2), seed=1)
    assert splits != grouped_split(records, fractions=(0.6, 0.2, 0.2), seed=2)


def test_too_few_groups_is_an_error():
    with pytest.raises(DataError, match="at least 3 groups"):
        grouped_split(_records(n_groups=2), fractions=(0.7, 0.15, 0.15), seed=0)
