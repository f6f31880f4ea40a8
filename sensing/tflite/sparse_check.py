"""Will XNNPACK run a ``.tflite`` model sparsely, and if not, exactly why.

XNNPACK, TensorFlow Lite's CPU delegate, has kernels that skip the zero
weights of 1x1 convolutions, but it uses them only when a model meets all of
the rules below. They mirror XNNPACK's ``src/subgraph.c``
(``xnn_check_nchw_compatibility``, ``xnn_subgraph_rewrite_for_nchw``) and the
TFLite XNNPACK delegate:

1. The delegate asks for sparse inference only when the file stores sparse
   weights: a DENSIFY op on a constant with sparsity parameters (what the
   converter writes with ``tf.lite.Optimize.EXPERIMENTAL_SPARSITY``). DENSIFY
   and DEQUANTIZE ops on constants are unpacked ahead of time, so their
   outputs count as constant weights (float16 models: sparse float16 ->
   DENSIFY -> DEQUANTIZE -> convolution filter).
2. The model computes in float: int8/uint8 quantized models are not eligible.
3. The sparse part starts with a 3x3, stride-2, dilation-1 CONV_2D on exactly
   3 input channels, padded by exactly 1 on every side: a zero PAD on the
   spatial axes merges into a following VALID convolution, while SAME padding
   with stride 2 is asymmetric.
4. Inside it every op is a 1x1 stride-1 CONV_2D; a 3x3 or 5x5
   DEPTHWISE_CONV_2D with equal strides of 1 or 2, depth multiplier 1 and
   symmetric padding of 1 (3x3) or 2 (5x5), explicit or SAME with stride 1;
   ADD or MUL of 4-D tensors (a constant operand a scalar or per-channel
   vector); a unary activation on a 4-D tensor; or FULLY_CONNECTED. It ends at
   a spatial MEAN of a 4-D tensor (GlobalAveragePooling2D). Its tensors are
   read only by ops inside it (or the ending MEAN), and it reads no tensor
   from outside but the first convolution's output and constants.
5. More than 2/3 of the weights of its 1x1 convolutions (and fully connected
   layers) are zero.
"""

from __future__ import annotations

import dataclasses
import platform
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import ModelError
from sensing.tflite.graph import Graph, Operator, Tensor, read_graph

ZERO_FRACTION_NEEDED = 2 / 3
"""XNNPACK runs sparsely only when strictly more than this share of the 1x1 weights is zero."""

UNARY_OPS = frozenset(
    {"RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC", "TANH", "ELU", "LEAKY_RELU", "HARD_SWISH"}
)
"""Element-wise activations XNNPACK runs inside the sparse part (on 4-D tensors)."""

_UNPACKED_OPS = ("DENSIFY", "DEQUANTIZE")
_WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
_QUANTIZED_TYPES = ("int8", "uint8", "int16")
_INSIDE_OPS = frozenset({"PAD", "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MUL", "FULLY_CONNECTED"}) | UNARY_OPS

_REQUIRED_INPUTS = {
    "CONV_2D": 2,
    "DEPTHWISE_CONV_2D": 2,
    "FULLY_CONNECTED": 2,
    "PAD": 2,
    "MEAN": 2,
    "ADD": 2,
    "MUL": 2,
    "DENSIFY": 1,
    "DEQUANTIZE": 1,
    **dict.fromkeys(UNARY_OPS, 1),
}
"""Inputs an op of each kind the check reads must have (in the first positions)."""

_NO_DENSIFY = (
    "the weights are stored dense (no DENSIFY op), so the XNNPACK delegate does not ask "
    "for sparse inference; convert with converter.optimizations = "
    "[tf.lite.Optimize.EXPERIMENTAL_SPARSITY] (`sensing prune` writes "
    "model_sparse.tflite)"
)
_NO_MEAN = "the graph never reaches a spatial MEAN (use GlobalAveragePooling2D)"
_NO_CONVOLUTION = (
    "no CONV_2D follows the model input; the sparse part must start with a 3x3 "
    "stride-2 convolution on 3 channels"
)


def _short(name: str) -> str:
    """A tensor name without the converter's ``;``-joined fused names."""
    return name.split(";")[0]


