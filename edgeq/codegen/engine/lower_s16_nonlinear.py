"""Lowering of int16x8 LOGISTIC, TANH (edgeq_s16_nonlinear.c) and SOFTMAX (edgeq_s16_softmax.c).

TFLM's int16 kernels look the sigmoid up in a table indexed by the input
rescaled to ``x * 3 * 2^12``. Their Prepare step, reproduced by
:func:`table_input_scale`: an input scale that is exactly ``2^-12`` (LOGISTIC;
TANH also ``2^-11``) uses the multiplier ``3 << shift`` without a shift; any
other scale gets the multiplier ``s * 3 * 4096`` doubled until it exceeds
32767 / 2 (at most 31 times), truncated to an integer, with that many right
shifts. The output scale must be ``2^-15``.

SOFTMAX interpolates two tables TFLM builds in float32 when it prepares the op
(:func:`interpolation_table`); they depend on no model parameter, so every
engine holds the same two 513-entry int16 arrays, emitted once.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from edgeq.codegen.engine import lower_core as core
from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_s16 import check_zero_points
from edgeq.model import Graph, Operator

NONLINEAR_KERNELS = "edgeq_s16_nonlinear.c"
INPUT_INTEGER_BITS = 3  # TFLM's int16 LOGISTIC and TANH read inputs as Q3.12
OUTPUT_SCALE_LOG2 = -15


def checked_log2(scale: float) -> tuple[int, bool]:
    """TFLM's CheckedLog2 in float32: (the rounded log2 of ``scale``, whether ``scale`` is that power of two)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x_log2 = np.float32(np.log(np.float32(scale))) * (np.float32(1.0) / np.float32(np.log(np.float32(2.0))))
    rounded = qm.round_half_away(float(x_log2))
    return rounded, bool(abs(float(np.float32(x_log2 - np.float32(rounded)))) < 1e-3)


