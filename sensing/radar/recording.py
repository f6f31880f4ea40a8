"""The radar recording format: complex range profiles in an ``.npz``, epoch labels in a CSV.

``NAME.npz`` holds two arrays:

- ``iq``: complex64, shape (frames, rx, range_bins): each frame's complex range
  profile per receiver (a range FFT of the chirp samples, averaged over the
  chirps of one burst);
- ``config``: a 0-d string array with the JSON object of :class:`RadarConfig`
  (plain text: an archive holding a pickled Python object is refused, never loaded).

The archive is written uncompressed, so :class:`Recording` reads any span of
frames without loading the rest (an 8-hour night at 15 Hz with 3 receivers and
100 bins is about 1 GB). :class:`RecordingWriter` writes it under a temporary
name and renames it into place when complete, so a crash or a full disk leaves
the previous file or none, never a part of one.

``NAME.epochs.csv`` beside it (optional) has the header ``start_s,label`` and
one row per 30 s epoch, label one of :data:`EPOCH_LABELS`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import numbers
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from sensing.errors import RadarError
from sensing.files import temporary_name, write_atomically, write_error

EPOCH_S = 30.0
"""Length of one labelled epoch in seconds."""
EPOCH_LABELS = ("absent", "awake", "asleep")
"""Labels of an epoch, in the order models output them."""
IQ_DTYPE = np.dtype(np.complex64)
MAX_CONFIG_BYTES = 1 << 20
"""Largest ``config.npy`` member read: a config is a short JSON text."""
ARCHIVE_FAULTS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OSError,
    struct.error,
)
"""What :mod:`zipfile` and :mod:`numpy.lib.format` raise on a damaged, truncated or foreign archive."""


def is_finite_number(value: object) -> bool:
    """A finite real number (numpy scalars included), not a bool."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        return False
    try:
        return bool(np.isfinite(float(value)))
    except OverflowError:  # an integer beyond any float
        return False


