"""The audio CNN's architecture settings, apart from TensorFlow so that settings can be read
(by the command line, for its defaults) without it; :mod:`training.model` builds the network."""

from __future__ import annotations

import dataclasses

from sensing.errors import SensingError

CHANNEL_MULTIPLE = 4
"""Widened layers keep channel counts that are multiples of this (whole SIMD lanes on ARM NEON)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class CnnSettings:
    """Architecture of :func:`training.model.build_audio_cnn`.

    Attributes:
        stem_channels: output channels of the first 3x3 stride-2 convolution.
        blocks: (expansion, output channels, stride) of each inverted-residual block.
        head_channels: channels of the last 1x1 convolution before pooling.
        dropout: dropout rate before the classifier layer.
    """

    stem_channels: int = 16
    blocks: tuple[tuple[int, int, int], ...] = (
        (4, 24, 2),
        (4, 24, 1),
        (4, 32, 2),
        (4, 32, 1),
        (4, 48, 2),
        (4, 48, 1),
    )
    head_channels: int = 128
    dropout: float = 0.2

    def widened(self, factor: float) -> CnnSettings:
        """The same network with every layer's channels times ``factor``, rounded to a multiple of
        :data:`CHANNEL_MULTIPLE` (expansion ratios, strides and dropout unchanged).

        A wider base keeps more of its accuracy once most of its 1x1 weights are pruned: at 80%
        sparsity a network 1.2 times as wide holds about 0.29 of the normal one's 1x1 weights.
        """
        if not factor > 0:
            raise SensingError(f"width factor must be positive, got {factor!r}")

        def scaled(channels: int) -> int:
            return max(CHANNEL_MULTIPLE, CHANNEL_MULTIPLE * round(channels * factor / CHANNEL_MULTIPLE))

        return dataclasses.replace(
            self,
            stem_channels=scaled(self.stem_channels),
            blocks=tuple(
                (expansion, scaled(channels), stride) for expansion, channels, stride in self.blocks
            ),
            head_channels=scaled(self.head_channels),
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> CnnSettings:
        """The settings :meth:`to_dict` wrote (JSON lists back to tuples)."""
        return cls(**{**values, "blocks": tuple(tuple(block) for block in values["blocks"])})


MICRO_CNN = CnnSettings(
    stem_channels=8,
    blocks=((2, 16, 2), (2, 16, 1), (3, 24, 2), (3, 24, 1), (3, 32, 2), (3, 32, 1)),
    head_channels=64,
)
"""A microcontroller-sized variant (about 26,000 parameters): as int8 it needs about 55 KB of
flash and 55 KB of TFLite Micro tensor arena, against about 120 KB and 150 KB for the default."""
