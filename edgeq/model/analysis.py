"""What is in a .tflite model: per-op shapes, dtypes, quantization, MACs, sizes.

MACs follow the MLPerf Tiny convention: only multiply-accumulate heavy ops
count (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV,
BATCH_MATMUL, and UNIDIRECTIONAL_SEQUENCE_LSTM: its eight gate weight matrices
once per step); elementwise ops, pooling, softmax and data movement count 0.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeAlias

from edgeq.model.graph import Graph, Operator, Tensor, computes_in_float
from edgeq.model.reader import Source, read_model

Shape: TypeAlias = tuple[int, ...]
SHOWN_CHANNELS = 4  # per-channel scales / zero points listed before "... (count)"


@dataclass(frozen=True)
class TensorInfo:
    """A tensor as the ``inspect`` report shows it: a view of any :class:`~edgeq.model.graph.Tensor`.

    Any tensor, constants and per-channel weights included, with its quantization
    listed as stored. The model's inputs and outputs as runners exchange them
    (sample shape, byte layout, quantize/dequantize) are :class:`edgeq.model.io.ModelIO`.

    Attributes:
        index: Tensor index in the graph.
        name: Tensor name.
        shape: Static shape.
        dtype: dtype name, e.g. ``"int8"``.
        scale: The first :data:`SHOWN_CHANNELS` scales (empty when not quantized).
        zero_point: The first :data:`SHOWN_CHANNELS` zero points.
        quant_count: Total number of scales (1 per tensor, N per channel, 0 unquantized).
        per_channel: True for per-channel quantization.
        is_constant: True when the value is stored in the model.
    """

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    quant_count: int
    per_channel: bool
    is_constant: bool

    @classmethod
    def of(cls, tensor: Tensor) -> TensorInfo:
        """Summarise ``tensor``."""
        q = tensor.quantization
        return cls(
            index=tensor.index,
            name=tensor.name,
            shape=tensor.shape,
            dtype=tensor.dtype,
            scale=q.scale[:SHOWN_CHANNELS] if q else (),
            zero_point=q.zero_point[:SHOWN_CHANNELS] if q else (),
            quant_count=len(q.scale) if q else 0,
            per_channel=bool(q and q.per_channel),
            is_constant=tensor.is_constant,
        )


@dataclass(frozen=True)
class OpInfo:
    """One operator as the report shows it.

    Attributes:
        index: Execution position.
        op: Builtin name (or the custom code of a custom op).
        inputs: Input tensors; None for an absent optional input.
        outputs: Output tensors.
        macs: Multiply-accumulates (0 for ops outside the MLPerf Tiny convention).
        dtypes: Sorted distinct dtypes of all its tensors.
        is_float: True when the op computes in float (see :func:`computes_in_float`).
        options: Decoded builtin options.
    """

    index: int
    op: str
    inputs: tuple[TensorInfo | None, ...]
    outputs: tuple[TensorInfo, ...]
    macs: int
    dtypes: tuple[str, ...]
    is_float: bool
    options: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ModelInfo:
    """The result of :func:`inspect_model`.

    Attributes:
        file: The model's path (or ``<bytes>``).
        size_bytes: File size.
        sha256: Hex SHA-256 of the file.
        version: TFLite schema version.
        description: Model description string.
        inputs: Graph inputs.
        outputs: Graph outputs.
        ops: Every operator, in execution order.
        total_macs: Sum of the ops' MACs.
        parameter_bytes: Bytes of constant data (each buffer counted once).
        activation_bytes: Sum of the sizes of all non-constant tensors.
        peak_activation_bytes: Most bytes of non-constant tensors alive at once, walking
            the ops in order without in-place reuse (a rough lower bound for an arena).
        float_ops: Indices of the ops that compute in float.
        op_counts: Builtin name -> number of ops, most frequent first.
        tensor_count: Number of tensors.
    """

    file: str
    size_bytes: int
    sha256: str
    version: int
    description: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    ops: tuple[OpInfo, ...]
    total_macs: int
    parameter_bytes: int
    activation_bytes: int
    peak_activation_bytes: int
    float_ops: tuple[int, ...]
    op_counts: dict[str, int] = field(hash=False)
    tensor_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists when serialised)."""
        return asdict(self)


def inspect_model(source: Source | Graph) -> ModelInfo:
    """Summarise a model: per-op shapes, dtypes, quantization and MACs, plus totals.

    Args:
        source: A .tflite path, its bytes, or an already-read :class:`Graph`.

    Raises:
        ModelFormatError: ``source`` cannot be read as a single-subgraph TFLite model.
    """
    graph = source if isinstance(source, Graph) else read_model(source)
    ops = tuple(_op_info(graph, op) for op in graph.operators)
    buffers = {t.buffer: len(t.data) for t in graph.tensors if t.data is not None}
    return ModelInfo(
        file=graph.name,
        size_bytes=graph.size_bytes,
        sha256=graph.sha256,
        version=graph.version,
        description=graph.description,
        inputs=tuple(TensorInfo.of(t) for t in graph.input_tensors),
        outputs=tuple(TensorInfo.of(t) for t in graph.output_tensors),
        ops=ops,
        total_macs=sum(op.macs for op in ops),
        parameter_bytes=sum(buffers.values()),
        activation_bytes=sum(t.nbytes for t in graph.tensors if not t.is_constant),
        peak_activation_bytes=peak_activation_bytes(graph),
        float_ops=tuple(op.index for op in ops if op.is_float),
        op_counts=dict(Counter(op.op for op in ops).most_common()),
        tensor_count=len(graph.tensors),
    )


