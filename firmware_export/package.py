"""``sensing export firmware``: a trained model as a drop-in C/C++ package for TFLite Micro.

Steps: find the int8 model (a run folder's ``model_int8.tflite``, an int8
``.tflite``, by default the bundled microcontroller model; a run with only
``model.keras`` is quantized first by the command line, see
:func:`needs_quantizing`), check that TFLite Micro has
every op it uses, strip what a microcontroller does not need (tensor names,
signatures, metadata), measure the tensor arena in TFLite Micro's own
interpreter, then write the sources, the golden vectors and the size report,
and check that TFLite Micro and ai-edge-litert give the same int8 outputs on
the golden inputs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from firmware_export.build_files import write_build_files
from firmware_export.c_source import check_name
from firmware_export.device_c import write_device
from firmware_export.events_c import write_events
from firmware_export.examples import write_examples
from firmware_export.frontend_c import (
    DELTA_TOLERANCE,
    LOG_MEL_TOLERANCE,
    write_frontend,
)
from firmware_export.golden import quantize, write_golden
from firmware_export.micro import (
    ARENA_MARGIN,
    exported_arena,
    micro_outputs,
    minimum_arena,
)
from firmware_export.model_data import write_model_data
from firmware_export.ops import kernel_files, model_ops, write_ops_header
from firmware_export.settings_header import Quantization, write_settings_header
from firmware_export.size_report import SizeReport, multiply_adds
from sensing.audio.events import EventSettings, event_thresholds
from sensing.audio.model_file import read_metadata
from sensing.bundled import COUGH_SNORE_MICRO
from sensing.errors import SensingError
from sensing.files import WriteError, make_folder, write_atomically, write_error
from sensing.run_folder import RunFolder
from sensing.tflite.graph import read_graph
from sensing.tflite.interpreter import load_interpreter

DEFAULT_MODEL = COUGH_SNORE_MICRO
"""The bundled int8 cough/snore model sized for microcontrollers."""


def _quantization(detail: dict, what: str, path: Path) -> Quantization:
    scale, zero_point = detail["quantization"]
    if np.dtype(detail["dtype"]) != np.int8 or scale <= 0:
        raise SensingError(
            f"{path}: the {what} is {np.dtype(detail['dtype']).name}, not int8; "
            f"firmware needs a full-integer int8 model (give the run folder to "
            f"quantize it, or model_int8.tflite from `sensing prune`)"
        )
    return Quantization(scale=float(scale), zero_point=int(zero_point))


def needs_quantizing(model: Path) -> bool:
    """True for a run folder that has no ``model_int8.tflite`` but a ``model.keras`` with
    ``config.json``: it must be quantized first (``training.audio.quantize.quantize_run``, which
    needs the ``train`` extra)."""
    run = RunFolder(model)
    if not model.is_dir() or run.int8_model.is_file():
        return False
    if run.keras_model.is_file() and run.is_run():
        _require_log_mel(run.frontend(), model)
        return True
    return False


def resolve_model(model: Path | None) -> Path:
    """The int8 ``.tflite`` to export for ``--model`` (see the module docstring)."""
    if model is None:
        return DEFAULT_MODEL
    if model.is_dir():
        if RunFolder(model).int8_model.is_file():
            return RunFolder(model).int8_model
        if needs_quantizing(model):
            raise SensingError(
                f"{model}: has no model_int8.tflite; quantize its model.keras first "
                f"(training.audio.quantize.quantize_run; sensing export firmware does it)"
            )
        raise SensingError(
            f"{model}: no model_int8.tflite and no model.keras with config.json; "
            f"give a run folder from `sensing train audio` or `sensing prune`"
        )
    if not model.is_file():
        raise SensingError(f"{model}: not found")
    return model


def _require_log_mel(frontend: str, source: Path) -> None:
    if frontend != "mel":
        raise SensingError(
            f"{source}: a {frontend} model; the firmware package carries the log-mel "
            f"frontend in C, so it exports models trained with --frontend mel"
        )


def strip_for_micro(model: bytes) -> bytes:
    """The flatbuffer without tensor names, signatures and metadata (unused by TFLite Micro).

    Read and written with the TFLite schema's generated object API that
    ai-edge-litert ships (``schema_py_generated``), so no TensorFlow is needed.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    flatbuffer = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    for subgraph in flatbuffer.subgraphs or []:
        for tensor in subgraph.tensors or []:
            tensor.name = b""
    flatbuffer.signatureDefs = None
    flatbuffer.metadata = None
    builder = flatbuffers.Builder(len(model))
    builder.Finish(flatbuffer.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def export_firmware(model: Path | None, out: Path, name: str) -> dict:
    """Write the package for ``model`` into ``out``; returns the size report and checks.

    The package is written into a hidden folder beside ``out`` and moved into ``out`` only
    when complete (:func:`staged_folder`): a full disk or a crash leaves no half package.

    Raises:
        SensingError: the model cannot be exported, or TFLite Micro and ai-edge-litert
            disagree on the golden outputs (the package is written, for a look at them).
        WriteError: a file cannot be written (the message names it as it would be in ``out``).
    """
    check_name(name)
    source_path = resolve_model(model)
    with staged_folder(out) as stage:
        summary, mismatches = _write_package(source_path, stage, name)
    if mismatches:
        raise SensingError(
            f"TFLite Micro and ai-edge-litert disagree on {mismatches} golden outputs; see {out / 'golden'}"
        )
    return summary


def _write_package(source_path: Path, out: Path, name: str) -> tuple[dict, int]:
    """Write every file of the package into ``out``; returns the summary and the golden mismatches."""
    metadata = read_metadata(source_path)
    _require_log_mel(metadata.frontend, source_path)
    interpreter, _ = load_interpreter(source_path, backend="ai_edge_litert")
    input_quantization = _quantization(interpreter.get_input_details()[0], "input", source_path)
    output_quantization = _quantization(interpreter.get_output_details()[0], "output", source_path)
    ops = model_ops(read_graph(source_path))
    source = f"{source_path.name} (labels {', '.join(metadata.labels)})"

    micro_model = write_atomically(out / f"{name}_model.tflite", strip_for_micro(source_path.read_bytes()))
    measured = minimum_arena(micro_model)
    arena = exported_arena(measured)
    files = write_model_data(micro_model.read_bytes(), out, name, source)
    files.append(write_ops_header(ops, out, name, source))
    files += write_frontend(metadata.features, out, name)
    files.append(
        write_settings_header(
            metadata=metadata,
            input_quantization=input_quantization,
            output_quantization=output_quantization,
            arena_bytes=arena,
            arena_bytes_measured=measured,
            out_dir=out,
            name=name,
            source=source,
        )
    )
    files += write_events(
        events=EventSettings(thresholds=event_thresholds(metadata.labels, metadata.thresholds)),
        features=metadata.features,
        labels=metadata.labels,
        out_dir=out,
        name=name,
        source=source,
    )
    files += write_device(out_dir=out, name=name, source=source)
    files += write_build_files(out_dir=out, name=name, kernels=kernel_files(ops), source=source)
    golden = write_golden(
        micro_model,
        metadata.features,
        input_scale=input_quantization.scale,
        input_zero_point=input_quantization.zero_point,
        out_dir=out,
        name=name,
    )
    mismatches = _micro_mismatches(
        micro_model, golden, out / "golden", metadata.features, arena, input_quantization
    )
    report = SizeReport(
        model_bytes=micro_model.stat().st_size,
        arena_bytes_measured=measured,
        arena_bytes_exported=arena,
        ops=tuple(ops),
        multiply_adds=multiply_adds(read_graph(micro_model)),
    )
    files += write_examples(
        out_dir=out,
        name=name,
        source=source,
        tolerance=max(LOG_MEL_TOLERANCE, DELTA_TOLERANCE),
        op_count=len(ops),
        size_text=report.describe(),
        margin=f"{ARENA_MARGIN - 1:.0%}",
    )
    summary = {
        "model": str(source_path),
        "name": name,
        **report.to_dict(),
        "micro_outputs_equal_litert": mismatches == 0,
        "golden_windows": sum(clip["features_shape"][0] for clip in golden["clips"]),
        "files": sorted(str(path.relative_to(out)) for path in files),
    }
    write_atomically(out / "size_report.json", json.dumps(summary, indent=2) + "\n")
    return summary, mismatches


@contextlib.contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield a hidden, empty folder beside ``out`` to write into; on success its entries are
    moved into ``out`` (renames on one file system: they need no space), replacing files and
    folders of the same names; on any failure it is removed and ``out`` is left as it was.

    Raises:
        WriteError: writing failed; the message names the path as it would be in ``out``.
    """
    out = Path(out)
    stage = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        try:
            make_folder(stage)
            yield stage
            _move_entries(stage, make_folder(out))
        except WriteError as error:
            raise WriteError(str(error).replace(str(stage), str(out))) from None
        except OSError as error:
            raise write_error(str(error.filename or out).replace(str(stage), str(out)), error) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_entries(stage: Path, out: Path) -> None:
    """Move every entry of ``stage`` into ``out``; a folder of the same name is replaced whole."""
    for entry in sorted(stage.iterdir()):
        target = out / entry.name
        if entry.is_dir() and target.is_dir():
            replaced = stage / f".replaced-{entry.name}"
            os.replace(target, replaced)
        os.replace(entry, target)


def _micro_mismatches(
    micro_model: Path, golden: dict, folder: Path, settings, arena: int, input_quantization: Quantization
) -> int:
    """Output values where TFLite Micro differs from ai-edge-litert on the golden windows."""
    mismatches = 0
    for clip in golden["clips"]:
        features = np.fromfile(folder / clip["features"], dtype="<f4").reshape(clip["features_shape"])
        expected = np.fromfile(folder / clip["output"], dtype=np.int8).reshape(clip["output_shape"])
        inputs = quantize(features, input_quantization.scale, input_quantization.zero_point)
        mismatches += int(np.sum(micro_outputs(micro_model, inputs, arena) != expected))
    return mismatches