def parse_start_time(text: object, *, what: str) -> datetime.datetime:
    """An ISO 8601 date and time (``2024-03-01T23:10:00``, a zone allowed) as a datetime.

    Raises:
        RadarError: not a string holding one; the message names ``what``.
    """
    if isinstance(text, str):
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            pass
    raise RadarError(f"{what} must be a date and time such as 2024-03-01T23:10:00, got {text!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RadarConfig:
    """What a recording's numbers mean.

    Attributes:
        frame_rate_hz: frames per second.
        range_resolution_m: metres between two range bins.
        range_offset_m: range of bin 0 in metres.
        wavelength_m: carrier wavelength in metres (about 5 mm at 60 GHz).
        rx_spacing_m: distance between neighbouring receive antennas in metres.
        device: free text naming the radar (``"simulated soli-like"``, ``"acconeer a121"``).
        start_time: when frame 0 was recorded, ISO 8601 (``"2024-03-01T23:10:00"``), or
            None when unknown (pictures then show time from the start).
    """

    frame_rate_hz: float
    range_resolution_m: float
    range_offset_m: float
    wavelength_m: float
    rx_spacing_m: float
    device: str
    start_time: str | None = None

    def __post_init__(self) -> None:
        for name in ("frame_rate_hz", "range_resolution_m", "wavelength_m"):
            value = getattr(self, name)
            if not (is_finite_number(value) and value > 0):
                raise RadarError(f"radar config: {name} must be a positive number, got {value!r}")
        for name in ("range_offset_m", "rx_spacing_m"):
            value = getattr(self, name)
            if not (is_finite_number(value) and value >= 0):
                raise RadarError(f"radar config: {name} must be a number >= 0, got {value!r}")
        if not isinstance(self.device, str):
            raise RadarError(f"radar config: device must be text, got {self.device!r}")
        if self.start_time is not None:
            parse_start_time(self.start_time, what="radar config: start_time")

    def range_m(self, n_bins: int) -> np.ndarray:
        """(n_bins,) range of each bin in metres."""
        return self.range_offset_m + self.range_resolution_m * np.arange(n_bins)

    def started_at(self) -> datetime.datetime | None:
        """When frame 0 was recorded, or None when unknown."""
        return None if self.start_time is None else datetime.datetime.fromisoformat(self.start_time)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, source: str) -> RadarConfig:
        """Parse and check a config; errors name ``source`` and the missing or bad key."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise RadarError(f"{source}: config is not valid JSON ({error})") from None
        if not isinstance(values, dict):
            raise RadarError(f"{source}: config must be a JSON object, got {type(values).__name__}")
        fields = [field.name for field in dataclasses.fields(cls)]
        required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
        missing = [name for name in required if name not in values]
        if missing:
            raise RadarError(f"{source}: config lacks {', '.join(missing)} (needs {', '.join(required)})")
        try:
            return cls(**{name: values[name] for name in fields if name in values})
        except RadarError as error:
            raise RadarError(f"{source}: {error}") from None


def _check_iq(iq: np.ndarray, source: str) -> None:
    if iq.dtype != IQ_DTYPE:
        raise RadarError(f"{source}: iq must be complex64, got {iq.dtype}")
    if iq.ndim != 3 or 0 in iq.shape:
        raise RadarError(f"{source}: iq must have shape (frames, rx, range_bins), got {iq.shape}")


def _check_finite(chunk: np.ndarray, first_frame: int, source: str) -> None:
    bad = ~np.isfinite(chunk).all(axis=(1, 2))
    if bad.any():
        raise RadarError(f"{source}: frame {first_frame + int(np.argmax(bad))} holds NaN or infinite values")


class RecordingWriter:
    """Writes a recording frame chunk by frame chunk, never holding all of it.

    >>> with RecordingWriter(path, config, n_frames=54000, n_rx=3, n_bins=100) as writer:
    ...     writer.write(chunk)  # (frames, 3, 100) complex64, in order

    The frames go to a hidden temporary file beside ``path``
    (:func:`sensing.files.temporary_name`), renamed to ``path`` by :meth:`close`
    once every announced frame is written. Any failure removes the temporary
    file and leaves ``path`` as it was; a full disk or another write failure
    raises :class:`sensing.files.WriteError` naming ``path``.
    """

    def __init__(
        self, path: str | Path, config: RadarConfig, *, n_frames: int, n_rx: int, n_bins: int
    ) -> None:
        self.path = Path(path)
        self.shape = (n_frames, n_rx, n_bins)
        self.written = 0
        self._partial = temporary_name(self.path)
        try:
            self._archive = zipfile.ZipFile(
                self._partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True
            )
        except OSError as error:
            raise write_error(self.path, error) from None
        try:
            self._archive.writestr(_entry("config.npy"), _npy_bytes(np.array(config.to_json())))
            self._member = self._archive.open(_entry("iq.npy"), "w", force_zip64=True)
            npy_format.write_array_header_1_0(
                self._member,
                {"descr": npy_format.dtype_to_descr(IQ_DTYPE), "fortran_order": False, "shape": self.shape},
            )
        except OSError as error:
            self.abandon()
            raise write_error(self.path, error) from None

    def write(self, chunk: np.ndarray) -> None:
        """Append (frames, rx, range_bins) complex64 frames."""
        _check_iq(chunk, str(self.path))
        if chunk.shape[1:] != self.shape[1:]:
            raise RadarError(
                f"{self.path}: chunk shape {chunk.shape} does not match "
                f"(frames, {self.shape[1]}, {self.shape[2]})"
            )
        if self.written + chunk.shape[0] > self.shape[0]:
            raise RadarError(f"{self.path}: more than the {self.shape[0]} frames announced")
        _check_finite(chunk, self.written, str(self.path))
        try:
            self._member.write(np.ascontiguousarray(chunk).tobytes())
        except OSError as error:
            self.abandon()
            raise write_error(self.path, error) from None
        self.written += chunk.shape[0]

    def close(self) -> None:
        """Finish the file and move it into place.

        Raises:
            RadarError: fewer frames came than announced (nothing is left behind).
            WriteError: the file could not be finished (a full disk).
        """
        if self.written != self.shape[0]:
            self.abandon()
            raise RadarError(f"{self.path}: {self.written} frames written, {self.shape[0]} announced")
        try:
            self._member.close()
            self._archive.close()
            os.replace(self._partial, self.path)
        except OSError as error:
            self.abandon()
            raise write_error(self.path, error) from None

    def abandon(self) -> None:
        """Close and remove the temporary file (after an error while writing)."""
        for close in (getattr(self, "_member", None), self._archive):
            try:
                if close is not None:
                    close.close()
            except (OSError, ValueError):
                pass  # the file is being discarded; what failed is raised by the caller
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()


def _entry(name: str) -> zipfile.ZipInfo:
    """An archive entry with a fixed date, so the same recording gives the same bytes."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def write_recording(path: str | Path, iq: np.ndarray, config: RadarConfig) -> Path:
    """Write a whole recording held in memory; returns the path."""
    _check_iq(iq, str(path))
    with RecordingWriter(path, config, n_frames=iq.shape[0], n_rx=iq.shape[1], n_bins=iq.shape[2]) as writer:
        writer.write(iq)
    return Path(path)


