"""``NAME_model_data.cc/.h``: the ``.tflite`` file as a 16-byte-aligned C array."""

from __future__ import annotations

from pathlib import Path

from firmware_export.c_source import byte_rows, generated_comment
from sensing.files import write_atomically

ALIGNMENT = 16
"""Bytes the model array is aligned to; TFLite Micro reads the flatbuffer in place."""


def write_model_data(model: bytes, out_dir: Path, name: str, source: str) -> list[Path]:
    """Write ``NAME_model_data.h`` and ``NAME_model_data.cc`` holding ``model``."""
    header_path = out_dir / f"{name}_model_data.h"
    source_path = out_dir / f"{name}_model_data.cc"
    guard = f"{name.upper()}_MODEL_DATA_H_"
    write_atomically(
        header_path,
        generated_comment(f"The {name} model ({len(model)} bytes of TFLite flatbuffer).", source)
        + f"#ifndef {guard}\n#define {guard}\n\n"
        + "#include <stddef.h>\n\n"
        + f"// The model, aligned to {ALIGNMENT} bytes; pass it to tflite::GetModel().\n"
        + f"extern const unsigned char {name}_model_data[];\n"
        + f"// Length of {name}_model_data in bytes.\n"
        + f"extern const size_t {name}_model_data_len;\n\n"
        + f"#endif  // {guard}\n",
    )
    write_atomically(
        source_path,
        generated_comment(f"The {name} model as a C array.", source)
        + f'#include "{header_path.name}"\n\n'
        + f"alignas({ALIGNMENT}) const unsigned char {name}_model_data[] = {{\n"
        + byte_rows(model)
        + "\n};\n"
        + f"const size_t {name}_model_data_len = {len(model)};\n",
    )
    return [header_path, source_path]
