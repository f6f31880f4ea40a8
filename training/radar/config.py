"""The resolved settings of a sleep-classifier training run, written to ``config.json``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sensing.errors import SensingError
from sensing.radar.processing import RadarFeatureSettings
from training.model_settings import CnnSettings
from training.run_settings import check_run_settings, known_settings, read_config, write_config

RADAR_CNN = CnnSettings(
    stem_channels=16,
    blocks=((4, 24, 2), (4, 24, 1), (4, 32, 2), (4, 32, 1), (4, 40, 2)),
    head_channels=96,
    dropout=0.2,
)
"""The sleep classifier's network: the audio CNN's sparse-friendly pieces, sized for the
(80, 26, 3) input (44,275 parameters, 171 KB as float32 TFLite)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RadarTrainConfig:
    """Everything that decides a sleep-classifier training run's result.

    Attributes:
        out: run folder.
        data: folder of labelled recordings (``NAME.npz`` + ``NAME.epochs.csv``), or None
            when nights are simulated.
        simulate: nights to simulate into ``out/nights`` when ``data`` is None.
        hours: length of each simulated night, hours.
        epochs: passes over the training epochs.
        seed: seeds the simulated nights, the split by night, batch order and weights.
        batch_size: 30 s epochs per replica per gradient step.
        learning_rate: peak Adam learning rate for one replica (cosine decay to zero).
        label_smoothing: share of each one-hot target spread over the labels.
        split_fractions: share of nights in train, validation, test.
        workers: processes simulating and processing nights.
        keep_recordings: keep simulated recordings (about 130 MB per hour) rather
            than only their inputs, labels and truth.
        min_awakening_epochs: awake runs shorter than this inside sleep become asleep
            after the HMM (1: none).
        features, cnn: radar frontend and network.
    """

    out: str
    data: str | None = None
    simulate: int | None = None
    hours: float = 2.0
    epochs: int = 12
    seed: int = 0
    batch_size: int = 64
    learning_rate: float = 3e-3
    label_smoothing: float = 0.05
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    workers: int = 1
    keep_recordings: bool = False
    min_awakening_epochs: int = 1
    features: RadarFeatureSettings = dataclasses.field(default_factory=RadarFeatureSettings)
    cnn: CnnSettings = RADAR_CNN

    def __post_init__(self) -> None:
        if (self.data is None) == (self.simulate is None):
            raise SensingError(
                "give either a folder of labelled recordings (--data) or a number of "
                "nights to simulate (--simulate)"
            )
        if self.simulate is not None and self.simulate < 2:
            raise SensingError(f"--simulate needs at least 2 nights, got {self.simulate}")
        if not self.hours * 3600 >= 2 * 150:
            raise SensingError(f"simulated nights must last at least 5 minutes, got {self.hours:g} h")
        if self.workers < 1 or self.min_awakening_epochs < 1:
            raise SensingError("workers and min_awakening_epochs must be at least 1")
        check_run_settings(
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            learning_rate=self.learning_rate,
            label_smoothing=self.label_smoothing,
            split_fractions=self.split_fractions,
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def write(self, path: str | Path, **extra) -> None:
        write_config(self, path, **extra)

    @classmethod
    def read(cls, path: str | Path, **overrides) -> RadarTrainConfig:
        """The config a run recorded in its ``config.json``, with ``overrides`` applied.

        Keys a run adds beside the settings (status, command, versions) are ignored.
        """
        return read_config(path, lambda values: cls._from_values(path, values, overrides))

    @classmethod
    def _from_values(cls, path: str | Path, values: dict, overrides: dict) -> RadarTrainConfig:
        if "features" not in values or "cnn" not in values or "simulate" not in values:
            raise SensingError(f"{path}: not a radar training run config")
        settings = known_settings(cls, values)
        settings["features"] = RadarFeatureSettings.from_dict(settings["features"])
        settings["cnn"] = CnnSettings.from_dict(settings["cnn"])
        return cls(**{**settings, **overrides})