def _op_info(graph: Graph, op: Operator) -> OpInfo:
    inputs = tuple(graph.tensor(i) for i in op.inputs)
    outputs = tuple(graph.tensors[i] for i in op.outputs)
    present = [t for t in inputs if t is not None] + list(outputs)
    return OpInfo(
        index=op.index,
        op=op.name,
        inputs=tuple(None if t is None else TensorInfo.of(t) for t in inputs),
        outputs=tuple(TensorInfo.of(t) for t in outputs),
        macs=op_macs(graph, op),
        dtypes=tuple(sorted({t.dtype for t in present})),
        is_float=computes_in_float(graph, op),
        options=dict(op.options),
    )


def op_macs(graph: Graph, op: Operator) -> int:
    """Multiply-accumulates of one op (MLPerf Tiny convention; 0 for other ops or odd shapes)."""
    shapes: list[Shape] = [() if i < 0 else graph.tensors[i].shape for i in op.inputs]
    out: Shape = graph.tensors[op.outputs[0]].shape if op.outputs else ()
    rule = _MAC_RULES.get(op.builtin)
    return rule(shapes, out, op.options) if rule else 0


def _conv(shapes: list[Shape], out: Shape, options: Mapping[str, Any]) -> int:
    w: Shape = shapes[1] if len(shapes) > 1 else ()  # (out_c, k_h, k_w, in_c / groups)
    return math.prod(out) * w[1] * w[2] * w[3] if len(w) == 4 else 0


def _depthwise(shapes: list[Shape], out: Shape, options: Mapping[str, Any]) -> int:
    w: Shape = shapes[1] if len(shapes) > 1 else ()  # (1, k_h, k_w, out_c)
    return math.prod(out) * w[1] * w[2] if len(w) == 4 else 0


def _fully_connected(shapes: list[Shape], out: Shape, options: Mapping[str, Any]) -> int:
    w: Shape = shapes[1] if len(shapes) > 1 else ()  # (units, in_features)
    return math.prod(out) * w[-1] if len(w) == 2 else 0


def _transpose_conv(shapes: list[Shape], out: Shape, options: Mapping[str, Any]) -> int:
    # inputs: output_shape, weights (out_c, k_h, k_w, in_c), input; each input value
    # is multiplied into k_h * k_w * out_c outputs.
    if len(shapes) < 3 or len(shapes[1]) != 4:
        return 0
    w = shapes[1]
    return math.prod(shapes[2]) * w[0] * w[1] * w[2]


def _batch_matmul(shapes: list[Shape], out: Shape, options: Mapping[str, Any]) -> int:
    a: Shape = shapes[0] if shapes else ()
    if len(a) < 2:
        return 0
    inner = a[-2] if options.get("adj_x") else a[-1]
    return math.prod(out) * inner


def _lstm(shapes: list[Shape], out: Shape, options: Mapping[str, Any]) -> int:
    # inputs 1-4: input weights (units, features); 5-8: recurrent weights (units, units); out (.., steps, units)
    weights = [w for w in shapes[1:9] if len(w) == 2]
    units = out[-1] if out else 0
    return math.prod(out) // units * sum(w[0] * w[1] for w in weights) if units else 0


_MAC_RULES: dict[str, Callable[[list[Shape], Shape, Mapping[str, Any]], int]] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "TRANSPOSE_CONV": _transpose_conv,
    "BATCH_MATMUL": _batch_matmul,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm,
}


def peak_activation_bytes(graph: Graph) -> int:
    """Most bytes of non-constant tensors alive at once, running the ops in order.

    A tensor lives from its producer (or the start, for graph inputs) to its
    last consumer (or the end, for graph outputs). No in-place reuse and no
    alignment, so a real arena is at least this large only approximately.
    """
    last_use = {t: op.index for op in graph.operators for t in op.inputs if t >= 0}
    last_use.update({t: len(graph.operators) for t in graph.outputs})
    live = {t for t in graph.inputs if not graph.tensors[t].is_constant}
    peak = sum(graph.tensors[t].nbytes for t in live)
    for op in graph.operators:
        live.update(t for t in op.outputs if not graph.tensors[t].is_constant)
        peak = max(peak, sum(graph.tensors[t].nbytes for t in live))
        live = {t for t in live if last_use.get(t, -1) > op.index}
    return peak