def _label(op_index: int, op: str, output: str) -> str:
    """How reports name an operator: ``op 5 DEPTHWISE_CONV_2D ('model/depthwise_conv2d/Relu')``."""
    return f"op {op_index} {op} ('{_short(output)}')"


@dataclasses.dataclass(frozen=True, kw_only=True)
class OpProblem:
    """Why one operator keeps XNNPACK from running the model sparsely.

    Attributes:
        op_index: the operator's position in the graph.
        op: its name, e.g. ``"DEPTHWISE_CONV_2D"``.
        output: the name of its (first) output tensor.
        problem: what is wrong and, where there is one, the fix.
    """

    op_index: int
    op: str
    output: str
    problem: str

    def __str__(self) -> str:
        return f"{_label(self.op_index, self.op, self.output)}: {self.problem}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvSparsity:
    """Zero weights of one 1x1 convolution (or fully connected layer) of the sparse part.

    Attributes:
        op_index, op, output: the operator, as in :class:`OpProblem`.
        shape: the dense filter shape, ``(out, 1, 1, in)`` for a 1x1 CONV_2D.
        zeros: zero weights.
        params: all weights (the product of ``shape``).
        stored_sparse: the file stores the filter in sparse form (behind a DENSIFY).
    """

    op_index: int
    op: str
    output: str
    shape: tuple[int, ...]
    zeros: int
    params: int
    stored_sparse: bool

    @property
    def zero_fraction(self) -> float:
        return self.zeros / self.params if self.params else 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class SparseReport:
    """The verdict of :func:`check_sparse` for one model file.

    Attributes:
        model: the file checked.
        sparse_ready: XNNPACK will run the model with its sparse kernels
            (``reasons`` is empty).
        reasons: every rule the model breaks, as sentences.
        notes: facts about this machine, not the model (e.g. x86 with AVX).
        dtype: how the model computes: ``"float32"``, ``"float16"`` (float16
            weights), ``"int8"``/``"uint8"``/``"int16"`` (quantized), or
            ``"float32 with int8 weights"`` (dynamic-range quantization).
        densify_ops: DENSIFY ops unpacking sparse-stored constants.
        stem: the first CONV_2D after the input, as ``"op N CONV_2D ('name')"``;
            None when there is none.
        stem_problem: why that convolution cannot start the sparse part.
        culprit: the first op after it that breaks the sparse part.
        convs: the 1x1 convolutions (and fully connected layers) between the
            first convolution and the MEAN.
        zeros, params: their zero and total weights, summed.
    """

    model: str
    sparse_ready: bool
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    dtype: str
    densify_ops: int
    stem: str | None
    stem_problem: OpProblem | None
    culprit: OpProblem | None
    convs: tuple[ConvSparsity, ...]
    zeros: int
    params: int

    @property
    def zero_fraction(self) -> float:
        """Share of zero weights over :attr:`convs` (0.0 when there are none)."""
        return self.zeros / self.params if self.params else 0.0

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["zero_fraction"] = self.zero_fraction
        values["zero_fraction_needed"] = ZERO_FRACTION_NEEDED
        for conv, entry in zip(self.convs, values["convs"]):
            entry["zero_fraction"] = conv.zero_fraction
        return values


def _constant_source(graph: Graph, tensor_index: int) -> Tensor | None:
    """The stored constant behind a tensor: itself, or what DENSIFY/DEQUANTIZE ops unpack.

    None when the tensor is computed at run time (or absent, index -1).
    """
    seen = set()
    while tensor_index >= 0 and tensor_index not in seen:
        seen.add(tensor_index)
        tensor = graph.tensors[tensor_index]
        if tensor.data is not None:
            return tensor
        producer = graph.producer(tensor_index)
        if producer is None or producer.name not in _UNPACKED_OPS:
            return None
        tensor_index = producer.inputs[0]
    return None


