"""Lowering of data movement: PAD, CONCATENATION, STRIDED_SLICE over int8 tensors."""

from __future__ import annotations

import math

from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_core import concat_bytes, expect_dtype, pad_shape4, qparams, unsupported
from edgeq.model import Graph, Operator


def lower_pad(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x, y])
    pads = graph.tensors[op.inputs[1]].numpy()
    if pads is None:
        raise unsupported(op, "non-constant paddings")
    pad_value = qparams(op, y)[1][0]
    if op.builtin == "PADV2" and len(op.inputs) > 2:
        constant = graph.tensors[op.inputs[2]].numpy()
        if constant is None:
            raise unsupported(op, "non-constant pad value")
        pad_value = int(constant.reshape(-1)[0])
    rank = len(x.shape)
    before = [0] * (4 - rank) + [int(v) for v in pads.reshape(rank, 2)[:, 0]]
    fields = {
        "in_shape": pad_shape4(op, x.shape),
        "out_shape": pad_shape4(op, y.shape),
        "before": before,
        "pad_value": pad_value,
    }
    p = em.struct("eq_pad_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_pad_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_data.c")


def lower_concat(em: Emitter, graph: Graph, op: Operator) -> None:
    inputs = [graph.tensors[i] for i in op.inputs]
    y = graph.tensors[op.outputs[0]]
    expect_dtype(op, [*inputs, y])
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise unsupported(op, "a fused activation")
    out_q = qparams(op, y)
    if any(qparams(op, t) != out_q for t in inputs):
        raise unsupported(op, "inputs quantized differently from the output (TFLM copies bytes)")
    axis = op.options.get("axis", 0) % len(y.shape)
    inner = math.prod(y.shape[axis + 1 :])
    concat_bytes(em, op, inputs, y, axis, [t.shape[axis] * inner for t in inputs])


def lower_strided_slice(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x, y])
    arrays = [graph.tensors[i].numpy() for i in op.inputs[1:4]]
    values = [v for v in arrays if v is not None]
    if len(values) != len(arrays):
        raise unsupported(op, "non-constant begin, end or strides")
    opts = op.options
    if opts.get("ellipsis_mask", 0) or opts.get("new_axis_mask", 0) or opts.get("offset", False):
        raise unsupported(op, "ellipsis, new-axis or offset masks")
    begin, end, strides = (v.reshape(-1).tolist() for v in values)
    start: list[int] = []
    stop: list[int] = []
    step: list[int] = []
    for axis, dim in enumerate(x.shape):
        b = None if opts.get("begin_mask", 0) >> axis & 1 else begin[axis]
        e = None if opts.get("end_mask", 0) >> axis & 1 else end[axis]
        if opts.get("shrink_axis_mask", 0) >> axis & 1:
            first = begin[axis] % dim
            b, e, s = first, first + 1, 1
        else:
            s = strides[axis]
        lo, hi, st = slice(b, e, s).indices(dim)
        start.append(lo)
        stop.append(hi)
        step.append(st)
    pad = 4 - len(x.shape)
    fields = {
        "in_shape": pad_shape4(op, x.shape),
        "start": [0] * pad + start,
        "stop": [1] * pad + stop,
        "step": [1] * pad + step,
        "out_size": y.size,
    }
    p = em.struct("eq_slice_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_strided_slice_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_data.c")
