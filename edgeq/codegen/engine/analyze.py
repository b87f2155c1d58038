"""Which ops the engine runs, which tensors it folds into constants, which buffers alias.

Shape arithmetic that Keras exports around Flatten (SHAPE -> STRIDED_SLICE ->
PACK -> RESHAPE's shape input) only computes what the static shapes already
say: it is evaluated here, at generation time, and disappears from the engine.
Reshape-like ops move no data: their output shares the input's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeq.codegen.engine.fuse import fuse_conv_add
from edgeq.codegen.engine.operands import ALIAS_OPS, data_inputs
from edgeq.codegen.engine.validate_ops import check_arity
from edgeq.errors import ModelFormatError, UnsupportedError
from edgeq.model import Graph, Operator

FOLDABLE_OPS = frozenset({"SHAPE", "STRIDED_SLICE", "PACK", "CONCATENATION", "RESHAPE", "SQUEEZE", "EXPAND_DIMS"})


@dataclass(frozen=True)
class Analysis:
    """The ops to emit (in order), constants computed here, and alias pairs (input, output)."""

    ops: tuple[Operator, ...]
    folded: dict[int, np.ndarray]
    aliases: tuple[tuple[int, int], ...]


def analyze(graph: Graph) -> Analysis:
    """Fold shape arithmetic, find aliases, and drop ops whose results nothing needs."""
    if graph.subgraph_count != 1:
        raise UnsupportedError("the engine supports single-subgraph models")
    folded: dict[int, np.ndarray] = {}
    emitted: list[Operator] = []
    for op in graph.operators:
        value = _fold_checked(graph, op, folded)
        if value is not None:
            folded[op.outputs[0]] = value
        else:
            emitted.append(op)
    needed = _needed(graph, emitted)
    ops = [op for op in emitted if any(o in needed for o in op.outputs)]
    for op in ops:
        check_arity(op)
    aliases = [(_data_input(op), op.outputs[0]) for op in ops if op.builtin in ALIAS_OPS]
    ops, in_place = fuse_conv_add(graph, ops, {t for pair in aliases for t in pair})
    return Analysis(tuple(ops), folded, tuple(aliases + in_place))


def _data_input(op: Operator) -> int:
    return op.inputs[0]


def _value(graph: Graph, t: int, folded: dict[int, np.ndarray]) -> np.ndarray | None:
    if t in folded:
        return folded[t]
    tensor = graph.tensors[t]
    return tensor.numpy() if tensor.is_constant else None


def _fold_checked(graph: Graph, op: Operator, folded: dict[int, np.ndarray]) -> np.ndarray | None:
    """_fold, with arithmetic the op's constants do not allow as a ModelFormatError naming the op."""
    try:
        return _fold(graph, op, folded)
    except (ValueError, IndexError, TypeError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ModelFormatError(
            f"op {op.index} {op.builtin} over constants cannot be computed ({detail}); "
            "the model is inconsistent, re-export it with the TFLite converter"
        ) from None


def _fold(graph: Graph, op: Operator, folded: dict[int, np.ndarray]) -> np.ndarray | None:
    """The value of an op over constants (int32 shape arithmetic), or None."""
    if op.builtin not in FOLDABLE_OPS or len(op.outputs) != 1:
        return None
    out = graph.tensors[op.outputs[0]]
    if op.builtin == "SHAPE":
        source = graph.tensors[op.inputs[0]]
        return np.asarray(source.shape, np.int32)
    if out.dtype not in ("int32", "int64"):
        return None
    found = [_value(graph, i, folded) for i in op.inputs if i >= 0]
    values = [v for v in found if v is not None]
    if len(values) != len(found):
        return None
    if op.builtin == "PACK":
        return np.stack(values, axis=op.options.get("axis", 0)).astype(np.int32)
    if op.builtin == "STRIDED_SLICE":
        return _strided_slice_1d(values, op).astype(np.int32)
    if op.builtin == "CONCATENATION":
        return np.concatenate([np.atleast_1d(v) for v in values], axis=op.options.get("axis", 0)).astype(np.int32)
    return np.asarray(values[0]).reshape(out.shape).astype(np.int32)


def _strided_slice_1d(values: list[np.ndarray], op: Operator) -> np.ndarray:
    data, begin, end, strides = (np.asarray(v).reshape(-1) for v in values)
    if data.ndim != 1 or len(begin) != 1:
        raise UnsupportedError(f"op {op.index} STRIDED_SLICE over constants: only 1-D shape slices are folded")
    opts = op.options
    b = None if opts.get("begin_mask", 0) & 1 else int(begin[0])
    e = None if opts.get("end_mask", 0) & 1 else int(end[0])
    result = data[slice(b, e, int(strides[0]))]
    if opts.get("shrink_axis_mask", 0) & 1:
        return np.asarray(data[int(begin[0])])
    return result


def _needed(graph: Graph, ops: list[Operator]) -> set[int]:
    """Tensors the graph outputs depend on through the emitted ops."""
    producer = {o: op for op in ops for o in op.outputs}
    needed, stack = set(), list(graph.outputs)
    while stack:
        t = stack.pop()
        if t in needed:
            continue
        needed.add(t)
        op = producer.get(t)
        if op is not None:
            stack.extend(data_inputs(op))
    return needed