def _model_dtype(graph: Graph) -> tuple[str, str | None]:
    """How the model computes, and the reason to give when that rules sparse inference out."""
    weighted = [op for op in graph.operators if op.name in _WEIGHTED_OPS]
    for op in weighted:
        activation = graph.tensors[op.inputs[0]]
        if activation.dtype in _QUANTIZED_TYPES:
            return activation.dtype, (
                f"the model is {activation.dtype}-quantized (op {op.index} {op.name} computes in "
                f"{activation.dtype}); XNNPACK's sparse kernels are float-only: export float32 or "
                f"float16 weights with EXPERIMENTAL_SPARSITY instead"
            )
    weights = [(op, _constant_source(graph, op.inputs[1])) for op in weighted]
    for op, weight in weights:
        if weight is not None and weight.dtype in _QUANTIZED_TYPES:
            return f"float32 with {weight.dtype} weights", (
                f"the weights are {weight.dtype} (dynamic-range quantization; op {op.index} "
                f"{op.name}); XNNPACK's sparse kernels are float-only: export float32 or float16 "
                f"weights with EXPERIMENTAL_SPARSITY instead"
            )
    if any(weight is not None and weight.dtype == "float16" for _, weight in weights):
        return "float16", None
    return "float32", None


def _count_densify(graph: Graph) -> int:
    """DENSIFY ops whose input is a constant stored in sparse form."""
    return sum(
        1
        for op in graph.operators
        if op.name == "DENSIFY"
        and graph.tensors[op.inputs[0]].is_sparse
        and graph.tensors[op.inputs[0]].data is not None
    )


def _first_convolution(graph: Graph) -> Operator | None:
    """The first CONV_2D that (through any ops) reads the model input."""
    reached = set(graph.inputs)
    for op in graph.operators:
        if any(tensor in reached for tensor in op.inputs):
            if op.name == "CONV_2D":
                return op
            reached.update(op.outputs)
    return None


