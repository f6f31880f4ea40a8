"""Labelled radar nights for the sleep classifier: found in a folder or simulated, then cached.

A night is a recording ``NAME.npz`` with ``NAME.epochs.csv`` beside it (see
:mod:`sensing.radar.recording`). Its classifier inputs
(:func:`sensing.radar.sleep.input.night_inputs`) are cached as
``NAME.inputs.npz`` in the run's cache folder, keyed by the feature settings
and the recording's size and modification time, so a later run with the same
settings skips the processing and a changed setting never reuses stale inputs.

Simulated nights (:func:`simulate_training_nights`) are drawn wide
(:meth:`~sensing.radar.simulate.NightParameters.widened`,
:meth:`~sensing.radar.simulate.RadarHardware.random`, interferers at their
default odds), processed at once, and their recordings (about 130 MB per
hour) deleted unless kept; labels, truth and inputs stay.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import multiprocessing
import sys
from pathlib import Path

import numpy as np

from sensing.errors import DataError, RadarError
from sensing.files import atomic_path, make_folder
from sensing.progress import Progress
from sensing.radar.processing import RadarFeatureSettings
from sensing.radar.recording import epochs_path, read_epochs
from sensing.radar.simulate import (
    NightTruth,
    night_seed,
    simulate_night,
    truth_path,
    wide_night,
)
from sensing.radar.sleep.input import night_inputs
from sensing.radar.sleep.summary import label_indices

CACHE_FORMAT = 2
"""Bumped whenever the cached inputs' meaning changes (2: padded to even sizes)."""


@dataclasses.dataclass
class LabelledNight:
    """One night's classifier inputs and labels.

    Attributes:
        name: the recording's path below the data folder, without ``.npz`` (``/`` as
            ``__``); nights are the groups of the splits.
        inputs: (epochs, time steps, frequencies, 3) float32.
        labels: (epochs,) index into EPOCH_LABELS.
        centre_m: the range the inputs are centred on, m.
        centre_how: how it was chosen (see :class:`~sensing.radar.sleep.input.SleeperRange`).
        interferers: for simulated nights, which of partner, fan, curtain were there.
    """

    name: str
    inputs: np.ndarray
    labels: np.ndarray
    centre_m: float
    centre_how: str
    interferers: tuple[str, ...] = ()


def find_recordings(data_dir: str | Path) -> list[Path]:
    """The labelled recordings (``NAME.npz`` with ``NAME.epochs.csv``) in a folder, sorted.

    Raises:
        DataError: the folder is missing or holds no labelled recording; the
            message lists recordings that lack their labels.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: not a folder of radar recordings")
    recordings = sorted(data_dir.rglob("*.npz"))
    recordings = [path for path in recordings if not path.name.endswith(".inputs.npz")]
    unlabelled = [path.name for path in recordings if not epochs_path(path).is_file()]
    labelled = [path for path in recordings if epochs_path(path).is_file()]
    if not labelled:
        hint = (
            f"; these lack NAME.epochs.csv: {', '.join(unlabelled[:5])}"
            if unlabelled
            else "; expected NAME.npz recordings with NAME.epochs.csv labels"
        )
        raise DataError(f"{data_dir}: no labelled radar recordings{hint}")
    if unlabelled:
        print(
            f"note: {len(unlabelled)} recording(s) without NAME.epochs.csv left out: "
            f"{', '.join(unlabelled[:5])}",
            file=sys.stderr,
        )
    return labelled


def _cache_key(settings: RadarFeatureSettings, recording: Path | None = None, **extra) -> str:
    """Key of cached inputs: the format, the settings, ``extra`` and the recording's size and time."""
    values = {"format": CACHE_FORMAT, "settings": settings.to_dict(), **extra}
    if recording is not None:
        stat = recording.stat()
        values.update(bytes=stat.st_size, mtime_ns=stat.st_mtime_ns)
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def _interferers(recording: Path) -> tuple[str, ...]:
    path = truth_path(recording)
    if not path.is_file():
        return ()
    truth = NightTruth.read(path)
    present = {"partner": truth.partner_range_m, "fan": truth.fan_range_m, "curtain": truth.curtain_range_m}
    return tuple(name for name, value in present.items() if value is not None)


def load_night(
    recording: str | Path, settings: RadarFeatureSettings, cache_dir: str | Path, name: str | None = None
) -> LabelledNight:
    """A recording's inputs and labels, from the cache (``cache_dir/NAME.inputs.npz``) when it holds them.

    ``name`` (default: the file's stem) names the night and its cache file.

    Raises:
        DataError: the labels do not cover the recording's whole epochs, or the
            recording or labels are malformed (the message names the file).
    """
    recording = Path(recording)
    name = name or recording.stem
    cache = Path(cache_dir) / f"{name}.inputs.npz"
    key = _cache_key(settings, recording)
    try:
        labels = read_epochs(epochs_path(recording))
        cached = _read_cache(cache, key)
        if cached is None:
            night = night_inputs(recording, settings)
            cached = (night.inputs, night.sleeper.centre_m, night.sleeper.how)
            make_folder(cache.parent)
            _write_cache(cache, key, *cached)
    except RadarError as error:
        raise DataError(str(error)) from None
    inputs, centre_m, how = cached
    if len(labels) != len(inputs):
        raise DataError(
            f"{epochs_path(recording)}: {len(labels)} labelled epochs, but the recording "
            f"holds {len(inputs)} whole 30 s epochs; label every epoch"
        )
    return LabelledNight(
        name=name,
        inputs=inputs,
        labels=label_indices(labels),
        centre_m=centre_m,
        centre_how=how,
        interferers=_interferers(recording),
    )


