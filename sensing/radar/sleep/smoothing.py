"""Temporal smoothing of per-epoch probabilities with a 3-state hidden Markov model.

A classifier looks at one 30 s epoch at a time and gives (epochs, 3)
probabilities in the order of :data:`~sensing.radar.recording.EPOCH_LABELS`.
Sleep does not change that fast: the states ``absent``, ``awake`` and
``asleep`` form a Markov chain with the transition matrix
:data:`DEFAULT_TRANSITIONS`, and the classifier's outputs are its emissions.

The classifier gives the posterior p(state | epoch), not the likelihood
p(epoch | state) an HMM needs. By Bayes' rule the likelihood is proportional to
p(state | epoch) / p(state), where p(state) is the class prior the classifier
was trained with (the share of each label among its training epochs), so the
emissions are the probabilities divided by that prior. With a uniform prior
the division changes nothing. The first epoch's state is taken to follow the
same prior, so its score is the classifier's own probability.

:func:`viterbi` gives the most likely sequence of states (computed in log
space, so a night of 1000 epochs does not underflow), :func:`smoothed_posteriors`
the probability of each state at each epoch given the whole night
(forward-backward, rescaled at every epoch). Probabilities are floored at
:data:`MIN_PROBABILITY`: a classifier's 0 is never certain. Numpy only.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from sensing.errors import RadarError
from sensing.radar.recording import EPOCH_LABELS
from sensing.radar.sleep.summary import ASLEEP, AWAKE, label_indices, runs

DEFAULT_TRANSITIONS = (
    (0.9899, 0.0100, 0.0001),
    (0.0100, 0.9000, 0.0900),
    (0.0001, 0.0199, 0.9800),
)
"""Probability of moving from the row's state to the column's within one 30 s epoch.

Rows and columns in the order of EPOCH_LABELS (absent, awake, asleep); each row
sums to 1. A state kept with probability p lasts 1 / (1 - p) epochs on average:

- absent stays 0.9899 (about 100 epochs, 50 min: the evening before bed and the
  morning after dominate); it ends by getting into bed awake (0.01), almost
  never straight into sleep (0.0001: a person gets into bed awake first).
- awake stays 0.9 (10 epochs, 5 min: falling asleep takes 10 to 20 min, wake
  bouts during the night are mostly a few minutes); it ends in sleep (0.09)
  nine times out of ten and by getting up (0.01) once.
- asleep stays 0.98 (50 epochs, 25 min: about 15 awakenings of 30 s or more in
  7 hours, as polysomnography counts in healthy adults); it ends by waking
  (0.0199), almost never by leaving the bed asleep (0.0001).

A one-epoch awakening inside sleep costs log(0.0199 * 0.09 / 0.98^2) = -6.3 in
log probability, so it needs a classifier about 500 times surer of awake than of
asleep; three epochs cost -6.5 in all, so three epochs each about 9 times surer
of awake survive. A trip out of bed (awake, 4 epochs absent, awake) costs -15.4,
which four confident absent epochs pay: the radar sees an empty bed clearly.
"""
MIN_PROBABILITY = 1e-6
"""Floor of a classifier probability before it is used as an emission."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SmoothingSettings:
    """How :func:`smooth_epochs` turns probabilities into labels.

    Attributes:
        transitions: (3, 3) transition probabilities per epoch, rows "from" and
            columns "to" in the order of EPOCH_LABELS, each in (0, 1], rows summing to 1.
        prior: (3,) class prior the classifier was trained with, in the order of
            EPOCH_LABELS, each > 0, summing to 1.
        min_awakening_epochs: after decoding, runs of awake shorter than this
            with asleep on both sides become asleep; 1 keeps every run.
    """

    transitions: tuple[tuple[float, float, float], ...] = DEFAULT_TRANSITIONS
    prior: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    min_awakening_epochs: int = 1

    def __post_init__(self) -> None:
        check_transitions(self.transitions)
        check_prior(self.prior)
        value = self.min_awakening_epochs
        if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1):
            raise RadarError(
                f"smoothing settings: min_awakening_epochs must be an integer >= 1, got {value!r}"
            )


