"""How a training run uses disks, devices and machines: shared by audio and radar runs."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScaleSettings:
    """How a run uses disks, devices and machines (not part of ``config.json``'s settings).

    Attributes:
        cache: feature cache folder (:mod:`training.audio.feature_cache`), or None to
            decode every clip again each epoch.
        distribute: ``none``, ``mirrored`` or ``multiworker`` (:mod:`training.distribute`).
            With several replicas each takes ``batch_size`` windows per step and
            the learning rate is multiplied by the number of replicas.
        cpu_devices: logical CPU devices for ``mirrored`` on a machine without GPUs.
        resume: continue the run in ``out`` from its last checkpoint.
    """

    cache: str | None = None
    distribute: str = "none"
    cpu_devices: int = 2
    resume: bool = False