def table_input_scale(in_scale: float, tanh: bool) -> tuple[int, int]:
    """``(mult, shift)`` taking an int16 input of scale ``in_scale`` to the table's ``x * 3 * 2^12``."""
    log2, pot = checked_log2(in_scale)
    shift = (15 - INPUT_INTEGER_BITS) + log2
    if pot and (shift == 0 or (tanh and shift == 1)):
        return 3 << shift, 0
    multiplier = float(np.float32(in_scale)) * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def _lower(em: Emitter, graph: Graph, op: Operator, tanh: bool) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    core.expect_dtype(op, [x, y], "int16")
    check_zero_points(op, [x, y])
    (in_s,), _ = core.qparams(op, x)
    (out_s,), _ = core.qparams(op, y)
    out_log2, out_pot = checked_log2(out_s)
    if not out_pot or out_log2 != OUTPUT_SCALE_LOG2:
        raise core.unsupported(op, f"int16 output scale {out_s:g} (TFLM's int16 {op.builtin} needs 2^-15)")
    mult, shift = table_input_scale(in_s, tanh)
    if mult > 32767 or 32768 * mult + (1 << max(shift - 1, 0)) >= 1 << 31:
        raise core.unsupported(op, f"int16 input scale {in_s:g} (its rescaling overflows TFLM's int32 arithmetic)")
    p = em.struct("eq_s16_sigmoid_params", em.name(op.index, "params"), {"size": x.size, "mult": mult, "shift": shift})
    kernel = "eq_tanh_s16" if tanh else "eq_logistic_s16"
    em.call(op.index, kernel, [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, NONLINEAR_KERNELS)


def lower_logistic(em: Emitter, graph: Graph, op: Operator) -> None:
    """int16 LOGISTIC."""
    _lower(em, graph, op, tanh=False)


def lower_tanh(em: Emitter, graph: Graph, op: Operator) -> None:
    """int16 TANH."""
    _lower(em, graph, op, tanh=True)


# ---- SOFTMAX ----

SOFTMAX_KERNELS = "edgeq_s16_softmax.c"
LUT_STEPS = 512  # a table holds LUT_STEPS + 1 entries
_F32 = np.float32


def _round_f32(x: np.float32) -> np.float32:
    """``roundf``: halves away from zero, on a float32."""
    return _F32(qm.round_half_away(float(x)))


def interpolation_table(in_scale: float, in_zp: int, out_scale: float, fn) -> np.ndarray:
    """TFLM's int16 lookup table (LUTPopulate for int16, all arithmetic in float32): 513 int16 entries.

    Entry i samples ``fn`` at ``in_min + i * step`` (512 steps over the int16 input range), lowered
    by half the rounded error of linear interpolation at the middle of its step; the last entry
    samples the top of the range.
    """
    s, o = _F32(in_scale), _F32(out_scale)
    lo, hi = s * _F32(-32768 - in_zp), s * _F32(32767 - in_zp)
    step = (hi - lo) / _F32(LUT_STEPS)
    half = step / _F32(2)
    inv = _F32(65536) / (o * _F32(32767) - o * _F32(-32768))
    table = np.empty(LUT_STEPS + 1, np.int16)
    for i in range(LUT_STEPS):
        val, mid, nxt = fn(lo + _F32(i) * step), fn(lo + _F32(i) * step + half), fn(lo + _F32(i + 1) * step)
        sample = _round_f32(val * inv)
        interpolated = _round_f32((nxt * inv + _round_f32(val * inv)) / _F32(2))
        bias = _round_f32((interpolated - _round_f32(mid * inv)) / _F32(2))
        table[i] = int(min(max(sample - bias, _F32(-32768)), _F32(32767)))
    table[LUT_STEPS] = int(min(max(_round_f32(fn(hi) * inv), _F32(-32768)), _F32(32767)))
    return table


def _exp(x: np.float32) -> np.float32:
    return _F32(math.exp(float(x)))


def _one_over_one_plus(x: np.float32) -> np.float32:
    return _F32(1.0) / (_F32(1.0) + x)


@cache
def softmax_tables() -> tuple[np.ndarray, np.ndarray]:
    """The exp table over [-10, 0] and the 1 / (1 + x) table over [0, 1] of TFLM's int16 SOFTMAX."""
    span = 65535  # int16 max - min
    exp_table = interpolation_table(float(_F32(10.0) / _F32(span)), 32767, float(_F32(2.0) / _F32(span)), _exp)
    recip = interpolation_table(
        float(_F32(1.0) / _F32(span)), -32768, float(_F32(2.0) / _F32(span)), _one_over_one_plus
    )
    return exp_table, recip


def lower_softmax(em: Emitter, graph: Graph, op: Operator) -> None:
    """int16 SOFTMAX over the last axis: output scale 2^-15, zero points 0."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    core.expect_dtype(op, [x, y], "int16")
    check_zero_points(op, [x, y])
    (in_s,), _ = core.qparams(op, x)
    (out_s,), _ = core.qparams(op, y)
    if abs(float(_F32(out_s)) - 1.0 / 32768) > 0.001 / 32768:
        raise core.unsupported(op, f"int16 output scale {out_s:g} (TFLM's int16 SOFTMAX needs 2^-15)")
    depth = x.shape[-1]
    if depth > 65536:
        raise core.unsupported(op, f"a last axis of {depth} (the int32 sum of exps holds at most 65536)")
    beta = float(_F32(op.options.get("beta", 1.0)))
    mult, shift = qm.quantize_multiplier(float(_F32(in_s)) * beta / (10.0 / 65535.0))
    if shift > 31:
        raise core.unsupported(op, f"input scale {in_s:g} with beta {beta:g}")
    exp_table, recip = softmax_tables()
    exp_name = em.const_array(("s16_softmax", "exp"), f"{em.ident}_s16_exp_table", exp_table, "exp on [-10, 0]")
    recip_name = em.const_array(("s16_softmax", "recip"), f"{em.ident}_s16_recip_table", recip, "1 / (1 + x) on [0, 1]")
    fields: dict[str, object] = {"rows": x.size // depth, "depth": depth, "mult": mult, "shift": shift}
    fields.update(exp_lut=exp_name, recip_lut=recip_name)
    p = em.struct("eq_s16_softmax_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_softmax_s16", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, SOFTMAX_KERNELS)
