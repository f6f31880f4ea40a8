"""``sensing rig setup``: find the sleeper's range once, with the sleeper alone in bed, and keep it.

Nightly calibration takes the nearest breathing body
(:mod:`sensing.radar.calibration`), which is the sleeper only while nobody lies nearer. The
rig calibrates once instead, at set-up, with the sleeper lying alone in bed for a few
minutes, and scores every later night at that range: a partner who lies nearer on a later
night cannot take the sleeper's place.

:func:`calibrate_source` pulls ``seconds`` of frames from the rig's radar (a driver, or the
replayed recording), keeps them as ``OUTPUT/calibration.npz`` (for ``sensing radar view``)
and calibrates on them.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import SensingError
from sensing.progress import Progress
from sensing.radar.calibration import Calibration, calibrate
from sensing.radar.recording import Recording, write_recording
from sensing.rig.config import RigConfig
from sensing.rig.run import open_radar

CALIBRATION_RECORDING = "calibration.npz"
"""The frames the calibration rests on, kept in the output folder."""
CALIBRATION_S = 300.0
"""Seconds of radar a set-up calibrates on unless told otherwise."""


def record_frames(config: RigConfig, seconds: float, path: Path) -> Path:
    """Pull ``seconds`` of frames from the configured radar into ``path``.

    Raises:
        SensingError: the radar cannot be opened, or gave less than ``seconds``.
    """
    source = open_radar(config)
    wanted = round(seconds * source.config.frame_rate_hz)
    progress = Progress("calibration frames", wanted)
    chunks, got = [], 0
    try:
        while got < wanted:
            frames = next(source.chunks, None)
            if frames is None:
                break
            chunks.append(frames[: wanted - got])
            got += len(chunks[-1])
            progress.advance(len(chunks[-1]))
    finally:
        source.close()
    progress.finish()
    if got < wanted:
        raise SensingError(
            f"the radar ({source.name}) gave {got / source.config.frame_rate_hz:.0f} s, less than the "
            f"{seconds:g} s calibration"
        )
    return write_recording(path, np.concatenate(chunks), source.config)


def calibrate_source(config: RigConfig, seconds: float, *, recording: Path | None = None) -> Calibration:
    """Calibrate on ``recording`` (a recording made with the sleeper alone in bed), or on
    ``seconds`` of frames from the configured radar, kept as ``OUTPUT/calibration.npz`` when
    a sleeper is found in them (an earlier calibration's frames stay otherwise).

    Raises:
        SensingError: no radar frames, or no breathing body found (the message says what was seen).
    """
    if recording is not None:
        return calibrate_recording(recording, seconds)

    kept = config.night.output / CALIBRATION_RECORDING
    trial = kept.with_name(f".{kept.stem}-new.npz")
    try:
        calibration = calibrate_recording(record_frames(config, seconds, trial), seconds)
        trial.replace(kept)
    finally:
        trial.unlink(missing_ok=True)
    return calibration


def calibrate_recording(recording: Path, seconds: float) -> Calibration:
    """Calibrate on the first ``seconds`` of a recording made with the sleeper alone in bed.

    Raises:
        SensingError: no breathing body found (the message says what was seen).
    """
    with Recording(recording) as frames:
        calibration = calibrate(frames, seconds=min(seconds, frames.duration_s))
    if not calibration.found:
        raise SensingError(
            f"no sleeper found in {recording}: {calibration.reason} (lie still in bed, alone, and run "
            "sensing rig setup again)"
        )
    return calibration


def calibrated_radar_settings(calibration: Calibration) -> dict[str, Any]:
    """The ``[radar]`` settings a calibration gives: the sleeper's range and when it was found."""
    assert calibration.centre_m is not None
    return {
        "sleeper_range_m": round(calibration.centre_m, 3),
        "calibrated_at": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def other_bodies(calibration: Calibration) -> int:
    """How many breathing bodies besides the sleeper the calibration saw (a partner in bed?)."""
    return sum(region.verdict == "breathing" for region in calibration.evidence)