def check_probabilities(probabilities: ArrayLike, *, n_epochs: int | None = None) -> np.ndarray:
    """(epochs, 3) float64 probabilities with each row scaled to sum to 1.

    Args:
        probabilities: (epochs, 3) per-epoch classifier outputs in the order of
            EPOCH_LABELS, finite and >= 0 (rows are rescaled, so a quantised
            model's rows that sum to 0.99 are fine).
        n_epochs: number of epochs expected, or None for any number >= 1.

    Raises:
        RadarError: wrong shape, NaN, a negative value or a row of zeros.
    """
    array = np.asarray(probabilities, dtype=np.float64)
    expected = f"({'epochs' if n_epochs is None else n_epochs}, {len(EPOCH_LABELS)})"
    if array.ndim != 2 or array.shape[1] != len(EPOCH_LABELS) or len(array) == 0:
        raise RadarError(
            f"probabilities must have shape {expected} (columns {', '.join(EPOCH_LABELS)}), got {array.shape}"
        )
    if n_epochs is not None and len(array) != n_epochs:
        raise RadarError(f"probabilities have {len(array)} epochs, expected {n_epochs}")
    bad = ~(np.isfinite(array) & (array >= 0)).all(axis=1) | (array.sum(axis=1) <= 0)
    if bad.any():
        epoch = int(np.argmax(bad))
        raise RadarError(
            f"probabilities: epoch {epoch} has {array[epoch].tolist()}, expected finite "
            f"values >= 0 with a positive sum"
        )
    return np.asarray(array / array.sum(axis=1, keepdims=True))


def check_transitions(transitions: ArrayLike) -> np.ndarray:
    """(3, 3) float64 transition matrix; raises RadarError unless entries are in (0, 1] and rows sum to 1."""
    array = np.asarray(transitions, dtype=np.float64)
    size = len(EPOCH_LABELS)
    if array.shape != (size, size):
        raise RadarError(f"transitions must have shape ({size}, {size}), got {array.shape}")
    if not (np.isfinite(array).all() and (array > 0).all() and (array <= 1).all()):
        raise RadarError(
            f"transitions must lie in (0, 1] (use a small number for 'almost never'), got {array.tolist()}"
        )
    sums = array.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        raise RadarError(f"each row of transitions must sum to 1, got sums {sums.tolist()}")
    return array


def check_prior(prior: ArrayLike) -> np.ndarray:
    """(3,) float64 class prior; raises RadarError unless entries are > 0 and sum to 1."""
    array = np.asarray(prior, dtype=np.float64)
    if array.shape != (len(EPOCH_LABELS),):
        raise RadarError(
            f"prior must have {len(EPOCH_LABELS)} values ({', '.join(EPOCH_LABELS)}), got shape {array.shape}"
        )
    if not (np.isfinite(array).all() and (array > 0).all() and abs(array.sum() - 1.0) <= 1e-6):
        raise RadarError(f"prior must be positive and sum to 1, got {array.tolist()}")
    return array


