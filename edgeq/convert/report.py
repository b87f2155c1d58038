"""The conversion report: what was produced, what stayed float, what moved."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from edgeq.model import Graph
from edgeq.model.graph import activation_dtypes, computes_in_float
from edgeq.model.io import ModelIO


@dataclass(frozen=True)
class FloatOp:
    """An op that computes in floating point in a model meant to be integer."""

    index: int
    op: str
    layer: str | None
    dtypes: tuple[str, ...]

    def describe(self) -> str:
        where = f" (layer {self.layer})" if self.layer else ""
        return f"#{self.index} {self.op}{where}"


@dataclass(frozen=True)
class TensorQuant:
    """An input or output of the converted model."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None
    zero_point: int | None


@dataclass(frozen=True)
class ConversionReport:
    """Everything ``edgeq convert`` learned; ``to_dict()`` is the JSON report."""

    model: str
    model_kind: str
    output: str
    mode: str
    io: str
    float_tflite_bytes: int | None
    output_bytes: int
    ops_by_type: dict[str, dict[str, int]]
    float_ops: tuple[FloatOp, ...]
    inputs: tuple[TensorQuant, ...]
    outputs: tuple[TensorQuant, ...]
    samples_used: int | None
    samples_requested: int | None
    samples_available: int | None
    seed: int
    data: str | None
    seconds: float
    fidelity: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default=())
    weights: dict[str, Any] | None = None

    @property
    def size_ratio(self) -> float | None:
        if not self.float_tflite_bytes:
            return None
        return self.output_bytes / self.float_tflite_bytes

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["size_ratio"] = self.size_ratio
        out["float_ops"] = [asdict(f) for f in self.float_ops]
        return out


def find_float_ops(graph: Graph, layer_names: Sequence[str]) -> tuple[FloatOp, ...]:
    """Ops other than QUANTIZE/DEQUANTIZE with a float non-constant input or output."""
    found = []
    for op in graph.operators:
        if computes_in_float(graph, op):
            name = _first_output_name(graph, op)
            found.append(FloatOp(op.index, op.builtin, layer_for(name, layer_names), activation_dtypes(graph, op)))
    return tuple(found)


def ops_by_type(graph: Graph) -> dict[str, dict[str, int]]:
    """{op name: {dtype of its first output: count}}."""
    counts: Counter[tuple[str, str]] = Counter()
    for op in graph.operators:
        outs = [graph.tensors[i] for i in op.outputs if i >= 0]
        counts[(op.builtin, outs[0].dtype if outs else "none")] += 1
    table: dict[str, dict[str, int]] = {}
    for (name, dtype), n in sorted(counts.items()):
        table.setdefault(name, {})[dtype] = n
    return table


def io_tensors(specs: Sequence[ModelIO]) -> tuple[TensorQuant, ...]:
    """The report's view of the model's inputs (or outputs)."""
    return tuple(TensorQuant(s.name, s.shape, s.dtype, s.scale, s.zero_point) for s in specs)


def _first_output_name(graph: Graph, op: Any) -> str:
    outs = [i for i in op.outputs if i >= 0]
    return graph.tensors[outs[0]].name if outs else ""


def layer_for(tensor_name: str, layer_names: Sequence[str]) -> str | None:
    """Map a TFLite tensor name back to the Keras layer it came from.

    Tensor names are scope paths like ``functional_1/conv2d_3_1/Relu`` (Keras 3
    adds ``_1`` to layer scopes) or ``model/dense/MatMul;...``.
    """
    best: str | None = None
    for part in re.split(r"[/;]", tensor_name):
        for layer in layer_names:
            matches = part == layer or re.fullmatch(re.escape(layer) + r"(_\d+)?", part)
            if matches and (best is None or part == layer or len(layer) > len(best)):
                best = layer
        if best is not None:
            return best
    return None
