"""``NAME_ops.h``: register exactly the ops a model uses on a ``MicroMutableOpResolver``.

The op list is read from the ``.tflite`` file itself, so the resolver can
never miss one ("Didn't find op for builtin opcode") nor carry unused kernels
into the firmware image.
"""

from __future__ import annotations

from pathlib import Path

from firmware_export.c_source import generated_comment
from sensing.errors import SensingError
from sensing.files import write_atomically
from sensing.tflite.graph import Graph

RESOLVER_METHODS = {
    "ADD": "AddAdd",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "ELU": "AddElu",
    "FULLY_CONNECTED": "AddFullyConnected",
    "HARD_SWISH": "AddHardSwish",
    "LEAKY_RELU": "AddLeakyRelu",
    "LOGISTIC": "AddLogistic",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MEAN": "AddMean",
    "MUL": "AddMul",
    "PAD": "AddPad",
    "QUANTIZE": "AddQuantize",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "SOFTMAX": "AddSoftmax",
    "SQUEEZE": "AddSqueeze",
    "SUB": "AddSub",
    "TANH": "AddTanh",
}
"""TFLite Micro's ``MicroMutableOpResolver`` method for each builtin op this exporter knows."""

INT8_REGISTRATIONS = {
    "ADD": "Register_ADD_INT8",
    "CONV_2D": "Register_CONV_2D_INT8",
    "DEPTHWISE_CONV_2D": "Register_DEPTHWISE_CONV_2D_INT8",
    "FULLY_CONNECTED": "Register_FULLY_CONNECTED_INT8",
    "SOFTMAX": "Register_SOFTMAX_INT8",
}
"""Ops with an int8-only kernel in TFLite Micro's optimized kernel sets (CMSIS-NN, Xtensa): the
package registers those, which leaves the int4 and int16 variants out of the image (about
37 KB of CMSIS-NN code); with the reference kernels they are the generic kernel."""

KERNEL_FILES = {
    "ADD": ("add", "add_common"),
    "AVERAGE_POOL_2D": ("pooling", "pooling_common"),
    "CONCATENATION": ("concatenation",),
    "CONV_2D": ("conv", "conv_common"),
    "DEPTHWISE_CONV_2D": ("depthwise_conv", "depthwise_conv_common"),
    "DEQUANTIZE": ("dequantize", "dequantize_common"),
    "ELU": ("elu",),
    "FULLY_CONNECTED": ("fully_connected", "fully_connected_common"),
    "HARD_SWISH": ("hard_swish", "hard_swish_common"),
    "LEAKY_RELU": ("leaky_relu", "leaky_relu_common"),
    "LOGISTIC": ("logistic", "logistic_common"),
    "MAX_POOL_2D": ("pooling", "pooling_common"),
    "MEAN": ("reduce", "reduce_common"),
    "MUL": ("mul", "mul_common"),
    "PAD": ("pad", "pad_common"),
    "QUANTIZE": ("quantize", "quantize_common"),
    "RELU": ("activations", "activations_common"),
    "RELU6": ("activations", "activations_common"),
    "RESHAPE": ("reshape", "reshape_common"),
    "SOFTMAX": ("softmax", "softmax_common"),
    "SQUEEZE": ("squeeze",),
    "SUB": ("sub", "sub_common"),
    "TANH": ("tanh",),
}
"""The files (``tensorflow/lite/micro/kernels/NAME.cc``, or an optimized directory's file of
the same name) that implement each op in TFLite Micro: the firmware build compiles only these."""

KERNEL_SUPPORT_FILES = ("kernel_util",)
"""Kernel files every model needs."""


def kernel_files(ops: list[str]) -> list[str]:
    """The TFLite Micro kernel files (names without ``.cc``) that ``ops`` need, in a stable order."""
    return sorted({*KERNEL_SUPPORT_FILES, *(name for op in ops for name in KERNEL_FILES[op])})


_MISSING_IN_MICRO = {
    "DENSIFY": "sparse weights need DENSIFY, which TFLite Micro lacks: export the dense int8 "
    "model (model_int8.tflite from `sensing prune`, or a run folder)",
}


def model_ops(graph: Graph) -> list[str]:
    """The model's distinct ops in order of first use.

    Raises:
        SensingError: an op TFLite Micro lacks, or one this exporter cannot register.
    """
    ops = list(dict.fromkeys(op.name for op in graph.operators))
    for op in ops:
        if op in _MISSING_IN_MICRO:
            raise SensingError(f"the model uses {op}: {_MISSING_IN_MICRO[op]}")
        if op not in RESOLVER_METHODS:
            raise SensingError(
                f"the model uses {op}, which this exporter cannot register for "
                f"TFLite Micro (known: {', '.join(sorted(RESOLVER_METHODS))})"
            )
    return ops


def _registration(op: str) -> str:
    """The argument of the resolver's Add call: the int8-only kernel where there is one."""
    return f"tflite::{INT8_REGISTRATIONS[op]}()" if op in INT8_REGISTRATIONS else ""


def write_ops_header(ops: list[str], out_dir: Path, name: str, source: str) -> Path:
    """Write ``NAME_ops.h`` with ``NAME_OP_COUNT`` and ``NAME_register_ops(resolver)``."""
    path = out_dir / f"{name}_ops.h"
    guard = f"{name.upper()}_OPS_H_"
    calls = "\n".join(
        f"  if (resolver.{RESOLVER_METHODS[op]}({_registration(op)}) != kTfLiteOk) return kTfLiteError;"
        for op in ops
    )
    write_atomically(
        path,
        generated_comment(f"The {len(ops)} ops the {name} model uses, for TFLite Micro.", source)
        + f"#ifndef {guard}\n#define {guard}\n\n"
        + '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"\n\n'
        + f"// Ops in the model: {', '.join(ops)}.\n"
        + f"constexpr unsigned int {name.upper()}_OP_COUNT = {len(ops)};\n\n"
        + f"using {name}_OpResolver = tflite::MicroMutableOpResolver<{name.upper()}_OP_COUNT>;\n\n"
        + "// Registers every op the model uses (int8-only kernels where the kernel set has them);\n"
        + "// returns kTfLiteError if one fails.\n"
        + f"inline TfLiteStatus {name}_register_ops({name}_OpResolver& resolver) {{\n"
        + calls
        + "\n  return kTfLiteOk;\n}\n\n"
        + f"#endif  // {guard}\n",
    )
    return path
