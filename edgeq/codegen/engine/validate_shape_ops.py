"""Per-op rules of engine.validate for TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPLIT, SPLIT_V, PACK, UNPACK and GATHER.

Each rule checks an op's output shapes against its input and its options or
constant operands, as TFLM's Prepare does, and raises ModelFormatError (through
``inconsistent``) when they disagree; a constant operand the engine needs but
the model computes at run time is an UnsupportedError naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from edgeq.codegen.engine.operands import constant_data, describe, inconsistent
from edgeq.errors import UnsupportedError
from edgeq.model import Graph, Operator, Tensor

MAX_TRANSPOSE_RANK = 6  # TFLM's TRANSPOSE takes ranks 1 to 6


def _values(graph: Graph, op: Operator, position: int, what: str) -> list[int]:
    t = graph.tensors[op.inputs[position]]
    if not t.is_constant:
        raise UnsupportedError(f"op {op.index} {op.builtin}: non-constant {what} is not supported by the edgeq engine")
    if t.dtype not in ("int32", "int64"):
        raise inconsistent(op, f"its {what} {describe(t)} are {t.dtype}")
    return [int(v) for v in constant_data(op, t).reshape(-1).astype(np.int64)]


def _axis(op: Operator, axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < rank:
        raise inconsistent(op, f"{what} {axis} is outside a tensor of rank {rank}")
    return axis % rank


def _expect(op: Operator, t: Tensor, shape: list[int], role: str = "output") -> None:
    if list(t.shape) != list(shape):
        raise inconsistent(op, f"its {role} {describe(t)} should be {list(shape)}")


def check_transpose(graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    perm = _values(graph, op, 1, "permutation")
    rank = len(x.shape)
    if rank > MAX_TRANSPOSE_RANK:
        raise UnsupportedError(
            f"op {op.index} TRANSPOSE: rank {rank} is not supported by the edgeq engine (TFLM takes up to 6)"
        )
    if sorted(p % rank if -rank <= p < rank else -1 for p in perm) != list(range(rank)):
        raise inconsistent(op, f"permutation {perm} is not one of the {rank} axes of {describe(x)}")
    _expect(op, y, [x.shape[p % rank] for p in perm])


def check_space_depth(graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    b = int(op.options.get("block_size", 0))
    if len(x.shape) != 4 or b < 1:
        raise inconsistent(op, f"block size {b} over input {describe(x)} (TFLM needs rank 4 and a block size >= 1)")
    n, h, w, c = x.shape
    if op.builtin == "DEPTH_TO_SPACE":
        if c % (b * b):
            raise inconsistent(op, f"{c} channels of {describe(x)} are not a multiple of {b * b}")
        want = [n, h * b, w * b, c // (b * b)]
    else:
        if h % b or w % b:
            raise inconsistent(op, f"height and width of {describe(x)} are not multiples of block size {b}")
        want = [n, h // b, w // b, c * b * b]
    _expect(op, y, want)


def _check_parts(op: Operator, x: Tensor, axis: int, sizes: list[int]) -> None:
    """Each output of a SPLIT or SPLIT_V is the input with ``sizes[k]`` along ``axis``."""
    if len(sizes) != len(op.outputs) or sum(sizes) != x.shape[axis] or min(sizes, default=0) < 1:
        raise inconsistent(op, f"parts {sizes} along axis {axis} of {describe(x)} into {len(op.outputs)} outputs")


def check_split(graph: Graph, op: Operator) -> None:
    x = graph.tensors[op.inputs[1]]
    axis = _axis(op, _values(graph, op, 0, "axis")[0], len(x.shape))
    count = int(op.options.get("num_splits", 0))
    if count != len(op.outputs) or count < 1 or x.shape[axis] % count:
        raise inconsistent(op, f"{count} splits into {len(op.outputs)} outputs along axis {axis} of {describe(x)}")
    _check_outputs(graph, op, x, axis, [x.shape[axis] // count] * count)


def check_split_v(graph: Graph, op: Operator) -> None:
    x = graph.tensors[op.inputs[0]]
    axis = _axis(op, _values(graph, op, 2, "axis")[0], len(x.shape))
    sizes = _values(graph, op, 1, "split sizes")
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    _check_parts(op, x, axis, sizes)
    _check_outputs(graph, op, x, axis, sizes)


def _check_outputs(graph: Graph, op: Operator, x: Tensor, axis: int, sizes: list[int]) -> None:
    for k, (t, size) in enumerate(zip(op.outputs, sizes)):
        shape = list(x.shape)
        shape[axis] = size
        _expect(op, graph.tensors[t], shape, f"output {k}")


def check_unpack(graph: Graph, op: Operator) -> None:
    x = graph.tensors[op.inputs[0]]
    axis = _axis(op, int(op.options.get("axis", 0)), len(x.shape))
    count = int(op.options.get("num", 0))
    if count != len(op.outputs) or count != x.shape[axis]:
        raise inconsistent(op, f"{count} values into {len(op.outputs)} outputs along axis {axis} of {describe(x)}")
    shape = [d for i, d in enumerate(x.shape) if i != axis]
    for k, t in enumerate(op.outputs):
        _expect(op, graph.tensors[t], shape, f"output {k}")


def check_pack(graph: Graph, op: Operator) -> None:
    inputs = [graph.tensors[i] for i in op.inputs]
    y = graph.tensors[op.outputs[0]]
    count = int(op.options.get("values_count", 0))
    if count != len(inputs) or any(list(t.shape) != list(inputs[0].shape) for t in inputs):
        shapes = [list(t.shape) for t in inputs]
        raise inconsistent(op, f"values_count {count} for inputs {shapes} (PACK needs inputs of one shape)")
    axis = _axis(op, int(op.options.get("axis", 0)), len(inputs[0].shape) + 1)
    shape = list(inputs[0].shape)
    shape.insert(axis, count)
    _expect(op, y, shape)


def check_gather(graph: Graph, op: Operator) -> None:
    x, indices, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    values = _values(graph, op, 1, "indices")
    axis = _axis(op, int(op.options.get("axis", 0)), len(x.shape))
    batch_dims = int(op.options.get("batch_dims", 0))
    batch_dims += len(indices.shape) if batch_dims < 0 else 0
    if not 0 <= batch_dims <= min(axis, len(indices.shape)) or list(x.shape[:batch_dims]) != list(
        indices.shape[:batch_dims]
    ):
        raise inconsistent(
            op, f"batch_dims {batch_dims} with axis {axis}, input {describe(x)}, indices {describe(indices)}"
        )
    if indices.dtype != "int32":
        raise UnsupportedError(f"op {op.index} GATHER: {indices.dtype} indices are not supported (TFLM takes int32)")
    if len(values) != math.prod(indices.shape) or any(not 0 <= v < x.shape[axis] for v in values):
        raise inconsistent(op, f"indices {values[:8]} are outside axis {axis} of {describe(x)}")
    _expect(op, y, [*x.shape[:axis], *indices.shape[batch_dims:], *x.shape[axis + 1 :]])


RULES: dict[str, Callable[[Graph, Operator], None]] = {
    "TRANSPOSE": check_transpose,
    "DEPTH_TO_SPACE": check_space_depth,
    "SPACE_TO_DEPTH": check_space_depth,
    "SPLIT": check_split,
    "SPLIT_V": check_split_v,
    "UNPACK": check_unpack,
    "PACK": check_pack,
    "GATHER": check_gather,
}

ARITY: dict[str, tuple[int, int]] = {
    "TRANSPOSE": (2, 2),
    "SPLIT": (2, 2),
    "SPLIT_V": (3, 3),
    "PACK": (1, 1 << 16),
    "GATHER": (2, 2),
}
"""op -> (fewest, most) inputs; the others here take one."""

MULTI_OUTPUT = frozenset({"SPLIT", "SPLIT_V", "UNPACK"})
"""Ops with one output per part (their rules check the count)."""
