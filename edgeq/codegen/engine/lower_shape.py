"""Lowering of int8 ops that only move bytes: TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPLIT, SPLIT_V, PACK, UNPACK, GATHER.

TFLM copies the stored values of all of them without requantizing, and so do
these kernels. TRANSPOSE and the two block rearrangements are one permutation
of axes (``eq_permute_s8``): DEPTH_TO_SPACE reads its input as
``[N, H, W, b, b, C]`` and writes ``[N, H, b, W, b, C]``; SPACE_TO_DEPTH reads
``[N, H, b, W, b, C]`` and writes ``[N, H, W, b, b, C]``. Shapes and options
were checked by engine.validate (validate_shape_ops).
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.codegen.engine.emitter import INDENT, Emitter, wrap_braced, wrap_call
from edgeq.codegen.engine.lower_core import concat_bytes, expect_dtype, unsupported
from edgeq.model import Graph, Operator, Tensor

PERMUTE_RANK = 6  # the rank eq_permute_params holds


def _constant(graph: Graph, op: Operator, position: int, what: str) -> list[int]:
    values = graph.tensors[op.inputs[position]].numpy()
    if values is None:
        raise unsupported(op, f"non-constant {what}")
    return [int(v) for v in values.reshape(-1)]


def _source(em: Emitter, op: Operator, x: Tensor) -> str:
    """The C name of the data input: its tensor pointer, or its constant array when the model stores it."""
    return em.const_tensor(x, em.name(op.index, "data")) if x.is_constant else em.ptr(x.index)


def permute_params(shape: list[int], perm: list[int]) -> dict[str, list[int]]:
    """``eq_permute_params`` of a contiguous array of ``shape`` with its axes in the order ``perm``.

    Output axes of size 1 are dropped and neighbours that stay contiguous in the input are merged,
    so the innermost loop runs as long as it can; the rest is padded to rank 6.
    """
    in_strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
    axes = [(shape[p], in_strides[p]) for p in perm if shape[p] != 1]
    merged: list[tuple[int, int]] = []
    for size, stride in axes:
        if merged and merged[-1][1] == stride * size:
            merged[-1] = (merged[-1][0] * size, stride)
        else:
            merged.append((size, stride))
    if len(merged) > PERMUTE_RANK:
        raise ValueError(f"a permutation of rank {len(merged)} after merging axes")
    pad = PERMUTE_RANK - len(merged)
    return {"shape": [1] * pad + [n for n, _ in merged], "strides": [0] * pad + [s for _, s in merged]}


def _emit_permute(em: Emitter, op: Operator, x: Tensor, y: Tensor, shape: list[int], perm: list[int]) -> None:
    expect_dtype(op, [x, y])
    try:
        fields = permute_params(shape, perm)
    except ValueError as exc:
        raise unsupported(op, str(exc)) from None
    p = em.struct("eq_permute_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_permute_s8", [f"&{p}", _source(em, op, x), em.ptr(y.index)], op.builtin, "edgeq_data.c")


def lower_transpose(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    perm = [p % max(len(x.shape), 1) for p in _constant(graph, op, 1, "permutation")]
    _emit_permute(em, op, x, y, list(x.shape), perm)


def lower_space_depth(em: Emitter, graph: Graph, op: Operator) -> None:
    """DEPTH_TO_SPACE or SPACE_TO_DEPTH of an NHWC tensor, block size b, as one permutation."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    b = int(op.options.get("block_size", 0))
    n, h, w, c = x.shape
    to_space = op.builtin == "DEPTH_TO_SPACE"
    shape = [n, h, w, b, b, c // (b * b)] if to_space else [n, h // b, b, w // b, b, c]
    _emit_permute(em, op, x, y, shape, [0, 1, 3, 2, 4, 5])


def split_axis(graph: Graph, op: Operator) -> int:
    """The axis SPLIT, SPLIT_V or UNPACK cuts along (non-negative)."""
    x = graph.tensors[op.inputs[1] if op.builtin == "SPLIT" else op.inputs[0]]
    if op.builtin == "UNPACK":
        axis = int(op.options.get("axis", 0))
    else:
        axis = _constant(graph, op, 0 if op.builtin == "SPLIT" else 2, "axis")[0]
    return axis % max(len(x.shape), 1)


def lower_split(em: Emitter, graph: Graph, op: Operator) -> None:
    """SPLIT, SPLIT_V and UNPACK: each output takes its consecutive part of every row along the axis."""
    x = graph.tensors[op.inputs[1] if op.builtin == "SPLIT" else op.inputs[0]]
    outs = [graph.tensors[t] for t in op.outputs]
    expect_dtype(op, [x, *outs])
    axis = split_axis(graph, op)
    inner = math.prod(x.shape[axis + 1 :])
    parts = [inner if op.builtin == "UNPACK" else t.shape[axis] * inner for t in outs]
    inner_out = em.int_array(em.name(op.index, "inner_out"), parts)
    fields = {"outer": math.prod(x.shape[:axis]), "inner_in": x.shape[axis] * inner, "outputs": len(outs)}
    p = em.struct("eq_split_params", em.name(op.index, "params"), {**fields, "inner_out": inner_out})
    lines = [
        wrap_braced(f"{INDENT * 2}int8_t *const out[{len(outs)}] = {{", [em.ptr(t.index) for t in outs]),
        wrap_call(INDENT * 2, "eq_split_s8", [f"&{p}", _source(em, op, x), "out"]),
    ]
    em.block(op.index, lines, op.builtin, "edgeq_data.c")


def lower_pack(em: Emitter, graph: Graph, op: Operator) -> None:
    """PACK: CONCATENATION of the inputs along a new axis, bytes copied (TFLM does not requantize)."""
    inputs = [graph.tensors[i] for i in op.inputs]
    y = graph.tensors[op.outputs[0]]
    expect_dtype(op, [*inputs, y])
    axis = int(op.options.get("axis", 0)) % len(y.shape)
    concat_bytes(em, op, inputs, y, axis, [math.prod(y.shape[axis + 1 :])] * len(inputs))


def gather_dims(x_shape: tuple[int, ...], indices_shape: tuple[int, ...], axis: int, batch_dims: int) -> dict[str, int]:
    """Batches, outer, axis size, inner and coordinates per batch of a GATHER (non-negative axis and batch_dims)."""
    return {
        "batches": math.prod(x_shape[:batch_dims]),
        "outer": math.prod(x_shape[batch_dims:axis]),
        "axis_size": x_shape[axis],
        "inner": math.prod(x_shape[axis + 1 :]),
        "coords": math.prod(indices_shape[batch_dims:]),
    }


def gather_axes(graph: Graph, op: Operator) -> tuple[int, int]:
    """GATHER's axis and batch_dims, made non-negative as TFLM makes them."""
    x, indices = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    axis, batch_dims = int(op.options.get("axis", 0)), int(op.options.get("batch_dims", 0))
    axis += len(x.shape) if axis < 0 else 0
    batch_dims += len(indices.shape) if batch_dims < 0 else 0
    return axis, batch_dims


def lower_gather(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x, y])
    indices = graph.tensors[op.inputs[1]]
    values = np.asarray(_constant(graph, op, 1, "indices"), np.int64)
    axis, batch_dims = gather_axes(graph, op)
    table = em.int_array(em.name(op.index, "indices"), values.tolist())
    fields = {**gather_dims(x.shape, indices.shape, axis, batch_dims), "indices": table}
    p = em.struct("eq_gather_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_gather_s8", [f"&{p}", _source(em, op, x), em.ptr(y.index)], op.builtin, "edgeq_data.c")
