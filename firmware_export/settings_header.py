"""``NAME_settings.h``: every constant the device needs besides the frontend's own.

It includes ``NAME_frontend.h`` (sample rate, FFT, hop, bands, window) and adds
what comes from the model: input shape and quantization, labels, thresholds,
the measured tensor arena, and the window hop in samples.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from firmware_export.c_source import c_float, c_string, generated_comment
from sensing.audio.events import event_thresholds
from sensing.audio.model_file import ModelMetadata
from sensing.files import write_atomically


@dataclasses.dataclass(frozen=True, kw_only=True)
class Quantization:
    """Affine int8 quantization of a tensor: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int


def write_settings_header(
    *,
    metadata: ModelMetadata,
    input_quantization: Quantization,
    output_quantization: Quantization,
    arena_bytes: int,
    arena_bytes_measured: int,
    out_dir: Path,
    name: str,
    source: str,
) -> Path:
    """Write ``NAME_settings.h`` (C99 and C++)."""
    path = out_dir / f"{name}_settings.h"
    upper = name.upper()
    guard = f"{upper}_SETTINGS_H_"
    features = metadata.features
    frames, mels, channels = features.input_shape
    labels = metadata.labels
    negative = labels.index(metadata.negative_label) if metadata.negative_label in labels else -1
    # The event labels' thresholds are those sensing detect uses; any other label (the negative
    # one) is never reported: a threshold above 1.
    events = event_thresholds(labels, metadata.thresholds)
    thresholds = [events.get(label, 2.0) for label in labels]
    lines = [
        generated_comment(f"Constants of the {name} model and its frontend.", source),
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        f'#include "{name}_frontend.h"',
        "",
        "// Model input: one window of (frames, mels, channels) features, int8 quantized as",
        "// q = round(x / INPUT_SCALE) + INPUT_ZERO_POINT, clamped to [-128, 127].",
        f"#define {upper}_INPUT_FRAMES {frames}",
        f"#define {upper}_INPUT_MELS {mels}",
        f"#define {upper}_INPUT_CHANNELS {channels}",
        f"#define {upper}_INPUT_SIZE ({upper}_INPUT_FRAMES * {upper}_INPUT_MELS * {upper}_INPUT_CHANNELS)",
        f"#define {upper}_INPUT_SCALE {c_float(input_quantization.scale)}",
        f"#define {upper}_INPUT_ZERO_POINT ({input_quantization.zero_point})",
        "",
        "// Model output: one probability per label, int8 quantized;",
        "// probability = OUTPUT_SCALE * (q - OUTPUT_ZERO_POINT).",
        f"#define {upper}_OUTPUT_SCALE {c_float(output_quantization.scale)}",
        f"#define {upper}_OUTPUT_ZERO_POINT ({output_quantization.zero_point})",
        f"#define {upper}_LABEL_COUNT {len(labels)}",
        f"// Index of the 'neither target' label ({metadata.negative_label}); -1 when every "
        f"label is a target."
        if negative >= 0
        else "// Every label is a target.",
        f"#define {upper}_NEGATIVE_LABEL_INDEX ({negative})",
        "",
        "// Seconds between two model windows, and one window's length.",
        f"#define {upper}_WINDOW_HOP_S {c_float(features.window_hop_samples / features.sr)}",
        f"#define {upper}_WINDOW_S {c_float(features.window_s)}",
        "",
        "// Tensor arena for tflite::MicroInterpreter: measured by running the model in",
        "// TFLite Micro's interpreter, plus a margin for allocator differences between",
        "// TFLite Micro versions and targets.",
        f"#define {upper}_ARENA_SIZE {arena_bytes}",
        f"#define {upper}_ARENA_SIZE_MEASURED {arena_bytes_measured}",
        "",
        "// Label names in model-output order.",
        f"static const char* const {name}_labels[{upper}_LABEL_COUNT] = {{"
        + ", ".join(c_string(label) for label in labels)
        + "};",
        "// Per label, the window probability at or above which the label is detected",
        "// (calibrated on validation groups, as sensing detect uses them; above 1 for a label",
        "// that is never reported).",
        f"static const float {name}_thresholds[{upper}_LABEL_COUNT] = {{"
        + ", ".join(c_float(value) for value in thresholds)
        + "};",
        "",
        f"#endif  // {guard}",
        "",
    ]
    write_atomically(path, "\n".join(lines))
    return path