def _spatial_paddings(graph: Graph, pad: Operator) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of a PAD on the height and width axes only; else None."""
    paddings = _constant_source(graph, pad.inputs[1])
    if paddings is None or paddings.dtype not in ("int32", "int64"):
        return None
    values = paddings.stored_values()
    if values.size != 8:
        return None
    (batch_before, batch_after), (top, bottom), (left, right), (channel_before, channel_after) = (
        values.reshape(4, 2).tolist()
    )
    if batch_before or batch_after or channel_before or channel_after:
        return None
    return top, bottom, left, right


def _merged_pad(graph: Graph, conv: Operator) -> tuple[int, int, int, int] | None:
    """Padding of a PAD that XNNPACK merges into ``conv`` (a VALID convolution); else None."""
    pad = graph.producer(conv.inputs[0])
    if (
        pad is None
        or pad.name != "PAD"
        or conv.options["padding"] != "VALID"
        or len(graph.consumers(pad.outputs[0])) != 1
        or pad.outputs[0] in graph.outputs
    ):
        return None
    return _spatial_paddings(graph, pad)


def _padding(graph: Graph, conv: Operator) -> str | tuple[int, int, int, int]:
    """``"SAME"``, or the (top, bottom, left, right) padding XNNPACK applies to a VALID ``conv``."""
    if conv.options["padding"] == "SAME":
        return "SAME"
    return _merged_pad(graph, conv) or (0, 0, 0, 0)


def _filter(graph: Graph, op: Operator) -> Tensor:
    """The weights tensor (input 1) of a convolution, checked to be 4-D."""
    weights = graph.tensors[op.inputs[1]]
    if len(weights.shape) != 4:
        raise ModelError(
            f"op {op.index} {op.name}: filter '{weights.name}' has shape "
            f"{weights.shape}, expected 4 dimensions"
        )
    return weights


def _convolution_problems(graph: Graph, op: Operator) -> list[str]:
    """Problems shared by every convolution: a computed filter, dilation, groups."""
    problems = []
    if _constant_source(graph, op.inputs[1]) is None:
        problems.append("its filter is computed at run time, not a constant")
    dilation = (op.options["dilation_h"], op.options["dilation_w"])
    if dilation != (1, 1):
        problems.append(f"dilation {dilation[0]}x{dilation[1]}, needs 1")
    if op.name == "CONV_2D":
        input_shape = graph.tensors[op.inputs[0]].shape
        filter_channels = _filter(graph, op).shape[3]
        channels = input_shape[-1] if input_shape else 0
        if channels > 0 and filter_channels and channels != filter_channels:
            problems.append(f"grouped convolution ({channels // filter_channels} groups), needs 1 group")
    return problems


def _stem_problem(graph: Graph, conv: Operator) -> OpProblem | None:
    """Why ``conv`` cannot start the sparse part (3x3, stride 2, 3 channels, padding 1)."""
    _, kernel_h, kernel_w, channels = _filter(graph, conv).shape
    stride = (conv.options["stride_h"], conv.options["stride_w"])
    problems = []
    if (kernel_h, kernel_w) != (3, 3):
        problems.append(f"kernel {kernel_h}x{kernel_w}, needs 3x3")
    if stride != (2, 2):
        problems.append(f"stride {stride[0]}x{stride[1]}, needs 2x2")
    problems += _convolution_problems(graph, conv)
    if channels != 3:
        problems.append(f"input has {channels} channel{'' if channels == 1 else 's'}, needs 3")
    padding = _padding(graph, conv)
    fix = 'use ZeroPadding2D(1) + padding="valid"'
    if padding == "SAME" and stride == (2, 2):
        problems.append(f"SAME padding with stride 2 pads asymmetrically; {fix}")
    elif padding == "SAME":
        problems.append(f"SAME padding is not the explicit padding of 1 XNNPACK needs; {fix}")
    elif padding != (1, 1, 1, 1):
        problems.append(f"padding (top, bottom, left, right) {padding}, needs 1 on every side; {fix}")
    return _problem(graph, conv, "; ".join(problems)) if problems else None


def _pointwise_problems(graph: Graph, conv: Operator) -> list[str]:
    """Problems of a CONV_2D inside the sparse part, which must be 1x1 with stride 1."""
    _, kernel_h, kernel_w, _ = _filter(graph, conv).shape
    if (kernel_h, kernel_w) != (1, 1):
        return [
            (
                f"{kernel_h}x{kernel_w} convolution; inside the sparse part only 1x1 "
                f"convolutions run (a 3x3 stride-2 one only as the first layer)"
            )
        ]
    problems = _convolution_problems(graph, conv)
    stride = (conv.options["stride_h"], conv.options["stride_w"])
    if stride != (1, 1):
        problems.append(f"1x1 convolution with stride {stride[0]}x{stride[1]}, needs 1")
    padding = _padding(graph, conv)
    if padding not in ("SAME", (0, 0, 0, 0)):
        problems.append(f"padded 1x1 convolution {padding}, needs no padding")
    return problems


def _depthwise_problems(graph: Graph, conv: Operator) -> list[str]:
    """Problems of a DEPTHWISE_CONV_2D: 3x3 or 5x5, stride 1 or 2, symmetric padding."""
    _, kernel_h, kernel_w, _ = _filter(graph, conv).shape
    stride_h, stride_w = conv.options["stride_h"], conv.options["stride_w"]
    problems = _convolution_problems(graph, conv)
    if conv.options["depth_multiplier"] != 1:
        problems.append(f"depth multiplier {conv.options['depth_multiplier']}, needs 1")
    if stride_h != stride_w or stride_h not in (1, 2):
        problems.append(f"stride {stride_h}x{stride_w}, needs 1x1 or 2x2")
    if kernel_h != kernel_w or kernel_h not in (3, 5):
        problems.append(f"kernel {kernel_h}x{kernel_w}, needs 3x3 or 5x5")
        return problems
    needed = kernel_h // 2
    padding = _padding(graph, conv)
    if padding == "SAME" and stride_h != 1:
        problems.append(
            f"SAME padding with stride {stride_h} pads asymmetrically; use "
            f'ZeroPadding2D({needed}) + padding="valid"'
        )
    elif padding != "SAME" and padding != (needed,) * 4:
        problems.append(
            f"padding (top, bottom, left, right) {padding}, needs {needed} on every "
            f'side; use ZeroPadding2D({needed}) + padding="valid", or '
            f'padding="same" with stride 1'
        )
    return problems


def _pad_problems(graph: Graph, pad: Operator) -> list[str]:
    """Why XNNPACK cannot merge a PAD into the convolution after it (a lone PAD runs dense)."""
    consumers = graph.consumers(pad.outputs[0])
    if len(consumers) != 1 or pad.outputs[0] in graph.outputs:
        return [
            (
                f"its output is read by {len(consumers)} ops; XNNPACK merges a PAD only into "
                f"the one convolution reading it"
            )
        ]
    after = consumers[0]
    if after.name not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return [
            (f"it is followed by {after.name}; XNNPACK merges a PAD only into a following VALID convolution")
        ]
    if after.options["padding"] != "VALID":
        return [
            (
                f"the {after.name} after it (op {after.index}) uses SAME padding; XNNPACK "
                f"merges a PAD only into a VALID convolution"
            )
        ]
    if _spatial_paddings(graph, pad) is None:
        return ["its paddings are not a constant on the height and width axes only"]
    return []


def _elementwise_problems(graph: Graph, op: Operator) -> list[str]:
    """Problems of ADD, MUL or a unary activation: 4-D inputs, small constant operands."""
    problems = []
    for tensor_index in op.inputs:
        if tensor_index < 0:
            continue
        tensor = graph.tensors[tensor_index]
        if len(tensor.shape) != 4:
            problems.append(f"input '{_short(tensor.name)}' is {len(tensor.shape)}-D, needs 4-D")
        elif (
            _constant_source(graph, tensor_index) is not None
            and sum(1 for size in tensor.shape if size != 1) > 1
        ):
            problems.append(
                f"constant input '{_short(tensor.name)}' of shape {tensor.shape} is "
                f"neither a scalar nor a per-channel vector"
            )
    return problems


def _mean_problems(graph: Graph, mean: Operator) -> list[str]:
    """Problems of the MEAN ending the sparse part: a 4-D input averaged over height and width."""
    problems = []
    input_shape = graph.tensors[mean.inputs[0]].shape
    if len(input_shape) != 4:
        problems.append(f"MEAN of a {len(input_shape)}-D tensor, needs 4-D")
    axes = _constant_source(graph, mean.inputs[1])
    if axes is None or axes.dtype not in ("int32", "int64"):
        problems.append("MEAN axes are not a constant")
    elif sorted(int(axis) % 4 for axis in axes.stored_values()) != [1, 2]:
        problems.append(
            f"MEAN over axes {axes.stored_values().tolist()}, needs the spatial "
            f"axes [1, 2] (GlobalAveragePooling2D)"
        )
    return problems


def _op_problems(graph: Graph, op: Operator) -> list[str]:
    """Why ``op`` cannot run inside the sparse part; empty when it can."""
    if op.name == "PAD":
        return _pad_problems(graph, op)
    if op.name == "CONV_2D":
        return _pointwise_problems(graph, op)
    if op.name == "DEPTHWISE_CONV_2D":
        return _depthwise_problems(graph, op)
    if op.name in ("ADD", "MUL") or op.name in UNARY_OPS:
        return _elementwise_problems(graph, op)
    if op.name == "FULLY_CONNECTED":
        return []
    if op.name == "AVERAGE_POOL_2D":
        return ["AVERAGE_POOL_2D does not run sparsely; end with GlobalAveragePooling2D (a MEAN)"]
    return [f"{op.name} does not run in XNNPACK's sparse part"]


def _output_name(graph: Graph, op: Operator) -> str:
    return graph.tensors[op.outputs[0]].name


def _problem(graph: Graph, op: Operator, problem: str) -> OpProblem:
    return OpProblem(op_index=op.index, op=op.name, output=_output_name(graph, op), problem=problem)


@dataclasses.dataclass(frozen=True)
class _Walk:
    culprit: OpProblem | None
    reached_mean: bool
    members: tuple[Operator, ...]


def _walk(graph: Graph, stem: Operator) -> _Walk:
    """Follow the tensors computed from ``stem``'s output to the MEAN ops that end the sparse part.

    Ops are visited in execution order. The first op that cannot run inside
    the sparse part is the culprit; the walk goes on through ops of the
    allowed kinds so that the 1x1 convolutions after it are still listed.
    """
    inside = set(stem.outputs)
    culprit = None
    reached_mean = False
    members = []
    for op in graph.operators[stem.index + 1 :]:
        computed = [tensor for tensor in op.inputs if tensor >= 0 and _constant_source(graph, tensor) is None]
        if not any(tensor in inside for tensor in computed):
            continue
        if op.name == "MEAN":
            problems = _mean_problems(graph, op)
            reached_mean = reached_mean or not problems
        else:
            problems = _op_problems(graph, op)
            problems += _outside_inputs(graph, computed, inside)
            if any(tensor in graph.outputs for tensor in op.outputs):
                problems.append(
                    "its output is also a model output, which XNNPACK must hand back "
                    "in its dense (NHWC) layout"
                )
        if problems and culprit is None:
            culprit = _problem(graph, op, "; ".join(problems))
        if op.name in _INSIDE_OPS:
            inside.update(op.outputs)
            members.append(op)
    return _Walk(culprit=culprit, reached_mean=reached_mean, members=tuple(members))


def _outside_inputs(graph: Graph, computed: list[int], inside: set[int]) -> list[str]:
    """Problems for inputs computed outside the sparse part (it may read only its own tensors)."""
    problems = []
    for tensor_index in computed:
        if tensor_index in inside:
            continue
        producer = graph.producer(tensor_index)
        where = f"op {producer.index} {producer.name}" if producer else "the model input"
        problems.append(
            f"input '{_short(graph.tensors[tensor_index].name)}' comes from {where}, outside the sparse part"
        )
    return problems


def _sparsity(graph: Graph, op: Operator) -> ConvSparsity:
    """Zero weights of a 1x1 convolution's or fully connected layer's (constant) filter."""
    weights = graph.tensors[op.inputs[1]]
    stored = _constant_source(graph, op.inputs[1])
    if stored is None:
        raise ModelError(f"op {op.index} {op.name}: its filter is computed at run time, not stored")
    values = stored.stored_values()
    params = weights.size
    if values.size > params or (not stored.is_sparse and values.size != params):
        raise ModelError(
            f"op {op.index} {op.name}: filter '{stored.name}' stores {values.size} "
            f"values for shape {weights.shape}"
        )
    return ConvSparsity(
        op_index=op.index,
        op=op.name,
        output=_output_name(graph, op),
        shape=weights.shape,
        zeros=params - int(np.count_nonzero(values)),
        params=params,
        stored_sparse=stored.is_sparse,
    )


def _counts_for_sparsity(graph: Graph, op: Operator) -> bool:
    """A 1x1 CONV_2D or a FULLY_CONNECTED with a constant filter (XNNPACK counts their zeros)."""
    if _constant_source(graph, op.inputs[1]) is None:
        return False
    if op.name == "FULLY_CONNECTED":
        return True
    return op.name == "CONV_2D" and _filter(graph, op).shape[1:3] == (1, 1)


def cpu_has_avx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """Whether ``cpuinfo`` lists the ``avx`` CPU flag; None when it cannot be read."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    return any(
        line.startswith("flags") and "avx" in line.partition(":")[2].split() for line in text.splitlines()
    )


