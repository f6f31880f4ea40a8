"""Acconeer radar recordings (Exploration Tool ``.h5`` files) turned into the toolkit's format.

Two layouts are read, told apart by their top-level keys:

- A121 (``sessions``): ``sessions/session_S/group_G/entry_E/result/frame``
  holds (frames, sweeps, points) sparse IQ samples, a compound of int16
  ``real`` and ``imag``. ``sessions/session_S/session_config`` (JSON) gives,
  per group and sensor id, ``frame_rate``, ``sweeps_per_frame`` and the
  ``subsweeps`` (``start_point``, ``step_length``, ``num_points``,
  ``profile``...) whose points lie side by side in a sweep; the entry's
  ``sensor_id`` says which sensor, its ``metadata`` (JSON) holds
  ``base_step_length_m``. Point k of a subsweep lies at
  ``(start_point + k * step_length) * base_step_length_m``.
- A111 (``data`` and ``mode``): ``mode`` ``iq`` stores (frames, sensors, depths)
  complex samples, ``sparse`` (frames, sensors, sweeps, depths) uint16 ones;
  ``sensor_config_dump`` (JSON) holds ``sensor``, ``range_interval``,
  ``profile`` and ``update_rate``, ``session_info`` (JSON) the exact
  ``range_start_m`` and ``step_length_m``.

An *entry* is one stream of frames: ``session_0/group_0/entry_0`` in an A121
file, ``sensor_1`` in an A111 file. The sweeps of a frame are averaged
(coherent mean) into one range profile with one receiver (rx = 1,
rx_spacing_m = 0). A111 sparse samples are real: they are stored as they are
(an offset of about 2**15 included) with a zero imaginary part, and the device
string says so.

The top-level ``timestamp`` (ISO 8601, written by the Exploration Tool) becomes
the recording's ``start_time``, so pictures read in clock time. Every group,
dataset and JSON field is checked for its kind, shape and type as it is read:
a malformed file is one :class:`RadarError` naming the file, the HDF5 path or
key, and what was expected.

h5py is imported only when a file is read (``pip install h5py``).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import posixpath
import re
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import RadarError, SensingError
from sensing.radar.adc import SPEED_OF_LIGHT_M_S, write_profiles
from sensing.radar.recording import RadarConfig, is_finite_number

ACCONEER_CARRIER_HZ = 60.5e9
"""Carrier frequency of the A111 and A121 in Hz, as Acconeer documents it."""
ACCONEER_WAVELENGTH_M = SPEED_OF_LIGHT_M_S / ACCONEER_CARRIER_HZ
"""Carrier wavelength of the A111 and A121 in metres (about 4.96 mm)."""
A121_BASE_STEP_M = 2.5e-3
"""Metres per A121 ``start_point``/``step_length`` unit, for files whose metadata lacks
``base_step_length_m`` (the sensor reports about 2.502 mm, half a wavelength)."""
FRAMES_PER_CHUNK = 1024
"""Frames read from the ``.h5`` file at once."""

_A121 = "a121 sparse iq"
_A111_IQ = "a111 iq"
_A111_SPARSE = "a111 sparse (real samples, imaginary part zero)"
_A111_MODES = {
    "iq": (_A111_IQ, ("frames", "sensors", "depths"), "c", "complex"),
    "sparse": (_A111_SPARSE, ("frames", "sensors", "sweeps", "depths"), "iuf", "real numbers"),
}
"""A111 ``mode``: (kind, axes of ``data``, allowed dtype kinds, their description)."""


@dataclasses.dataclass(frozen=True)
class _Segment:
    """Evenly spaced depths side by side in a sweep: an A121 subsweep, or all A111 depths.

    ``settings`` is the rest of the subsweep's config; neighbouring segments
    join into one range only when their settings are equal.
    """

    first: int
    points: int
    start_m: float
    step_m: float
    profile: str
    settings: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One stream of frames: where it is in the file and what its numbers mean.

    ``dataset`` is the HDF5 path of the samples; ``sensor_index`` the position
    on the A111 sensors axis (0 for A121, whose entries hold one sensor).
    """

    name: str
    kind: str
    dataset: str
    sensor_index: int
    frames: int
    sweeps_per_frame: int
    frame_rate_hz: float
    segments: tuple[_Segment, ...]


