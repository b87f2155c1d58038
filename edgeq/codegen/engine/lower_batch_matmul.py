"""Lowering of BATCH_MATMUL over two int8 tensors (either may be a constant).

TFLM multiplies the two matrices of every batch, broadcasting the batch
dimensions, and requantizes each sum with one multiplier computed from the
float32 product of the two input scales. The generator turns adj_x / adj_y into
strides and the broadcast into per-batch offsets, so the kernel reads both
operands in place.
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_core import expect_dtype, qparams, unsupported
from edgeq.codegen.engine.operands import inconsistent
from edgeq.model import Graph, Operator, Tensor

SOURCE = "edgeq_batch_matmul.c"


def batch_offsets(lhs: tuple[int, ...], rhs: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """Per output batch (broadcast, row-major), the element offset of its lhs and of its rhs matrix."""
    rank = max(len(lhs), len(rhs))
    lb, rb = ((1,) * (rank - len(s)) + tuple(s[:-2]) for s in (lhs, rhs))
    out = np.broadcast_shapes(lb, rb)
    offsets = []
    for dims, shape in ((lb, lhs), (rb, rhs)):
        index = np.broadcast_to(np.arange(math.prod(dims)).reshape(dims), out).reshape(-1)
        offsets.append([int(i) * shape[-2] * shape[-1] for i in index])
    return offsets[0], offsets[1]


def _operand(em: Emitter, op: Operator, t: Tensor, what: str) -> str:
    return em.const_tensor(t, em.name(op.index, what)) if t.is_constant else em.ptr(t.index)


def _requant(op: Operator, lhs: Tensor, rhs: Tensor, y: Tensor) -> tuple[int, int]:
    """TFLM's multiplier: (double)(float32 lhs scale * float32 rhs scale) / (double)output scale."""
    for t in (lhs, rhs):
        if len(qparams(op, t)[0]) != 1:
            raise unsupported(op, f"per-channel quantization of {t.name!r}")
    product = float(np.float32(qparams(op, lhs)[0][0]) * np.float32(qparams(op, rhs)[0][0]))
    mult, shift = qm.quantize_multiplier(product / float(np.float32(qparams(op, y)[0][0])))
    if shift > 31:
        raise inconsistent(op, f"the input scales over the output scale {qparams(op, y)[0][0]:g} give 2^{shift - 1}")
    return mult, shift


def lower_batch_matmul(em: Emitter, graph: Graph, op: Operator) -> None:
    lhs, rhs, y = (graph.tensors[t] for t in (*op.inputs[:2], op.outputs[0]))
    expect_dtype(op, [lhs, rhs, y])
    adj_x, adj_y = bool(op.options.get("adj_x", False)), bool(op.options.get("adj_y", False))
    l_rows, l_cols = lhs.shape[-2:]
    r_rows, r_cols = rhs.shape[-2:]
    rows, depth = (l_cols, l_rows) if adj_x else (l_rows, l_cols)
    cols = r_rows if adj_y else r_cols
    lhs_batch, rhs_batch = batch_offsets(tuple(lhs.shape), tuple(rhs.shape))
    mult, shift = _requant(op, lhs, rhs, y)
    fields = {
        "batches": len(lhs_batch),
        "rows": rows,
        "cols": cols,
        "depth": depth,
        "lhs_row_stride": 1 if adj_x else l_cols,
        "lhs_depth_stride": l_cols if adj_x else 1,
        "rhs_depth_stride": 1 if adj_y else r_cols,
        "rhs_col_stride": r_cols if adj_y else 1,
        "lhs_batch": em.int_array(em.name(op.index, "lhs_batch"), lhs_batch),
        "rhs_batch": em.int_array(em.name(op.index, "rhs_batch"), rhs_batch),
        "lhs_offset": -qparams(op, lhs)[1][0],
        "rhs_offset": -qparams(op, rhs)[1][0],
        "out_offset": qparams(op, y)[1][0],
        "mult": mult,
        "shift": shift,
    }
    p = em.struct("eq_batch_matmul_params", em.name(op.index, "params"), fields)
    args = [f"&{p}", _operand(em, op, lhs, "lhs"), _operand(em, op, rhs, "rhs"), em.ptr(y.index)]
    em.call(op.index, "eq_batch_matmul_s8", args, op.builtin, SOURCE)
