"""The resolved settings of an audio training run, written to ``config.json``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sensing.audio.features import FRONTENDS, FeatureSettings
from sensing.errors import SensingError
from training.audio.windows import AugmentSettings
from training.leaf.settings import LeafSettings
from training.model_settings import CnnSettings
from training.run_settings import check_run_settings, check_seed, known_settings, read_config, write_config


@dataclasses.dataclass(frozen=True, kw_only=True)
class AudioTrainConfig:
    """Everything that decides an audio training run's result.

    Attributes:
        data: manifest CSV or folder of label folders.
        out: run folder.
        frontend: feature frontend: ``mel`` (fixed) or ``leaf`` (learned with the CNN).
        epochs: passes over the training clips.
        seed: seeds the split, window draws, augmentation and weights.
        split_seed: seeds the split instead, when set: runs with other seeds and one
            split_seed are trained and measured on the same groups, so the spread
            between seeds can be told from the spread between splits.
        batch_size: windows per replica per gradient step (see :class:`training.scale.ScaleSettings`).
        learning_rate: peak Adam learning rate for one replica (cosine decay to zero).
        label_smoothing: share of each one-hot target spread over all labels;
            keeps scores off 1.0 so thresholds can be calibrated finely.
        windows_per_clip: windows drawn from each training clip per epoch.
        split_fractions: share of each label's clips in train, validation, test.
        target_fpr: allowed share of negative clips called a target, used to
            calibrate the thresholds on the validation groups.
        negative_label: the "neither target" label; absent from the data
            means every label is a target.
        strict: stop at the first unusable file instead of skipping it.
        min_clips_per_label: refuse labels with fewer clips.
        features, cnn, augment: frontend, architecture, augmentation.
        leaf: the LEAF frontend's settings (used when ``frontend`` is ``leaf``).
    """

    data: str
    out: str
    frontend: str = "mel"
    epochs: int = 20
    seed: int = 0
    split_seed: int | None = None
    batch_size: int = 64
    learning_rate: float = 3e-3
    label_smoothing: float = 0.1
    windows_per_clip: int = 2
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    target_fpr: float = 0.01
    negative_label: str = "other"
    strict: bool = False
    min_clips_per_label: int = 5
    features: FeatureSettings = dataclasses.field(default_factory=FeatureSettings)
    cnn: CnnSettings = dataclasses.field(default_factory=CnnSettings)
    augment: AugmentSettings = dataclasses.field(default_factory=AugmentSettings)
    leaf: LeafSettings = dataclasses.field(default_factory=LeafSettings)

    def __post_init__(self) -> None:
        if self.frontend not in FRONTENDS:
            raise SensingError(f"unknown frontend {self.frontend!r}; available: {', '.join(FRONTENDS)}")
        if not 0 < self.target_fpr < 1:
            raise SensingError(f"target false-positive rate must be in (0, 1), got {self.target_fpr}")
        if self.windows_per_clip < 1 or self.min_clips_per_label < 1:
            raise SensingError("windows_per_clip and min_clips_per_label must be at least 1")
        if self.split_seed is not None:
            check_seed("split seed", self.split_seed)
        check_run_settings(
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            learning_rate=self.learning_rate,
            label_smoothing=self.label_smoothing,
            split_fractions=self.split_fractions,
        )

    @property
    def group_split_seed(self) -> int:
        """The seed of the train/validation/test split of groups."""
        return self.seed if self.split_seed is None else self.split_seed

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def write(self, path: str | Path, **extra) -> None:
        write_config(self, path, **extra)

    @classmethod
    def read(cls, path: str | Path, **overrides) -> AudioTrainConfig:
        """The config a run recorded in its ``config.json``, with ``overrides`` applied.

        Keys a run adds beside the settings (status, command, versions) are ignored.
        """
        return read_config(path, lambda values: cls._from_values(path, values, overrides))

    @classmethod
    def _from_values(cls, path: str | Path, values: dict[str, Any], overrides: dict) -> AudioTrainConfig:
        missing = sorted({"data", "out", "features", "cnn"} - set(values))
        if missing:
            raise SensingError(f"{path}: missing {', '.join(missing)}; not a training run config")
        settings = known_settings(cls, values)
        settings["features"] = FeatureSettings.from_dict(settings["features"])
        settings["cnn"] = CnnSettings.from_dict(settings["cnn"])
        if "augment" in settings:
            augment: dict[str, Any] = {
                key: tuple(value) if isinstance(value, list) else value
                for key, value in settings["augment"].items()
            }
            settings["augment"] = AugmentSettings(**augment)
        if "leaf" in settings:
            settings["leaf"] = LeafSettings(**settings["leaf"])
        return cls(**{**settings, **overrides})
