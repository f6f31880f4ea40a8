"""Grouped, label-stratified train/validation/test splits.

A group (speaker, recording, source file) lands on exactly one side, so
figures measured on validation and test come from people and recordings the
model never trained on. Groups are dealt out in a seeded random order, each to
the split whose per-label quota it fills best.
"""

from __future__ import annotations

import collections

import numpy as np

from sensing.audio.clips import ClipRecord
from sensing.errors import DataError

SPLIT_NAMES = ("train", "validation", "test")


def grouped_split(
    records: list[ClipRecord], *, fractions: tuple[float, float, float], seed: int
) -> dict[str, list[int]]:
    """Indices of ``records`` for each split in :data:`SPLIT_NAMES`.

    Args:
        records: the clips, each with a group and a label.
        fractions: wanted share of each label in train, validation and test;
            they must sum to 1, validation and test must be positive.
        seed: shuffles the group order.

    Raises:
        DataError: a label has too few groups to appear in every split.
    """
    if not np.isclose(sum(fractions), 1.0) or min(fractions) <= 0:
        raise DataError(f"split fractions must be positive and sum to 1, got {fractions}")
    by_group: dict[str, list[int]] = collections.defaultdict(list)
    for index, record in enumerate(records):
        by_group[record.group].append(index)
    labels = sorted({r.label for r in records})
    label_totals = collections.Counter(r.label for r in records)
    groups_per_label = collections.Counter(
        label for members in by_group.values() for label in {records[i].label for i in members}
    )
    short = [
        f"'{label}' ({groups_per_label[label]} groups)"
        for label in labels
        if groups_per_label[label] < len(fractions)
    ]
    if short:
        raise DataError(
            f"label {', '.join(short)} cannot appear in train, validation and test: "
            f"each label needs at least {len(fractions)} groups"
        )

    rng = np.random.default_rng(seed)
    group_names = sorted(by_group)
    rng.shuffle(group_names)
    group_names.sort(key=lambda name: -len(by_group[name]))  # stable: big groups first
    quota = {
        (s, label): fractions[s] * label_totals[label] for s in range(len(fractions)) for label in labels
    }
    filled: collections.Counter[tuple[int, str]] = collections.Counter()
    assignment: dict[str, list[int]] = {name: [] for name in SPLIT_NAMES}

    def room(split: int, counts: collections.Counter) -> float:
        """How much of the split's quota for these labels is still open, relative to the quota."""
        return sum(
            n * (quota[split, label] - filled[split, label]) / quota[split, label]
            for label, n in counts.items()
        )

    for name in group_names:
        counts = collections.Counter(records[i].label for i in by_group[name])
        best = max(range(len(fractions)), key=lambda split: room(split, counts))
        for label, n in counts.items():
            filled[best, label] += n
        assignment[SPLIT_NAMES[best]].extend(by_group[name])
    _ensure_every_label_everywhere(assignment, records, by_group, labels)
    return {name: sorted(indices) for name, indices in assignment.items()}


def _ensure_every_label_everywhere(
    assignment: dict[str, list[int]],
    records: list[ClipRecord],
    by_group: dict[str, list[int]],
    labels: list[str],
) -> None:
    """Move whole groups from train to a split that lacks a label (tiny data sets)."""
    for split in SPLIT_NAMES[1:]:
        for label in labels:
            if any(records[i].label == label for i in assignment[split]):
                continue
            donors = sorted(
                {records[i].group for i in assignment["train"] if records[i].label == label},
                key=lambda g: len(by_group[g]),
            )
            train_groups_with_label = len(donors)
            if train_groups_with_label < 2:
                raise DataError(f"label '{label}' has too few groups to appear in the {split} split")
            moved = set(by_group[donors[0]])
            assignment["train"] = [i for i in assignment["train"] if i not in moved]
            assignment[split].extend(sorted(moved))