def platform_notes(*, machine: str | None = None, cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, ...]:
    """Notes about sparse inference on this machine.

    Args:
        machine: the CPU architecture; default ``platform.machine()``.
        cpuinfo: Linux's CPU description, read for the ``avx`` flag (when
            unreadable, an x86-64 CPU is taken to have AVX, as nearly all do).
    """
    machine = machine or platform.machine()
    if machine not in ("x86_64", "AMD64") or cpu_has_avx(cpuinfo) is False:
        return ()
    return (
        (
            "this machine is x86-64 with AVX, where XNNPACK turns its sparse kernels off: even "
            "a sparse-ready model runs no faster here; ARM CPUs (Raspberry Pi) run them"
        ),
    )


def _sparsity_reason(zeros: int, params: int) -> str | None:
    if params == 0:
        return (
            "no 1x1 convolutions between the first convolution and the MEAN; XNNPACK's "
            "sparse kernels speed up only those"
        )
    if zeros * 3 > params * 2:
        return None
    return (
        f"the 1x1 convolutions are {zeros / params:.1%} zeros ({zeros} of {params} weights); "
        f"XNNPACK needs more than 2/3 (66.7%): prune them (`sensing prune`)"
    )


def _check_operands(graph: Graph) -> None:
    """Raise :class:`ModelError` for an op the check reads that lacks an input or an output."""
    for op in graph.operators:
        needed = _REQUIRED_INPUTS.get(op.name, 0)
        if len(op.inputs) < needed or any(tensor < 0 for tensor in op.inputs[:needed]):
            raise ModelError(
                f"op {op.index} {op.name} has inputs {list(op.inputs)}, needs {needed} (corrupt model file)"
            )
        if not op.outputs:
            raise ModelError(f"op {op.index} {op.name} has no output (corrupt model file)")