def _write_cache(cache: Path, key: str, inputs: np.ndarray, centre_m: float, how: str) -> None:
    """Keep a night's inputs in ``cache`` (``.npz``), whole or not at all."""
    with atomic_path(cache) as partial:
        np.savez(partial, key=key, inputs=inputs, centre_m=centre_m, centre_how=how)


def _read_cache(cache: Path, key: str) -> tuple[np.ndarray, float, str] | None:
    if not cache.is_file():
        return None
    try:
        with np.load(cache) as stored:
            if str(stored["key"]) != key:
                return None
            return stored["inputs"], float(stored["centre_m"]), str(stored["centre_how"])
    except (OSError, ValueError, KeyError):
        return None


def night_names(recordings: list[Path], root: str | Path) -> list[str]:
    """Each recording's path below ``root`` without ``.npz``, folders joined by ``__``."""
    return ["__".join(path.relative_to(root).with_suffix("").parts) for path in recordings]


def load_nights(
    recordings: list[Path],
    settings: RadarFeatureSettings,
    cache_dir: str | Path,
    *,
    root: str | Path | None = None,
    workers: int = 1,
) -> list[LabelledNight]:
    """:func:`load_night` for each recording, ``workers`` at a time, with progress on stderr.

    Nights are named by :func:`night_names` below ``root`` (default: by their stems).
    """
    names = night_names(recordings, root) if root is not None else [path.stem for path in recordings]
    progress = Progress("radar inputs", len(recordings))
    nights = []
    with _pool(workers) as pool:
        for night in pool.map(
            load_night, recordings, [settings] * len(recordings), [cache_dir] * len(recordings), names
        ):
            nights.append(night)
            progress.advance()
    progress.finish(f"{sum(len(n.labels) for n in nights)} epochs from {len(nights)} nights")
    return nights


def _pool(workers: int):
    """Worker processes (spawned: the parent may hold TensorFlow, which must not be forked)."""
    if workers <= 1:
        return _SerialPool()
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn")
    )


class _SerialPool:
    """The part of an executor :func:`load_nights` uses, in this process."""

    def __enter__(self) -> _SerialPool:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    @staticmethod
    def map(function, *iterables):
        return map(function, *iterables)


def _simulate_one(
    out_dir: Path, index: int, seed: int, hours: float, settings: RadarFeatureSettings, keep_recordings: bool
) -> LabelledNight:
    this_seed = night_seed(seed, index)
    recording = out_dir / f"night_{index:03d}.npz"
    cache = out_dir / f"night_{index:03d}.inputs.npz"
    key = _cache_key(settings, seed=this_seed, hours=hours)
    cached = _read_cache(cache, key) if epochs_path(recording).is_file() else None
    if cached is not None:
        inputs, centre_m, how = cached
    else:
        parameters, hardware = wide_night(this_seed)
        simulate_night(recording, seed=this_seed, hours=hours, parameters=parameters, hardware=hardware)
        night = night_inputs(recording, settings)
        inputs, centre_m, how = night.inputs, night.sleeper.centre_m, night.sleeper.how
        _write_cache(cache, key, inputs, centre_m, how)
        if not keep_recordings:
            recording.unlink()
    labels = read_epochs(epochs_path(recording))
    return LabelledNight(
        name=recording.stem,
        inputs=inputs,
        labels=label_indices(labels),
        centre_m=centre_m,
        centre_how=how,
        interferers=_interferers(recording),
    )


def simulate_training_nights(
    out_dir: str | Path,
    *,
    nights: int,
    hours: float,
    seed: int,
    settings: RadarFeatureSettings,
    workers: int = 1,
    keep_recordings: bool = False,
) -> list[LabelledNight]:
    """Simulate and process ``nights`` wide-randomised nights into ``out_dir``.

    Night i is ``night_{i:03d}`` with seed :func:`night_seed` (``seed``, i).
    A night already done with these settings (its ``.inputs.npz`` and
    ``.epochs.csv`` there) is read back, so an interrupted run picks up where
    it stopped; a night cached with other settings is simulated again.
    """
    if not (isinstance(nights, int) and nights >= 2):
        raise DataError(f"--simulate needs at least 2 nights (one to train, one to validate), got {nights!r}")
    out_dir = make_folder(out_dir)
    progress = Progress("simulate and process nights", nights)
    done = []
    with _pool(workers) as pool:
        for night in pool.map(
            _simulate_one,
            [out_dir] * nights,
            range(nights),
            [seed] * nights,
            [hours] * nights,
            [settings] * nights,
            [keep_recordings] * nights,
        ):
            done.append(night)
            progress.advance()
    progress.finish(f"{sum(len(n.labels) for n in done)} epochs of {hours:g} h nights in {out_dir}")
    return done


def split_nights(
    nights: list[LabelledNight], *, fractions: tuple[float, float, float], seed: int
) -> dict[str, list[LabelledNight]]:
    """Nights dealt to train, validation and test in a seeded order; a night stays whole.

    Validation gets at least one night and train at least one; test gets its
    share rounded (possibly none, with few nights).

    Raises:
        DataError: fewer than two nights.
    """
    if len(nights) < 2:
        raise DataError(f"need at least 2 labelled nights (one to train, one to validate), got {len(nights)}")
    order = np.random.default_rng(seed).permutation(len(nights))
    n_validation = max(1, round(fractions[1] * len(nights)))
    n_test = min(round(fractions[2] * len(nights)), len(nights) - n_validation - 1)
    chosen = {
        "validation": order[:n_validation],
        "test": order[n_validation : n_validation + n_test],
        "train": order[n_validation + n_test :],
    }
    return {name: [nights[i] for i in sorted(chosen[name])] for name in ("train", "validation", "test")}
