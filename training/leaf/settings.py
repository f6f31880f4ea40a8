"""Settings of the learnable frontend, recorded in a run's ``config.json``."""

from __future__ import annotations

import dataclasses

from sensing.errors import SensingError

PCEN_LIMITS = {"alpha": (0.0, 1.0), "delta": (1e-3, 1e3), "root": (1.0, 1e3), "smoothing": (1e-3, 0.999)}
"""Range of each sPCEN parameter, per channel: the layer's constraints and the settings' checks.
Smoothing is per 10 ms frame."""


def pooling_width_limits(taps: int) -> tuple[float, float]:
    """Range of a Gaussian pooling window's width (its standard deviation over half its length)."""
    return 2.0 / taps, 0.5


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeafSettings:
    """The LEAF frontend's shape and initial values.

    The number of filters, sample rate, hop and window length come from the
    run's :class:`~sensing.audio.features.FeatureSettings` (``n_mels``, ``sr``,
    ``hop_length``, ``window_frames``), so the frontend's output has the mel
    frontend's shape.

    Attributes:
        gabor_taps: length of each Gabor filter in samples (odd; 401 = 25 ms at 16 kHz).
        pooling_taps: length of each Gaussian lowpass window in samples (odd).
        pooling_width: initial width of the lowpass window, its standard
            deviation as a share of half its length (0.4 in the paper).
        preemphasis: learn a first-order pre-emphasis filter before the filterbank.
        preemphasis_coefficient: its initial coefficient (y[t] = x[t] - c x[t-1]).
        pcen_alpha: initial gain normalisation exponent, in [0, 1].
        pcen_delta: initial bias added before the root compression, positive.
        pcen_root: initial root of the compression, at least 1.
        pcen_smoothing: initial coefficient of the per-channel smoother, per frame, in (0, 1).
        pcen_floor: added to the smoothed energy before the division.
        output_offset: subtracted from the sPCEN output ...
        output_scale: ... which is then divided by this, so that features lie
            in about the log-mel frontend's range (roughly [-3, 3]).
    """

    gabor_taps: int = 401
    pooling_taps: int = 401
    pooling_width: float = 0.4
    preemphasis: bool = False
    preemphasis_coefficient: float = 0.97
    pcen_alpha: float = 0.96
    pcen_delta: float = 2.0
    pcen_root: float = 2.0
    pcen_smoothing: float = 0.04
    pcen_floor: float = 1e-12
    output_offset: float = 0.3
    output_scale: float = 0.3

    def __post_init__(self) -> None:
        lower, upper = pooling_width_limits(self.pooling_taps)
        checks = [
            (self.gabor_taps >= 3 and self.gabor_taps % 2 == 1, "gabor_taps must be odd and >= 3"),
            (self.pooling_taps >= 3 and self.pooling_taps % 2 == 1, "pooling_taps must be odd and >= 3"),
            (lower <= self.pooling_width <= upper, f"pooling_width must be in [{lower:g}, {upper:g}]"),
            (0 <= self.preemphasis_coefficient <= 1, "preemphasis_coefficient must be in [0, 1]"),
            (self.pcen_floor > 0 and self.output_scale > 0, "pcen_floor and output_scale must be positive"),
        ] + [
            (low <= getattr(self, f"pcen_{name}") <= high, f"pcen_{name} must be in [{low:g}, {high:g}]")
            for name, (low, high) in PCEN_LIMITS.items()
        ]
        for ok, message in checks:
            if not ok:
                raise SensingError(f"invalid LEAF settings: {message} (got {self})")

    @property
    def support_samples(self) -> int:
        """Samples that one output frame depends on (filter and pooling window together)."""
        return self.gabor_taps + self.pooling_taps - 1

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
