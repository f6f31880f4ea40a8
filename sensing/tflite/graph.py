"""A read-only view of a ``.tflite`` file's operators and tensors, without TensorFlow.

The file is a FlatBuffer following TensorFlow Lite's ``schema.fbs``. This
module holds the toolkit's one FlatBuffers reader (``model_file`` reads the
metadata with it) and builds from the first subgraph a :class:`Graph`: its
tensors (shape, type, constant contents, sparsity) and its operators (name,
input and output tensors, the options the toolkit's checks need).

Schema fields used, by vtable order: ``Model`` {operator_codes 1, subgraphs 2,
buffers 4}; ``OperatorCode`` {deprecated_builtin_code 0, builtin_code 3};
``SubGraph`` {tensors 0, inputs 1, outputs 2, operators 3}; ``Tensor`` {shape
0, type 1, buffer 2, name 3, quantization 4, sparsity 6}; ``Buffer`` {data 0,
offset 1, size 2}; ``Operator`` {opcode_index 0, inputs 1, outputs 2,
builtin_options 4 (a union: type in slot 3, table in slot 4)}.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np

from sensing.errors import ModelError

BUILTIN_OPERATORS = {
    0: "ADD",
    1: "AVERAGE_POOL_2D",
    2: "CONCATENATION",
    3: "CONV_2D",
    4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE",
    9: "FULLY_CONNECTED",
    14: "LOGISTIC",
    18: "MUL",
    19: "RELU",
    20: "RELU_N1_TO_1",
    21: "RELU6",
    22: "RESHAPE",
    25: "SOFTMAX",
    28: "TANH",
    32: "CUSTOM",
    34: "PAD",
    40: "MEAN",
    41: "SUB",
    43: "SQUEEZE",
    98: "LEAKY_RELU",
    111: "ELU",
    114: "QUANTIZE",
    117: "HARD_SWISH",
    124: "DENSIFY",
}
"""Names of the builtin operator codes the toolkit looks at; others read as ``BUILTIN_<code>``."""

TENSOR_TYPES = (
    "float32",
    "float16",
    "int32",
    "uint8",
    "int64",
    "string",
    "bool",
    "int16",
    "complex64",
    "int8",
    "float64",
)
"""``TensorType`` names by code; unknown codes read as ``type_<code>``."""

_NUMPY_TYPES = {
    "float32": "<f4",
    "float16": "<f2",
    "int32": "<i4",
    "uint8": "u1",
    "int64": "<i8",
    "bool": "?",
    "int16": "<i2",
    "int8": "i1",
    "float64": "<f8",
}


class FlatBufferReader:
    """Just enough of FlatBuffers to walk tables, vectors and strings.

    Positions are byte offsets into ``data``. Any read outside the data raises
    :class:`ModelError` naming ``source``.
    """

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source

    def _corrupt(self) -> ModelError:
        return ModelError(f"{self.source}: truncated or corrupt model file ({len(self.data)} bytes)")

    def _unpack(self, fmt: str, position: int) -> Any:
        if position < 0:
            raise self._corrupt()
        try:
            return struct.unpack_from(fmt, self.data, position)[0]
        except struct.error:
            raise self._corrupt() from None

    def root(self) -> int:
        return int(self._unpack("<I", 0))

    def field_position(self, table: int, field_index: int) -> int | None:
        vtable = table - self._unpack("<i", table)
        vtable_size = self._unpack("<H", vtable)
        entry = 4 + 2 * field_index
        if entry >= vtable_size:
            return None
        offset = self._unpack("<H", vtable + entry)
        return table + offset if offset else None

    def _indirect(self, position: int) -> int:
        return int(position + self._unpack("<I", position))

    def vector(self, table: int, field_index: int, item_size: int = 1) -> tuple[int, int]:
        """(start of elements, length) of a vector field; (0, 0) when absent.

        ``item_size`` (bytes per element) lets the end of the vector be checked.
        """
        position = self.field_position(table, field_index)
        if position is None:
            return 0, 0
        vector = self._indirect(position)
        start, length = vector + 4, self._unpack("<I", vector)
        if start + length * item_size > len(self.data):
            raise self._corrupt()
        return start, length

    def table_at(self, element_position: int) -> int:
        return self._indirect(element_position)

    def table(self, table: int, field_index: int) -> int | None:
        """Position of a sub-table field (also a union's value); None when absent."""
        position = self.field_position(table, field_index)
        return None if position is None else self._indirect(position)

    def tables(self, table: int, field_index: int) -> list[int]:
        """Positions of the tables in a vector-of-tables field."""
        start, length = self.vector(table, field_index, item_size=4)
        return [self.table_at(start + 4 * i) for i in range(length)]

    def numbers(self, table: int, field_index: int, fmt: str = "<i") -> tuple[Any, ...]:
        """The elements of a vector of scalars (``fmt`` is one struct code, e.g. ``<i``)."""
        size = struct.calcsize(fmt)
        start, length = self.vector(table, field_index, item_size=size)
        return struct.unpack_from(f"<{length}{fmt[-1]}", self.data, start)

    def string(self, table: int, field_index: int) -> str:
        return self.bytes_of_vector(table, field_index).decode("utf-8", errors="replace")

    def scalar(self, table: int, field_index: int, fmt: str, default: Any = 0) -> Any:
        position = self.field_position(table, field_index)
        return default if position is None else self._unpack(fmt, position)

    def bytes_of_vector(self, table: int, field_index: int) -> bytes:
        start, length = self.vector(table, field_index)
        return self.data[start : start + length]


def read_model_bytes(path: str | Path) -> bytes:
    """The bytes of a ``.tflite`` file, checked for the TFLite file identifier."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    data = path.read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(f"{path}: not a TensorFlow Lite model (no 'TFL3' identifier; {len(data)} bytes)")
    return data


def read_buffer(reader: FlatBufferReader, buffers: list[int], index: int) -> bytes:
    """Contents of ``Model.buffers[index]``: inline, or at a file offset (models over 2 GB).

    Args:
        buffers: positions of the ``Buffer`` tables (``reader.tables(model, 4)``).
    """
    if index >= len(buffers):
        raise ModelError(f"{reader.source}: buffer {index} is past the buffer table ({len(buffers)} buffers)")
    buffer = buffers[index]
    content = reader.bytes_of_vector(buffer, 0)
    if not content:
        offset = reader.scalar(buffer, 1, "<Q")
        size = reader.scalar(buffer, 2, "<Q")
        if offset > 1 and offset + size <= len(reader.data):
            content = reader.data[offset : offset + size]
    return content


@dataclasses.dataclass(frozen=True, kw_only=True)
class Tensor:
    """One tensor of the graph.

    Attributes:
        index: position in the subgraph's tensor table.
        name: the converter's name (usually the Keras layer path).
        shape: dimensions, batch first for activations (e.g. ``(1, 32, 16, 3)``).
        dtype: a :data:`TENSOR_TYPES` name such as ``"float32"`` or ``"int8"``.
        data: the stored contents of a constant tensor; None for activations.
        is_sparse: stored in TFLite's sparse format (has sparsity parameters);
            ``data`` then holds only the stored elements, and a DENSIFY op
            expands them to ``shape``.
        is_quantized: has quantization scales (int8/uint8 models, int8 weights).
    """

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    data: bytes | None
    is_sparse: bool
    is_quantized: bool

    @property
    def size(self) -> int:
        """Number of elements of the (dense) tensor."""
        return math.prod(self.shape)

    def stored_values(self) -> np.ndarray:
        """The stored elements of a constant tensor, flat (a sparse tensor: only those stored).

        Raises:
            ModelError: not a constant, or a type numpy cannot hold.
        """
        if self.data is None:
            raise ModelError(f"tensor {self.index} '{self.name}' is not a constant")
        if self.dtype not in _NUMPY_TYPES:
            raise ModelError(f"tensor {self.index} '{self.name}': cannot read {self.dtype} values")
        dtype = np.dtype(_NUMPY_TYPES[self.dtype])
        if len(self.data) % dtype.itemsize:
            raise ModelError(
                f"tensor {self.index} '{self.name}': {len(self.data)} bytes is not "
                f"a whole number of {self.dtype} values"
            )
        return np.frombuffer(self.data, dtype=dtype)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Operator:
    """One operator of the graph.

    Attributes:
        index: position in the subgraph's operator list (execution order).
        name: builtin name such as ``"CONV_2D"`` (see :data:`BUILTIN_OPERATORS`).
        inputs: tensor indices; -1 marks an absent optional input.
        outputs: tensor indices.
        options: for CONV_2D and DEPTHWISE_CONV_2D ``padding`` ("SAME" or
            "VALID"), ``stride_h``, ``stride_w``, ``dilation_h``, ``dilation_w``
            (and ``depth_multiplier`` for the depthwise one); for MEAN
            ``keep_dims``; empty for other operators.
    """

    index: int
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Graph:
    """The first subgraph of a model: tensors, operators in execution order, inputs and outputs."""

    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    @functools.cached_property
    def _producers(self) -> dict[int, Operator]:
        return {tensor: op for op in self.operators for tensor in op.outputs}

    @functools.cached_property
    def _consumers(self) -> dict[int, list[Operator]]:
        consumers: dict[int, list[Operator]] = {}
        for op in self.operators:
            for tensor in dict.fromkeys(op.inputs):
                if tensor >= 0:
                    consumers.setdefault(tensor, []).append(op)
        return consumers

    def producer(self, tensor: int) -> Operator | None:
        """The operator writing tensor ``tensor``; None for inputs and constants."""
        return self._producers.get(tensor)

    def consumers(self, tensor: int) -> list[Operator]:
        """The operators reading tensor ``tensor``, in execution order (each once)."""
        return self._consumers.get(tensor, [])


def _operator_names(reader: FlatBufferReader, model: int) -> list[str]:
    names = []
    for code_table in reader.tables(model, 1):
        code = max(reader.scalar(code_table, 0, "<b"), reader.scalar(code_table, 3, "<i"))
        names.append(BUILTIN_OPERATORS.get(code, f"BUILTIN_{code}"))
    return names


def _read_tensor(reader: FlatBufferReader, table: int, index: int, buffers: list[int]) -> Tensor:
    type_code = reader.scalar(table, 1, "<b")
    data = read_buffer(reader, buffers, reader.scalar(table, 2, "<I"))
    quantization = reader.table(table, 4)
    return Tensor(
        index=index,
        name=reader.string(table, 3),
        shape=reader.numbers(table, 0),
        dtype=TENSOR_TYPES[type_code] if 0 <= type_code < len(TENSOR_TYPES) else f"type_{type_code}",
        data=data or None,
        is_sparse=reader.table(table, 6) is not None,
        is_quantized=quantization is not None and reader.vector(quantization, 2)[1] > 0,
    )


def _convolution_options(reader: FlatBufferReader, table: int | None, *, depthwise: bool) -> dict[str, Any]:
    def field(index: int, fmt: str, default: int) -> int:
        return default if table is None else reader.scalar(table, index, fmt, default)

    first_dilation = 5 if depthwise else 4
    options = {
        "padding": "VALID" if field(0, "<b", 0) == 1 else "SAME",
        "stride_w": field(1, "<i", 1),
        "stride_h": field(2, "<i", 1),
        "dilation_w": field(first_dilation, "<i", 1),
        "dilation_h": field(first_dilation + 1, "<i", 1),
    }
    if depthwise:
        options["depth_multiplier"] = field(3, "<i", 1)
    return options


def _options(reader: FlatBufferReader, name: str, table: int | None) -> dict[str, Any]:
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return _convolution_options(reader, table, depthwise=name == "DEPTHWISE_CONV_2D")
    if name == "MEAN":
        return {"keep_dims": bool(table is not None and reader.scalar(table, 0, "<B"))}
    return {}


def _check_indices(
    source: str, what: str, indices: tuple[int, ...], n_tensors: int, *, absent_allowed: bool = False
) -> None:
    lowest = -1 if absent_allowed else 0
    bad = [i for i in indices if i < lowest or i >= n_tensors]
    if bad:
        raise ModelError(
            f"{source}: {what} refers to tensor {bad[0]}; the graph has "
            f"{n_tensors} tensors (corrupt model file)"
        )


def parse_graph(data: bytes, *, source: str) -> Graph:
    """The first subgraph of the TFLite model in ``data``.

    Args:
        data: a whole ``.tflite`` file (see :func:`read_model_bytes`).
        source: the file's name, used in error messages.

    Raises:
        ModelError: the data is truncated, corrupt, or has no subgraph.
    """
    reader = FlatBufferReader(data, source)
    model = reader.root()
    subgraphs = reader.tables(model, 2)
    if not subgraphs:
        raise ModelError(f"{source}: the model has no subgraph")
    subgraph = subgraphs[0]
    buffers = reader.tables(model, 4)
    op_names = _operator_names(reader, model)
    tensors = [_read_tensor(reader, table, i, buffers) for i, table in enumerate(reader.tables(subgraph, 0))]
    operators = []
    for i, table in enumerate(reader.tables(subgraph, 3)):
        code_index = reader.scalar(table, 0, "<I")
        if code_index >= len(op_names):
            raise ModelError(
                f"{source}: operator {i} uses operator code {code_index}; the model "
                f"has {len(op_names)} (corrupt model file)"
            )
        name = op_names[code_index]
        op = Operator(
            index=i,
            name=name,
            inputs=reader.numbers(table, 1),
            outputs=reader.numbers(table, 2),
            options=_options(reader, name, reader.table(table, 4)),
        )
        _check_indices(source, f"operator {i} ({name})", op.inputs, len(tensors), absent_allowed=True)
        _check_indices(source, f"operator {i} ({name})", op.outputs, len(tensors))
        operators.append(op)
    graph = Graph(
        tensors=tensors,
        operators=operators,
        inputs=reader.numbers(subgraph, 1),
        outputs=reader.numbers(subgraph, 2),
    )
    _check_indices(source, "the graph's input or output list", graph.inputs + graph.outputs, len(tensors))
    return graph


def read_graph(path: str | Path) -> Graph:
    """The first subgraph of the ``.tflite`` file at ``path``.

    Raises:
        ModelError: the file is missing, not TFLite, truncated or corrupt.
    """
    return parse_graph(read_model_bytes(path), source=str(path))
