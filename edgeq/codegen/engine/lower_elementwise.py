"""Lowering of the binary ops (ADD, MUL, SUB, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU), the RELU family and the QUANTIZE / DEQUANTIZE edges."""

from __future__ import annotations

from edgeq.codegen.engine import binary_params as bp
from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_core import (
    broadcast_fields,
    conv_parts,
    expect_dtype,
    fused_activation,
    kernel_scratch,
    qparams,
    unsupported,
)
from edgeq.codegen.engine.operands import inconsistent
from edgeq.codegen.engine.scratch import MM_COLS
from edgeq.model import Graph, Operator, Tensor

BINARY_KERNELS = {
    "ADD": "eq_add_s8",
    "MUL": "eq_mul_s8",
    "SUB": "eq_sub_s8",
    "SQUARED_DIFFERENCE": "eq_squared_difference_s8",
    "MAXIMUM": "eq_maximum_s8",
    "MINIMUM": "eq_minimum_s8",
    "PRELU": "eq_prelu_s8",
}
"""Binary op -> its kernel in edgeq_elementwise.c (each takes ``eq_binary_params``)."""


def lower_binary(em: Emitter, graph: Graph, op: Operator) -> None:
    a, b, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    p = em.struct("eq_binary_params", em.name(op.index, "params"), _binary_fields(op, a, b, y))
    ins = [_operand(em, op, a, "in1"), _operand(em, op, b, "alpha" if op.builtin == "PRELU" else "in2")]
    kernel = BINARY_KERNELS[op.builtin]
    em.call(op.index, kernel, [f"&{p}", *ins, em.ptr(y.index)], op.builtin, "edgeq_elementwise.c")


def _binary_fields(op: Operator, a: Tensor, b: Tensor, y: Tensor) -> dict[str, object]:
    """``eq_binary_params`` of an int8 binary op of ``a`` (input 1) and ``b`` (input 2) into ``y``."""
    expect_dtype(op, [a, b, y])
    (s1,), (z1,) = qparams(op, a)
    (s2,), (z2,) = _scalar_qparams(op, b)
    (so,), (zo,) = qparams(op, y)
    try:
        return {"size": y.size, **_quant_fields(op, s1, z1, s2, z2, so, zo), **broadcast_fields(op, a, b, y)}
    except ValueError as exc:
        raise unsupported(op, str(exc)) from exc


def _scalar_qparams(op: Operator, t: Tensor) -> tuple[list[float], list[int]]:
    """The per-tensor scale and zero point of ``t``; several (a per-channel PRELU alpha) are refused."""
    scales, zps = qparams(op, t)
    if len(scales) != 1:
        raise unsupported(op, f"tensor {t.name!r} quantized per channel ({len(scales)} scales)")
    return scales, zps


def _quant_fields(op: Operator, s1: float, z1: int, s2: float, z2: int, so: float, zo: int) -> dict[str, int]:
    """The requantization fields of ``op``, as TFLM's Prepare of that op computes them."""
    kind = op.builtin
    if kind in ("ADD", "MUL", "SUB"):
        make = {"ADD": qm.add_params, "MUL": qm.mul_params, "SUB": bp.sub_params}[kind]
        return make(s1, z1, s2, z2, so, zo, fused=fused_activation(op))
    if kind == "SQUARED_DIFFERENCE":
        return bp.squared_difference_params(s1, z1, s2, z2, so, zo)
    if kind == "PRELU":
        return bp.prelu_params(s1, z1, s2, z2, so, zo)
    return bp.compare_params()


def _operand(em: Emitter, op: Operator, t: Tensor, role: str) -> str:
    """The C name of an input: its constant array (named after the op and ``role``) or its tensor pointer."""
    return em.const_tensor(t, em.name(op.index, role)) if t.is_constant else em.ptr(t.index)


def lower_relu(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x, y])
    (si,), (zi,) = qparams(op, x)
    (so,), (zo,) = qparams(op, y)
    try:
        fields = {"size": x.size, **qm.relu_params(op.builtin, si, zi, so, zo)}
    except ValueError as exc:
        raise inconsistent(op, str(exc)) from None
    p = em.struct("eq_unary_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_relu_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_elementwise.c")


def lower_quantize(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [y])
    (so,), (zo,) = qparams(op, y)
    if x.dtype == "float32":
        fields = {"size": x.size, "scale": float(so), "zero_point": zo, "qmin": -128, "qmax": 127}
        p = em.struct("eq_quant_params", em.name(op.index, "params"), fields)
        em.call(
            op.index, "eq_quantize_f32_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_quant.c"
        )
        return
    expect_dtype(op, [x])
    (si,), (zi,) = qparams(op, x)
    fields = {"size": x.size, **qm.requantize_params(si, zi, so, zo)}
    p = em.struct("eq_unary_params", em.name(op.index, "params"), fields)
    args = [f"&{p}", em.ptr(x.index), em.ptr(y.index)]
    em.call(op.index, "eq_requantize_s8", args, op.builtin, "edgeq_elementwise.c")


def lower_dequantize(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x])
    expect_dtype(op, [y], "float32")
    (si,), (zi,) = qparams(op, x)
    fields = {"size": x.size, "scale": float(si), "zero_point": zi, "qmin": -128, "qmax": 127}
    p = em.struct("eq_quant_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_dequantize_s8_f32", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_quant.c")


def lower_conv_add(em: Emitter, graph: Graph, fused) -> None:
    """CONV_2D + ADD in place over the residual (see edgeq.codegen.engine.fuse)."""
    conv, add = fused.conv, fused.add
    c, x, y = (graph.tensors[t] for t in (conv.outputs[0], fused.residual, add.outputs[0]))
    first, second = (c, x) if fused.conv_is_in1 else (x, c)
    pa = em.struct("eq_binary_params", em.name(add.index, "params"), _binary_fields(add, first, second, y))
    cols = em.block_cols.get(fused.index, MM_COLS)
    pc, xin, args = conv_parts(em, graph, conv, depthwise=False, cols=cols, owner=fused.index)
    scratch = kernel_scratch(em, graph, conv, fused.index)
    call = [f"&{pc}", f"&{pa}", str(int(fused.conv_is_in1)), xin, *args, scratch, em.ptr(x.index)]
    em.call(add.index, "eq_conv2d_add_s8", call, f"CONV_2D (op {conv.index}) + ADD in place", "edgeq_conv.c")
    em.kernels.add("edgeq_elementwise.c")