def _check_graph(graph: Graph, model: str) -> SparseReport:
    _check_operands(graph)
    reasons = []
    dtype, dtype_reason = _model_dtype(graph)
    if dtype_reason:
        reasons.append(dtype_reason)
    densify_ops = _count_densify(graph)
    if not densify_ops:
        reasons.append(_NO_DENSIFY)
    stem = _first_convolution(graph)
    stem_problem = culprit = None
    convs: tuple[ConvSparsity, ...] = ()
    if stem is None:
        reasons.append(_NO_CONVOLUTION)
    else:
        stem_problem = _stem_problem(graph, stem)
        if stem_problem:
            reasons.append(f"the first convolution cannot start the sparse part: {stem_problem}")
        walk = _walk(graph, stem)
        culprit = walk.culprit
        if culprit:
            reasons.append(f"the sparse part breaks at {culprit}")
        elif not walk.reached_mean:
            reasons.append(_NO_MEAN)
        convs = tuple(_sparsity(graph, op) for op in walk.members if _counts_for_sparsity(graph, op))
    zeros = sum(conv.zeros for conv in convs)
    params = sum(conv.params for conv in convs)
    sparsity_reason = _sparsity_reason(zeros, params) if stem is not None else None
    if sparsity_reason:
        reasons.append(sparsity_reason)
    return SparseReport(
        model=model,
        sparse_ready=not reasons,
        reasons=tuple(reasons),
        notes=platform_notes(),
        dtype=dtype,
        densify_ops=densify_ops,
        stem=_label(stem.index, stem.name, _output_name(graph, stem)) if stem else None,
        stem_problem=stem_problem,
        culprit=culprit,
        convs=convs,
        zeros=zeros,
        params=params,
    )