def describe_acconeer(h5_path: str | Path) -> dict[str, Any]:
    """What an Acconeer recording holds, for inspection and error messages.

    Returns:
        ``{"path", "layout": "a121" | "a111", "start_time": ISO 8601 or None, "entries": {name: {"kind",
        "frames", "sweeps_per_frame", "depths", "frame_rate_hz", "segments":
        [{"start_m", "step_m", "points", "profile"}, ...]}}}``: one segment per
        A121 subsweep, one for all A111 depths.

    Raises:
        RadarError: a missing file, not HDF5, or an unknown or malformed layout.
        SensingError: h5py is not installed.
    """
    path = Path(h5_path)
    with _open(path) as file:
        layout, entries = _read_entries(file, str(path))
        start_time = _start_time(file)
    return {
        "path": str(path),
        "layout": layout,
        "start_time": start_time,
        "entries": {
            name: {
                "kind": entry.kind,
                "frames": entry.frames,
                "sweeps_per_frame": entry.sweeps_per_frame,
                "depths": sum(segment.points for segment in entry.segments),
                "frame_rate_hz": entry.frame_rate_hz,
                "segments": [
                    {
                        "start_m": segment.start_m,
                        "step_m": segment.step_m,
                        "points": segment.points,
                        "profile": segment.profile,
                    }
                    for segment in entry.segments
                ],
            }
            for name, entry in entries.items()
        },
    }


def convert_acconeer(
    h5_path: str | Path, out_path: str | Path, *, entry: str | None = None, subsweep: int | None = None
) -> Path:
    """Write one entry of an Acconeer recording as a toolkit recording.

    Args:
        h5_path: the Exploration Tool ``.h5`` file (A121 or A111 layout).
        out_path: the ``.npz`` recording to write, (frames, 1, depths) complex64.
        entry: which stream (see :func:`describe_acconeer`); may be left out
            when the file holds one.
        subsweep: convert only this A121 subsweep (0-based). Left out, all
            subsweeps are converted, which needs them to continue one evenly
            spaced range with equal settings (profile, HWAAS, gain, PRF).

    Returns:
        ``out_path``.

    Raises:
        RadarError: a missing or malformed file, an ambiguous or unknown
            ``entry``, subsweeps that do not form one range.
        SensingError: h5py is not installed.
    """
    path = Path(h5_path)
    source = str(path)
    with _open(path) as file:
        _, entries = _read_entries(file, source)
        chosen = _choose_entry(entries, entry, source)
        segments = _choose_segments(chosen, subsweep, source)
        config = _radar_config(chosen, segments, _start_time(file), source)
        first = segments[0].first
        stop = first + sum(segment.points for segment in segments)
        dataset = file[chosen.dataset]
        chunks = (
            _read_profiles(dataset, chosen, start, start + FRAMES_PER_CHUNK, source)[:, None, first:stop]
            for start in range(0, chosen.frames, FRAMES_PER_CHUNK)
        )
        return write_profiles(out_path, config, chunks, n_frames=chosen.frames, n_rx=1, n_bins=stop - first)


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise SensingError(
            "reading Acconeer .h5 recordings needs h5py: pip install 'sensing[radar]' (or pip install h5py)"
        ) from None
    return h5py


def _open(path: Path) -> Any:
    h5py = _h5py()
    if not path.is_file():
        raise RadarError(f"{path}: Acconeer recording not found")
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise RadarError(f"{path}: not an HDF5 file ({error})") from None


def _read_entries(file: Any, source: str) -> tuple[str, dict[str, _Entry]]:
    if "sessions" in file:
        return "a121", _a121_entries(file, source)
    if "data" in file and "mode" in file:
        return "a111", _a111_entries(file, source)
    raise RadarError(
        f"{source}: not an Acconeer layout this toolkit reads: expected 'sessions' (A121) "
        f"or 'data' and 'mode' (A111), found top-level keys "
        f"{', '.join(sorted(file.keys())) or 'none'}"
    )


# The file's structure, checked as it is read: each helper names the file, the HDF5 path or
# JSON key, and what was expected.


