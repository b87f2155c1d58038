"""Lowering of int16x8 ADD and MUL (int16 inputs and output, zero point 0) to edgeq_s16_elementwise.c.

TFLM runs int16 ADD through the general int8 rule with a left shift of 15
instead of 20 (each input rescaled by ``s_i / (2 max(s1, s2))``, the sum by
``2 max(s1, s2) / (2^15 s_out)``), and int16 MUL as int8 MUL: the int32 product
through one multiplier ``s1 s2 / s_out``. Both clamp to the fused activation's
int16 range. The parameters fill the int8 kernels' ``eq_binary_params``.
"""

from __future__ import annotations

import numpy as np

from edgeq.codegen.engine import lower_core as core
from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_s16 import check_zero_points
from edgeq.model import Graph, Operator, Tensor

ELEMENTWISE_KERNELS = "edgeq_s16_elementwise.c"
ADD_LEFT_SHIFT_INT16 = 15  # TFLM's int16 ADD rescales its inputs by 2^15 before adding


def lower_binary(em: Emitter, graph: Graph, op: Operator) -> None:
    """int16 ADD or MUL of input 1 and input 2 (constants or tensors, broadcast as TFLite does)."""
    a, b, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    core.expect_dtype(op, [a, b, y], "int16")
    check_zero_points(op, [a, b, y])
    (s1,), _ = core.qparams(op, a)
    (s2,), _ = core.qparams(op, b)
    (so,), _ = core.qparams(op, y)
    fused = core.fused_activation(op)
    try:
        lo, hi = qm.activation_range(fused, so, 0, "int16")
        rescale = _add_multipliers(s1, s2, so) if op.builtin == "ADD" else _mul_multipliers(s1, s2, so)
    except ValueError as exc:
        raise core.unsupported(op, str(exc)) from None
    fields = {
        "size": y.size,
        **rescale,
        "in1_offset": 0,
        "in2_offset": 0,
        "out_offset": 0,
        "act_min": lo,
        "act_max": hi,
        **core.broadcast_fields(op, a, b, y),
    }
    p = em.struct("eq_binary_params", em.name(op.index, "params"), _ordered(fields))
    kernel = "eq_add_s16" if op.builtin == "ADD" else "eq_mul_s16"
    ins = [_operand(em, op, a, "in1"), _operand(em, op, b, "in2")]
    em.call(op.index, kernel, [f"&{p}", *ins, em.ptr(y.index)], op.builtin, ELEMENTWISE_KERNELS)


_FIELD_ORDER = (
    "size",
    "left_shift",
    "in1_offset",
    "in2_offset",
    "out_offset",
    "in1_mult",
    "in1_shift",
    "in2_mult",
    "in2_shift",
    "out_mult",
    "out_shift",
    "act_min",
    "act_max",
    "broadcast",
    "out_shape",
    "in1_strides",
    "in2_strides",
)


def _ordered(fields: dict[str, object]) -> dict[str, object]:
    """The fields in the order ``eq_binary_params`` declares them."""
    return {k: fields[k] for k in _FIELD_ORDER}


def _f64(scale: float) -> float:
    return float(np.float32(scale))  # a model scale as TFLM holds it


def _below_one(real: float, what: str) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: ``real`` must lie in (0, 1)."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"{what} multiplier {real!r} is outside (0, 1); TFLM rejects such scales")
    return qm.quantize_multiplier(real)


def _add_multipliers(s1: float, s2: float, so: float) -> dict[str, int]:
    """Input and output multipliers of int16 ADD, as TFLM's CalculateOpDataAdd computes them."""
    twice_max = 2.0 * max(_f64(s1), _f64(s2))
    m1, sh1 = _below_one(_f64(s1) / twice_max, "ADD input 1")
    m2, sh2 = _below_one(_f64(s2) / twice_max, "ADD input 2")
    mo, sho = _below_one(twice_max / ((1 << ADD_LEFT_SHIFT_INT16) * _f64(so)), "ADD output")
    return dict(
        left_shift=ADD_LEFT_SHIFT_INT16,
        in1_mult=m1,
        in1_shift=sh1,
        in2_mult=m2,
        in2_shift=sh2,
        out_mult=mo,
        out_shift=sho,
    )


def _mul_multipliers(s1: float, s2: float, so: float) -> dict[str, int]:
    """The one multiplier of int16 MUL (TFLM's CalculateOpDataMul); the input ones are unused."""
    mo, sho = qm.quantize_multiplier(_f64(s1) * _f64(s2) / _f64(so))
    if sho > 31:
        raise ValueError(f"MUL multiplier of 2^{sho - 1} or more")
    return dict(left_shift=0, in1_mult=0, in1_shift=0, in2_mult=0, in2_shift=0, out_mult=mo, out_shift=sho)


def _operand(em: Emitter, op: Operator, t: Tensor, role: str) -> str:
    """The C name of an input: its constant array or its tensor pointer."""
    return em.const_tensor(t, em.name(op.index, role)) if t.is_constant else em.ptr(t.index)
