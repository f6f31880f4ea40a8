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


def test_runs_with_one_split_seed_share_their_test_groups(clip_set, tmp_path):
    from training.audio.config import AudioTrainConfig
    from training.audio.evaluate import split_clips

    def test_groups(seed, split_seed=None):
        run = tmp_path / f"seed{seed}_split{split_seed}"
        run.mkdir(exist_ok=True)
        AudioTrainConfig(data=str(clip_set), out=str(run), seed=seed, split_seed=split_seed).write(
            run / "config.json"
        )
        return {clip.record.group for clip in split_clips(run, split="test", sr=16000)}

    first = test_groups(0)
    assert all(test_groups(seed, split_seed=0) == first for seed in range(1, 5))
    assert any(test_groups(seed) != first for seed in range(1, 5))


def test_a_bad_split_seed_is_one_message():
    from sensing.errors import SensingError
    from training.audio.config import AudioTrainConfig

    with pytest.raises(SensingError, match="split seed must be an integer >= 0, got -1"):
        AudioTrainConfig(data="x.csv", out="run", split_seed=-1)