def _log_emissions(probabilities: ArrayLike, prior: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, 3) log emissions, log p(state | epoch) - log p(state), and the (3,) log prior."""
    probabilities = check_probabilities(probabilities)
    log_prior = np.log(check_prior(prior))
    return np.log(np.maximum(probabilities, MIN_PROBABILITY)) - log_prior, log_prior


def viterbi(probabilities: ArrayLike, transitions: ArrayLike, prior: ArrayLike) -> list[str]:
    """The most likely labels given per-epoch classifier probabilities.

    Args:
        probabilities: (epochs, 3) classifier outputs in the order of EPOCH_LABELS.
        transitions: (3, 3) transition probabilities per epoch (rows "from").
        prior: (3,) class prior the classifier was trained with.

    Returns:
        (epochs,) labels from EPOCH_LABELS; ties go to the earlier label.

    Raises:
        RadarError: malformed probabilities, transitions or prior.
    """
    log_emissions, log_prior = _log_emissions(probabilities, prior)
    log_transitions = np.log(check_transitions(transitions))
    n_epochs = len(log_emissions)
    best_previous = np.zeros((n_epochs, len(EPOCH_LABELS)), dtype=np.int64)
    score = log_prior + log_emissions[0]
    for epoch in range(1, n_epochs):
        candidates = score[:, None] + log_transitions  # [from, to]
        best_previous[epoch] = np.argmax(candidates, axis=0)
        score = candidates[best_previous[epoch], np.arange(len(EPOCH_LABELS))] + log_emissions[epoch]
    path = np.empty(n_epochs, dtype=np.int64)
    path[-1] = np.argmax(score)
    for epoch in range(n_epochs - 1, 0, -1):
        path[epoch - 1] = best_previous[epoch, path[epoch]]
    return [EPOCH_LABELS[state] for state in path]


def smoothed_posteriors(probabilities: ArrayLike, transitions: ArrayLike, prior: ArrayLike) -> np.ndarray:
    """(epochs, 3) probability of each state at each epoch given the whole night.

    Forward-backward with each epoch's forward and backward vectors rescaled to
    sum to 1 (the scale cancels in the posterior). Arguments as :func:`viterbi`.
    With transitions whose every row is the prior (no memory), the result is
    the classifier's probabilities.
    """
    log_emissions, log_prior = _log_emissions(probabilities, prior)
    emissions = np.exp(log_emissions)
    matrix = check_transitions(transitions)
    n_epochs = len(emissions)
    forward = np.empty_like(emissions)
    forward[0] = np.exp(log_prior) * emissions[0]
    forward[0] /= forward[0].sum()
    for epoch in range(1, n_epochs):
        forward[epoch] = (forward[epoch - 1] @ matrix) * emissions[epoch]
        forward[epoch] /= forward[epoch].sum()
    backward = np.ones_like(emissions)
    for epoch in range(n_epochs - 2, -1, -1):
        backward[epoch] = matrix @ (emissions[epoch + 1] * backward[epoch + 1])
        backward[epoch] /= backward[epoch].sum()
    posterior = forward * backward
    return np.asarray(posterior / posterior.sum(axis=1, keepdims=True))


def smooth_epochs(probabilities: ArrayLike, settings: SmoothingSettings | None = None) -> list[str]:
    """Labels for a night of classifier probabilities: Viterbi, then short awakenings removed.

    Args:
        probabilities: (epochs, 3) classifier outputs in the order of EPOCH_LABELS.
        settings: default :class:`SmoothingSettings()`.

    Returns:
        (epochs,) labels from EPOCH_LABELS.
    """
    settings = settings or SmoothingSettings()
    labels = viterbi(probabilities, settings.transitions, settings.prior)
    return _fill_short_awakenings(labels, settings.min_awakening_epochs)


def _fill_short_awakenings(labels: list[str], min_epochs: int) -> list[str]:
    """Relabel as asleep each awake run shorter than ``min_epochs`` with asleep on both sides."""
    states = np.array([EPOCH_LABELS.index(label) for label in labels])
    filled = list(labels)
    for value, start, stop in runs(states):
        if (
            value == AWAKE
            and stop - start < min_epochs
            and start > 0
            and stop < len(states)
            and states[start - 1] == ASLEEP
            and states[stop] == ASLEEP
        ):
            filled[start:stop] = [EPOCH_LABELS[ASLEEP]] * (stop - start)
    return filled


def estimate_transitions(
    nights: Iterable[Sequence[str]], *, pseudo_count: float = 1.0
) -> tuple[tuple[float, float, float], ...]:
    """Transition probabilities counted from labelled nights.

    Args:
        nights: sequences of labels from EPOCH_LABELS, one per night, in order.
        pseudo_count: added to every count, so a transition never seen keeps a
            small probability (> 0).

    Returns:
        (3, 3) rows "from", columns "to", each row summing to 1, as
        :data:`DEFAULT_TRANSITIONS`.

    Raises:
        RadarError: an empty night, an unknown label, or a pseudo-count that is not positive.
    """
    if not (isinstance(pseudo_count, numbers.Real) and pseudo_count > 0):
        raise RadarError(f"pseudo_count must be a positive number, got {pseudo_count!r}")
    counts = np.full((len(EPOCH_LABELS), len(EPOCH_LABELS)), float(pseudo_count))
    for index, labels in enumerate(nights):
        states = label_indices(labels, name=f"night {index}")
        np.add.at(counts, (states[:-1], states[1:]), 1.0)
    rows = counts / counts.sum(axis=1, keepdims=True)
    return tuple(tuple(float(value) for value in row) for row in rows)