def _cause(error: BaseException) -> str:
    """An exception's message, or its type's name when it has none."""
    return str(error) or type(error).__name__


def _npy_header(member: IO[bytes], name: str, source: str) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """(shape, fortran_order, dtype) from the header of an ``.npy`` stream, leaving it at the data."""
    version = npy_format.read_magic(member)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(member)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(member)
    raise RadarError(
        f"{source}: {name} is in .npy format version {version[0]}.{version[1]}; expected 1.0 or 2.0"
    )


def _read_config(archive: zipfile.ZipFile, source: str) -> RadarConfig:
    """The :class:`RadarConfig` in the archive's ``config.npy``, checked before anything is loaded."""
    info = archive.getinfo("config.npy")
    if info.file_size > MAX_CONFIG_BYTES:
        raise RadarError(f"{source}: config holds {info.file_size} bytes; expected a short JSON text")
    data = archive.read(info)  # checks the CRC
    shape, _, dtype = _npy_header(io.BytesIO(data), "config", source)
    if dtype.hasobject:
        raise RadarError(
            f"{source}: config is a pickled Python object, which is never loaded; store its JSON "
            f"text instead: config=np.array(json.dumps(values))"
        )
    if shape != () or dtype.kind not in "US":
        raise RadarError(f"{source}: config must be a 0-d string array, got {dtype} of shape {shape}")
    config = np.load(io.BytesIO(data), allow_pickle=False)
    text = config.item()
    return RadarConfig.from_json(text.decode() if isinstance(text, bytes) else str(text), source=source)


def _member_data_start(file: BinaryIO, info: zipfile.ZipInfo, source: str) -> int:
    """Byte offset in the archive where an uncompressed member's contents begin.

    Read from the member's local header (signature, then at bytes 26-29 the
    lengths of its name and extra field), so spans are read straight from the
    file instead of through zipfile's sequential reader.
    """
    file.seek(info.header_offset)
    header = file.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise RadarError(f"{source}: corrupt archive (bad local header of {info.filename})")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return int(info.header_offset + 30 + name_length + extra_length)


