"""Stateless random seeds: an epoch's data is a function of (seed, epoch), so a resumed run repeats it."""

from __future__ import annotations

from training.tf_setup import tf


def seeds(seed: tf.Tensor, count: int) -> list[tf.Tensor]:
    """``count`` independent stateless seeds, each (2,) int64, from one."""
    return list(tf.unstack(tf.random.experimental.stateless_split(seed, count)))
