"""What a model costs on a microcontroller: flash, arena, ops and multiply-adds."""

from __future__ import annotations

import dataclasses
import math

from sensing.tflite.graph import Graph


@dataclasses.dataclass(frozen=True, kw_only=True)
class SizeReport:
    """Sizes in bytes; multiply-adds per inference (one model window)."""

    model_bytes: int
    arena_bytes_measured: int
    arena_bytes_exported: int
    ops: tuple[str, ...]
    multiply_adds: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        return (
            f"flash (model): {self.model_bytes / 1024:.1f} KB; arena: "
            f"{self.arena_bytes_measured / 1024:.1f} KB measured, "
            f"{self.arena_bytes_exported / 1024:.1f} KB exported with margin; "
            f"{len(self.ops)} ops ({', '.join(self.ops)}); "
            f"{self.multiply_adds / 1e6:.2f} M multiply-adds per inference"
        )


def multiply_adds(graph: Graph) -> int:
    """Multiply-adds of the convolutions and fully connected layers for one inference.

    CONV_2D: output elements x kernel height x width x input channels;
    DEPTHWISE_CONV_2D: output elements x kernel height x width;
    FULLY_CONNECTED: output elements x input features. Element-wise ops,
    pooling and softmax are not counted (a few thousand operations).
    """
    total = 0
    for op in graph.operators:
        if op.name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        outputs = math.prod(graph.tensors[op.outputs[0]].shape)
        weights = graph.tensors[op.inputs[1]].shape
        if op.name == "CONV_2D":
            total += outputs * weights[1] * weights[2] * weights[3]
        elif op.name == "DEPTHWISE_CONV_2D":
            total += outputs * weights[1] * weights[2]
        else:
            total += outputs * weights[-1]
    return total