class Recording:
    """A recording on disk, read in spans of frames.

    Opening it checks everything but the frames' values: the archive, both
    members, the config and the shape and type of ``iq``; every fault (a
    damaged, truncated or foreign file, a missing member, a pickled config, a
    wrong dtype or shape) is a :class:`RadarError` naming the file. NaN or
    infinite frames are found when read.

    Attributes:
        path, config: the file and its :class:`RadarConfig`.
        n_frames, n_rx, n_bins: the shape of ``iq``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        source = str(self.path)
        if self.path.is_dir():
            raise RadarError(f"{source}: is a folder, expected a radar recording (.npz)")
        if not self.path.is_file():
            raise RadarError(f"{source}: recording not found")
        try:
            self._archive = zipfile.ZipFile(self.path)
        except ARCHIVE_FAULTS as error:
            raise RadarError(
                f"{source}: not an .npz archive (damaged, truncated or another format: {_cause(error)})"
            ) from None
        try:
            self._open(source)
        except ARCHIVE_FAULTS as error:
            self.close()
            raise RadarError(f"{source}: damaged archive ({_cause(error)})") from None
        except BaseException:
            self.close()
            raise

    def _open(self, source: str) -> None:
        """Read and check the config and the layout of ``iq``; open the file for reading spans."""
        names = set(self._archive.namelist())
        for needed in ("iq.npy", "config.npy"):
            if needed not in names:
                raise RadarError(
                    f"{source}: no '{needed[:-4]}' array (has: "
                    f"{', '.join(sorted(n.removesuffix('.npy') for n in names)) or 'nothing'})"
                )
        self.config = _read_config(self._archive, source)
        info = self._archive.getinfo("iq.npy")
        if info.compress_type != zipfile.ZIP_STORED:
            raise RadarError(
                f"{source}: iq is compressed; write recordings with "
                f"sensing.radar.recording.write_recording (np.savez, not savez_compressed)"
            )
        with self._archive.open(info) as member:
            shape, fortran_order, dtype = _npy_header(member, "iq", source)
            data_offset = member.tell()
        if dtype != IQ_DTYPE:
            raise RadarError(f"{source}: iq must be complex64, got {dtype}")
        if len(shape) != 3 or 0 in shape:
            raise RadarError(f"{source}: iq must have shape (frames, rx, range_bins), got {shape}")
        if fortran_order:
            raise RadarError(f"{source}: iq is stored in Fortran order; save a C-ordered array")
        self.n_frames, self.n_rx, self.n_bins = shape
        if info.file_size < data_offset + self.n_frames * self._frame_bytes:
            raise RadarError(
                f"{source}: truncated: iq announces {self.n_frames} frames but holds "
                f"{max(0, info.file_size - data_offset) // self._frame_bytes}"
            )
        self._file = open(self.path, "rb")  # closed by close()
        self._iq_start = _member_data_start(self._file, info, source) + data_offset

    @property
    def _frame_bytes(self) -> int:
        return self.n_rx * self.n_bins * IQ_DTYPE.itemsize

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.config.frame_rate_hz

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Frames [start, stop) as (frames, rx, range_bins) complex64.

        Raises:
            RadarError: a span outside the recording, frames missing from the file
                (cut short since it was opened) or holding NaN or infinite values.
        """
        stop = self.n_frames if stop is None else min(stop, self.n_frames)
        if not 0 <= start <= stop:
            raise RadarError(f"{self.path}: cannot read frames {start} to {stop} of {self.n_frames}")
        self._file.seek(self._iq_start + start * self._frame_bytes)
        data = self._file.read((stop - start) * self._frame_bytes)
        if len(data) != (stop - start) * self._frame_bytes:
            raise RadarError(
                f"{self.path}: truncated: frame {start + len(data) // self._frame_bytes} is missing"
            )
        chunk = np.frombuffer(data, dtype=IQ_DTYPE).reshape(stop - start, self.n_rx, self.n_bins)
        _check_finite(chunk, start, str(self.path))
        return chunk

    def chunks(self, frames_per_chunk: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first frame, frames) for consecutive spans of at most ``frames_per_chunk`` frames."""
        for start in range(0, self.n_frames, frames_per_chunk):
            yield start, self.read(start, start + frames_per_chunk)

    def close(self) -> None:
        if hasattr(self, "_file"):
            self._file.close()
        self._archive.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def epochs_path(recording_path: str | Path) -> Path:
    """``NAME.epochs.csv`` beside ``NAME.npz``."""
    path = Path(recording_path)
    return path.with_name(path.stem + ".epochs.csv")


def write_epochs(path: str | Path, labels: list[str]) -> Path:
    """Write one row per 30 s epoch: ``start_s,label`` (atomically, :func:`sensing.files.write_atomically`)."""
    unknown = sorted(set(labels) - set(EPOCH_LABELS))
    if unknown:
        raise RadarError(f"epoch labels must be {', '.join(EPOCH_LABELS)}; got {unknown}")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["start_s", "label"])
    for index, label in enumerate(labels):
        writer.writerow([f"{index * EPOCH_S:g}", label])
    return write_atomically(path, text.getvalue())


def read_epochs(path: str | Path) -> list[str]:
    """The label of each 30 s epoch, in order, from an ``epochs.csv``.

    Raises:
        RadarError: not a text file, missing columns, an unknown label, or starts
            that are not consecutive multiples of 30 s from 0.
    """
    path = Path(path)
    if not path.is_file():
        raise RadarError(f"{path}: epoch labels not found")
    try:
        with open(path, newline="") as handle:
            return _epoch_rows(csv.DictReader(handle), path)
    except (UnicodeDecodeError, csv.Error) as error:
        raise RadarError(f"{path}: not a CSV text file of epoch labels ({error})") from None


def _epoch_rows(reader: csv.DictReader[str], path: Path) -> list[str]:
    """The labels of an ``epochs.csv`` being read, checked row by row."""
    missing = [column for column in ("start_s", "label") if column not in (reader.fieldnames or [])]
    if missing:
        raise RadarError(f"{path}: missing column(s) {', '.join(missing)}; the header must be start_s,label")
    labels: list[str] = []
    for line, row in enumerate(reader, start=2):
        if row["label"] not in EPOCH_LABELS:
            raise RadarError(
                f"{path}, line {line}: label {row['label']!r} is not one of {', '.join(EPOCH_LABELS)}"
            )
        try:
            start_s = float(row["start_s"])
        except (TypeError, ValueError):
            raise RadarError(f"{path}, line {line}: start_s {row['start_s']!r} is not a number") from None
        if abs(start_s - len(labels) * EPOCH_S) > 1e-6:
            raise RadarError(
                f"{path}, line {line}: start_s {start_s:g} should be "
                f"{len(labels) * EPOCH_S:g} (one row per {EPOCH_S:g} s epoch, in order)"
            )
        labels.append(row["label"])
    return labels