def _shown(value: object) -> str:
    """A value as an error message shows it: its repr, cut to 60 characters."""
    text = repr(value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(item: Any) -> str:
    h5py = _h5py()
    return (
        "a group" if isinstance(item, h5py.Group) else "a dataset" if isinstance(item, h5py.Dataset) else ""
    )


def _member(node: Any, key: str, kind: str, source: str) -> Any:
    """``node[key]``, which must be a ``kind`` (``"group"`` or ``"dataset"``)."""
    where = posixpath.join(node.name, key)
    item = node.get(key)
    found = _kind_of(item)
    if found != f"a {kind}":
        raise RadarError(f"{source}: {where} must be a {kind}, found {found or 'nothing'}")
    return item


def _group(node: Any, key: str, source: str) -> Any:
    return _member(node, key, "group", source)


def _dataset(node: Any, key: str, source: str) -> Any:
    return _member(node, key, "dataset", source)


def _scalar(node: Any, key: str, source: str) -> Any:
    """The one value of the scalar dataset ``node[key]``."""
    dataset = _dataset(node, key, source)
    if dataset.shape != ():
        raise RadarError(f"{source}: {dataset.name} must hold one value, got shape {dataset.shape}")
    return dataset[()]


def _text(node: Any, key: str, source: str) -> str:
    value = _scalar(node, key, source)
    where = posixpath.join(node.name, key)
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise RadarError(f"{source}: {where} must be UTF-8 text, got {_shown(value)}") from None
    if isinstance(value, str):
        return value
    raise RadarError(f"{source}: {where} must be text, got {_shown(value)}")


def _integer_scalar(node: Any, key: str, source: str) -> int:
    value = _scalar(node, key, source)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise RadarError(
            f"{source}: {posixpath.join(node.name, key)} must be an integer, got {_shown(value)}"
        )
    return int(value)


def _series(node: Any, key: str, frames: int, source: str) -> np.ndarray:
    """The 1-d numeric dataset ``node[key]`` with one finite value per frame, as float64."""
    dataset = _dataset(node, key, source)
    if dataset.dtype.kind not in "iuf" or dataset.shape != (frames,):
        raise RadarError(
            f"{source}: {dataset.name} must hold one number per frame ({frames}), got "
            f"{dataset.dtype} of shape {dataset.shape}"
        )
    values = np.asarray(dataset[()], dtype=np.float64)
    if not np.isfinite(values).all():
        raise RadarError(f"{source}: {dataset.name} holds NaN or infinite values")
    return values


def _json(node: Any, key: str, source: str) -> dict[str, Any]:
    where = posixpath.join(node.name, key)
    try:
        value = json.loads(_text(node, key, source))
    except json.JSONDecodeError as error:
        raise RadarError(f"{source}: {where} is not valid JSON ({error})") from None
    return _object(value, f"{source}: {where}")


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RadarError(f"{where} must be a JSON object, got {_shown(value)}")
    return value


def _get(values: dict[str, Any], key: str, where: str) -> Any:
    if key not in values:
        raise RadarError(f"{where} lacks '{key}'")
    return values[key]


def _int(values: dict[str, Any], key: str, where: str, *, minimum: int | None = None) -> int:
    value = _get(values, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        expected = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise RadarError(f"{where}: '{key}' must be {expected}, got {_shown(value)}")
    return value


def _positive(value: object, what: str) -> float:
    """``value`` as a positive finite float; ``what`` names it in the error."""
    if not is_finite_number(value) or float(value) <= 0:  # type: ignore[arg-type]
        raise RadarError(f"{what} must be a positive number, got {_shown(value)}")
    return float(value)  # type: ignore[arg-type]


def _optional_rate(values: dict[str, Any], key: str, where: str) -> float | None:
    """A rate in Hz that may be left unset (absent or null: as fast as the sensor runs)."""
    value = values.get(key)
    return None if value is None else _positive(value, f"{where}: '{key}'")


def _numbered(group: Any, prefix: str) -> list[str]:
    """Names ``prefix0``, ``prefix1``... in ``group``, in numeric order."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)")
    names = [name for name in group if pattern.fullmatch(name)]
    return sorted(names, key=lambda name: int(name[len(prefix) :]))


def _profile(config: dict[str, Any]) -> str:
    return str(config.get("profile", "unknown")).removeprefix("PROFILE_")


def _start_time(file: Any) -> str | None:
    """When the recording began, from the top-level ``timestamp`` the Exploration Tool writes
    (ISO 8601); None when it is missing or unreadable, since only the pictures' clock needs it."""
    if not isinstance(file.get("timestamp"), _h5py().Dataset):
        return None
    try:
        return datetime.datetime.fromisoformat(_text(file, "timestamp", "")).isoformat()
    except (RadarError, ValueError):
        return None


def _rate_from_times(times_s: np.ndarray, what: str, source: str) -> float:
    """Frames per second from the frames' times in seconds (median spacing)."""
    if times_s.size < 2:
        raise RadarError(
            f"{source}: the frame rate is unknown: no rate in the config and {times_s.size} {what}"
        )
    period_s = float(np.median(np.diff(times_s)))
    if not period_s > 0:
        raise RadarError(f"{source}: the frame rate is unknown: {what} do not increase")
    return 1.0 / period_s


def _a121_entries(file: Any, source: str) -> dict[str, _Entry]:
    sessions = _group(file, "sessions", source)
    entries = {}
    for session_name in _numbered(sessions, "session_"):
        session = _group(sessions, session_name, source)
        session_config = _json(session, "session_config", source)
        for group_name in _numbered(session, "group_"):
            for entry_name in _numbered(_group(session, group_name, source), "entry_"):
                name = f"{session_name}/{group_name}/{entry_name}"
                group_index = int(group_name.removeprefix("group_"))
                entries[name] = _a121_entry(file, name, group_index, session_config, source)
    if not entries:
        raise RadarError(
            f"{source}: 'sessions' holds no session_N/group_N/entry_N "
            f"(has: {', '.join(sessions.keys()) or 'nothing'})"
        )
    return entries


def _a121_sensor_config(
    session_config: dict[str, Any], group_index: int, sensor_id: int, where: str
) -> dict[str, Any]:
    """The config of sensor ``sensor_id`` in group ``group_index`` of the session config."""
    groups = session_config.get("groups")
    if not isinstance(groups, list) or not all(isinstance(group, dict) for group in groups):
        raise RadarError(
            f"{where}: session_config 'groups' must be a list of JSON objects, got {_shown(groups)}"
        )
    if group_index >= len(groups) or str(sensor_id) not in groups[group_index]:
        raise RadarError(
            f"{where}: session_config has no config for sensor {sensor_id} in group {group_index}"
        )
    return _object(groups[group_index][str(sensor_id)], f"{where}: the config of sensor {sensor_id}")


def _a121_segments(sensor_config: dict[str, Any], base_step_m: float, where: str) -> list[_Segment]:
    """One segment per subsweep of a sensor config, side by side in a sweep."""
    subsweeps = _get(sensor_config, "subsweeps", f"{where}: sensor config")
    if not isinstance(subsweeps, list) or not subsweeps:
        raise RadarError(
            f"{where}: sensor config 'subsweeps' must be a non-empty list, got {_shown(subsweeps)}"
        )
    segments: list[_Segment] = []
    first = 0
    for index, value in enumerate(subsweeps):
        subsweep = _object(value, f"{where}: subsweep {index}")
        start_point = _int(subsweep, "start_point", f"{where}: subsweep {index}")
        step_length = _int(subsweep, "step_length", f"{where}: subsweep {index}", minimum=1)
        num_points = _int(subsweep, "num_points", f"{where}: subsweep {index}", minimum=1)
        rest = {key: value for key, value in subsweep.items() if key not in ("start_point", "num_points")}
        segments.append(
            _Segment(
                first=first,
                points=num_points,
                start_m=start_point * base_step_m,
                step_m=step_length * base_step_m,
                profile=_profile(subsweep),
                settings=rest,
            )
        )
        first += num_points
    return segments


def _a121_entry(
    file: Any, name: str, group_index: int, session_config: dict[str, Any], source: str
) -> _Entry:
    where = f"{source}, {name}"
    node = _group(file["sessions"], name, source)
    sensor_id = _integer_scalar(node, "sensor_id", source)
    sensor_config = _a121_sensor_config(session_config, group_index, sensor_id, where)
    sweeps = _int(sensor_config, "sweeps_per_frame", f"{where}: sensor config", minimum=1)
    metadata = _json(node, "metadata", source)
    base_step_m = _positive(
        metadata.get("base_step_length_m", A121_BASE_STEP_M), f"{where}: metadata 'base_step_length_m'"
    )
    segments = _a121_segments(sensor_config, base_step_m, where)
    points = sum(segment.points for segment in segments)
    frame = _dataset(node, "result/frame", source)
    fields = frame.dtype.fields or {}
    if not {"real", "imag"} <= set(fields) or any(
        fields[part][0].kind not in "iuf" for part in ("real", "imag")
    ):
        raise RadarError(
            f"{source}: {frame.name} must be a compound of numeric 'real' and 'imag', got {frame.dtype}"
        )
    if frame.ndim != 3 or frame.shape[1:] != (sweeps, points) or frame.shape[0] == 0:
        raise RadarError(
            f"{source}: {frame.name} has shape {frame.shape}, the config expects "
            f"(frames, {sweeps} sweeps, {points} points)"
        )
    frame_rate_hz = _a121_frame_rate(file, node, sensor_config, session_config, where)
    return _Entry(
        name=name,
        kind=_A121,
        dataset=frame.name,
        sensor_index=0,
        frames=frame.shape[0],
        sweeps_per_frame=sweeps,
        frame_rate_hz=frame_rate_hz,
        segments=tuple(segments),
    )


def _a121_frame_rate(
    file: Any, node: Any, sensor_config: dict[str, Any], session_config: dict[str, Any], where: str
) -> float:
    """The configured frame (or session update) rate, else one measured from the frames' ticks."""
    rate = _optional_rate(sensor_config, "frame_rate", f"{where}: sensor config") or _optional_rate(
        session_config, "update_rate", f"{where}: session_config"
    )
    if rate:
        return rate
    server_info = _json(file, "server_info", where)
    ticks_per_second = _positive(
        _get(server_info, "ticks_per_second", f"{where}: server_info"),
        f"{where}: server_info 'ticks_per_second'",
    )
    frames = _dataset(node, "result/frame", where).shape[0]
    ticks = _series(node, "result/tick", frames, where)
    return _rate_from_times(ticks / ticks_per_second, "frame ticks", where)


def _a111_entries(file: Any, source: str) -> dict[str, _Entry]:
    mode = _text(file, "mode", source)
    if mode not in _A111_MODES:
        raise RadarError(
            f"{source}: A111 mode '{mode}' is not supported; only {' and '.join(_A111_MODES)} "
            f"data carry range profiles"
        )
    kind, axes, dtype_kinds, dtype_text = _A111_MODES[mode]
    data = _dataset(file, "data", source)
    if data.dtype.kind not in dtype_kinds:
        raise RadarError(f"{source}: A111 {mode} data must be {dtype_text}, got {data.dtype}")
    if data.ndim != len(axes) or 0 in data.shape:
        raise RadarError(f"{source}: A111 {mode} data must have shape ({', '.join(axes)}), got {data.shape}")
    config = _json(file, "sensor_config_dump", source)
    sensors = _get(config, "sensor", f"{source}: sensor_config_dump")
    if (
        not isinstance(sensors, list)
        or len(sensors) != data.shape[1]
        or not all(isinstance(sensor, int) and not isinstance(sensor, bool) for sensor in sensors)
    ):
        raise RadarError(
            f"{source}: sensor_config_dump 'sensor' must list the {data.shape[1]} sensor number(s) "
            f"data holds, got {_shown(sensors)}"
        )
    depths = data.shape[-1]
    start_m, step_m = _a111_range(file, config, depths, source)
    segment = _Segment(
        first=0, points=depths, start_m=start_m, step_m=step_m, profile=_profile(config), settings={}
    )
    frame_rate_hz = _a111_frame_rate(file, config, data.shape[0], source)
    sweeps = data.shape[2] if mode == "sparse" else 1
    return {
        f"sensor_{sensor}": _Entry(
            name=f"sensor_{sensor}",
            kind=kind,
            dataset=data.name,
            sensor_index=index,
            frames=data.shape[0],
            sweeps_per_frame=sweeps,
            frame_rate_hz=frame_rate_hz,
            segments=(segment,),
        )
        for index, sensor in enumerate(sensors)
    }


def _a111_range(file: Any, config: dict[str, Any], depths: int, source: str) -> tuple[float, float]:
    """(range of depth 0, metres between depths): from session_info, else from range_interval."""
    info = _json(file, "session_info", source) if "session_info" in file else {}
    if "range_start_m" in info and "step_length_m" in info:
        where = f"{source}: session_info"
        start_m = info["range_start_m"]
        if not is_finite_number(start_m):
            raise RadarError(f"{where} 'range_start_m' must be a number, got {_shown(start_m)}")
        return float(start_m), _positive(info["step_length_m"], f"{where} 'step_length_m'")
    interval = _get(config, "range_interval", f"{source}: sensor_config_dump")
    if (
        not isinstance(interval, list)
        or len(interval) != 2
        or not all(map(is_finite_number, interval))
        or not interval[0] < interval[1]
    ):
        raise RadarError(
            f"{source}: sensor_config_dump 'range_interval' must be [start_m, stop_m] with "
            f"start_m < stop_m, got {_shown(interval)}"
        )
    start_m, stop_m = float(interval[0]), float(interval[1])
    return start_m, (stop_m - start_m) / max(depths - 1, 1)


def _a111_frame_rate(file: Any, config: dict[str, Any], frames: int, source: str) -> float:
    """The configured update rate, else one measured from ``sample_times``."""
    rate = _optional_rate(config, "update_rate", f"{source}: sensor_config_dump")
    if rate:
        return rate
    if "sample_times" not in file:
        raise RadarError(
            f"{source}: the frame rate is unknown: no update_rate in sensor_config_dump and no sample_times"
        )
    return _rate_from_times(_series(file, "sample_times", frames, source), "sample_times", source)


def _choose_entry(entries: dict[str, _Entry], entry: str | None, source: str) -> _Entry:
    if entry is None:
        if len(entries) == 1:
            return next(iter(entries.values()))
        raise RadarError(
            f"{source}: holds {len(entries)} entries ({', '.join(entries)}); choose one "
            f"(sensing radar convert --entry NAME; entry= in Python)"
        )
    if entry not in entries:
        raise RadarError(f"{source}: no entry {entry!r} (has: {', '.join(entries)})")
    return entries[entry]


def _segments_text(segments: tuple[_Segment, ...]) -> str:
    return "; ".join(
        f"{index}: {segment.points} points from {segment.start_m:.3f} m every "
        f"{segment.step_m * 1000:.1f} mm, profile {segment.profile}"
        for index, segment in enumerate(segments)
    )


def _choose_segments(entry: _Entry, subsweep: int | None, source: str) -> tuple[_Segment, ...]:
    segments = entry.segments
    if subsweep is not None:
        if isinstance(subsweep, bool) or not isinstance(subsweep, int) or not 0 <= subsweep < len(segments):
            raise RadarError(
                f"{source}, {entry.name}: subsweep must be 0 to {len(segments) - 1}, "
                f"got {subsweep!r} ({_segments_text(segments)})"
            )
        return (segments[subsweep],)
    for index, (one, two) in enumerate(itertools.pairwise(segments)):
        problem = _why_apart(one, two)
        if problem:
            raise RadarError(
                f"{source}, {entry.name}: subsweeps {index} and {index + 1} {problem}, so "
                f"they cannot be joined into one range ({_segments_text(segments)}); "
                f"convert one with --subsweep N (subsweep=N in Python)"
            )
    return segments


def _why_apart(one: _Segment, two: _Segment) -> str:
    """Why neighbouring segments cannot join into one range; empty when they can."""
    differ = sorted(
        key
        for key in one.settings.keys() | two.settings.keys()
        if one.settings.get(key) != two.settings.get(key)
    )
    if differ:
        return f"differ in {', '.join(differ)}"
    next_m = one.start_m + one.points * one.step_m
    if abs(two.start_m - next_m) > 1e-9:
        return f"are not evenly spaced (the second starts at {two.start_m:.4f} m, not {next_m:.4f} m)"
    return ""


def _radar_config(
    entry: _Entry, segments: tuple[_Segment, ...], start_time: str | None, source: str
) -> RadarConfig:
    try:
        return RadarConfig(
            frame_rate_hz=entry.frame_rate_hz,
            range_resolution_m=segments[0].step_m,
            range_offset_m=segments[0].start_m,
            wavelength_m=ACCONEER_WAVELENGTH_M,
            rx_spacing_m=0.0,
            device=f"acconeer {entry.kind}, profile {segments[0].profile}",
            start_time=start_time,
        )
    except RadarError as error:
        raise RadarError(f"{source}, {entry.name}: {error}") from None


def _read_profiles(dataset: Any, entry: _Entry, start: int, stop: int, source: str) -> np.ndarray:
    """(frames, depths) complex64: frames [start, stop), sweeps averaged.

    Raises:
        RadarError: the samples cannot be read (a damaged file) or hold NaN or infinite values.
    """
    try:
        if entry.kind == _A121:
            block = dataset[start:stop]
            samples = block["real"].astype(np.float64) + 1j * block["imag"].astype(np.float64)
            profiles = samples.mean(axis=1)
        else:
            block = dataset[start:stop, entry.sensor_index]
            profiles = block if entry.kind == _A111_IQ else block.astype(np.float64).mean(axis=1)
    except (OSError, ValueError, TypeError) as error:
        raise RadarError(f"{source}: cannot read {dataset.name} frames {start} to {stop} ({error})") from None
    bad = ~np.isfinite(profiles).all(axis=1)
    if bad.any():
        raise RadarError(
            f"{source}, {entry.name}: frame {start + int(np.argmax(bad))} holds NaN or infinite samples"
        )
    return np.asarray(profiles.astype(np.complex64))