def check_sparse(path: str | Path) -> SparseReport:
    """Whether XNNPACK will run the ``.tflite`` model at ``path`` sparsely, and every reason not.

    Raises:
        ModelError: the file is missing, not TFLite, truncated or corrupt.
    """
    graph = read_graph(path)
    try:
        return _check_graph(graph, str(path))
    except ModelError as error:
        raise ModelError(f"{path}: {error}") from None


def format_report(report: SparseReport) -> str:
    """The report for people: the verdict first, then the reasons, notes and the 1x1 table."""
    verdict = "will" if report.sparse_ready else "will NOT"
    lines = [f"XNNPACK {verdict} run {report.model} sparsely"]
    lines += [f"  - {reason}" for reason in report.reasons]
    lines += [f"note: {note}" for note in report.notes]
    lines.append(
        f"model: {report.dtype}, {report.densify_ops} DENSIFY ops, first convolution: {report.stem or 'none'}"
    )
    if report.convs:
        lines.append(
            f"1x1 convolutions between the first convolution and the MEAN: "
            f"{report.zero_fraction:.1%} zeros ({report.zeros} of {report.params} "
            f"weights; needs more than {ZERO_FRACTION_NEEDED:.1%})"
        )
        lines.append(f"{'op':>4}  {'layer':<40} {'filter':>14} {'zeros':>7}  stored")
        for conv in report.convs:
            shape = "x".join(str(size) for size in conv.shape)
            stored = "sparse" if conv.stored_sparse else "dense"
            lines.append(
                f"{conv.op_index:>4}  {_short(conv.output)[:40]:<40} {shape:>14} "
                f"{conv.zero_fraction:>7.1%}  {stored}"
            )
    return "\n".join(lines)
