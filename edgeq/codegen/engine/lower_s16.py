"""Lowering of the int16x8 ops (int16 activations, int8 weights, int64 biases) to the edgeq_s16 kernels.

The op table runs each op through :func:`by_dtype`: an op whose input is
int16 is lowered here (convolutions and FULLY_CONNECTED), in
``lower_s16_elementwise`` (ADD, MUL) or in ``lower_s16_nonlinear`` (LOGISTIC,
TANH, SOFTMAX); any other by its int8 lowering (docs/specs/int16x8-arithmetic.md). Requantization follows TFLM's int16 kernels:
per-channel multipliers as for int8 (``quantmath.conv_multipliers``), applied
to the int64 sum by the 64-bit MultiplyByQuantizedMultiplier, which needs a
shift of at most 7 and a sum below 2^47 in magnitude; both are checked here,
so the C never overflows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgeq.codegen.engine import lower_core as core
from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.operands import constant_data, inconsistent
from edgeq.errors import UnsupportedError
from edgeq.model import Graph, Operator, Tensor

CONV_KERNELS = "edgeq_s16_conv.c"
ACC_LIMIT = 1 << 47  # TFLM's 64-bit MultiplyByQuantizedMultiplier takes sums in (-2^47, 2^47)
MAX_SHIFT = 7  # ... and shifts up to 7 (a requantization multiplier below 2^7)
INT16_MAX = 32768  # the largest |int16| a product can see

Lowering = Callable[[Emitter, Graph, Any], None]


def is_s16(graph: Graph, op: Operator) -> bool:
    """Whether ``op`` reads an int16 activation (an int16x8 op)."""
    return graph.tensors[op.inputs[0]].dtype == "int16"


def by_dtype(int8: Lowering, int16: Lowering) -> Lowering:
    """A lowering that runs ``int16`` for an op with an int16 input and ``int8`` for any other."""

    def lower(em: Emitter, graph: Graph, op: Any) -> None:
        chosen = int16 if isinstance(op, Operator) and is_s16(graph, op) else int8
        chosen(em, graph, op)

    return lower


def lower_conv2d(em: Emitter, graph: Graph, op: Operator) -> None:
    """int16 CONV_2D (``eq_conv2d_s16``)."""
    _conv_like(em, graph, op, depthwise=False)


def lower_depthwise(em: Emitter, graph: Graph, op: Operator) -> None:
    """int16 DEPTHWISE_CONV_2D (``eq_depthwise_conv2d_s16``)."""
    _conv_like(em, graph, op, depthwise=True)


def lower_fully_connected(em: Emitter, graph: Graph, op: Operator) -> None:
    """int16 FULLY_CONNECTED (``eq_fully_connected_s16``), per-channel or per-tensor weights."""
    x, w, y, b = _operands(graph, op)
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        raise core.unsupported(op, f"weights format {op.options['weights_format']}")
    w_s, w_zp = core.qparams(op, w)
    out_depth, in_depth = w.shape
    w_offset = 0 if len(w_s) > 1 else -w_zp[0]  # TFLM's per-channel kernel ignores a weight zero point
    abs_sums = np.abs(constant_data(op, w).astype(np.int64) + w_offset).sum(1)
    fields = dict(
        batches=x.size // in_depth,
        in_depth=in_depth,
        out_depth=out_depth,
        weight_offset=w_offset,
        **_act_fields(op, y),
    )
    p = em.struct("eq_s16_fc_params", em.name(op.index, "params"), fields)
    weights = em.const_tensor(w, em.name(op.index, "fc_weights"), role="weights")
    channels = _channels(em, op, x, w, y, b, abs_sums)
    args = [f"&{p}", em.ptr(x.index), weights, channels, em.ptr(y.index)]
    em.call(op.index, "eq_fully_connected_s16", args, op.builtin, CONV_KERNELS)


def _conv_like(em: Emitter, graph: Graph, op: Operator, depthwise: bool) -> None:
    x, w, y, b = _operands(graph, op)
    if x.shape[0] != 1:
        raise core.unsupported(op, f"batch {x.shape[0]}")
    in_c, out_c = x.shape[3], y.shape[3]
    multiplier = op.options.get("depth_multiplier", 1) if depthwise else 1
    if depthwise and out_c != in_c * multiplier:
        raise core.unsupported(op, f"depth multiplier {multiplier} with {in_c} -> {out_c} channels")
    if not depthwise and w.shape[3] != in_c:
        raise core.unsupported(op, f"grouped convolution ({in_c} input channels, filters of {w.shape[3]})")
    fields = dict(**core.conv_fields(op, x, w, y), depth_multiplier=multiplier, **_act_fields(op, y))
    p = em.struct("eq_s16_conv_params", em.name(op.index, "params"), fields)
    magnitudes = np.abs(constant_data(op, w).astype(np.int64))
    abs_sums = magnitudes.reshape(-1, out_c).sum(0) if depthwise else magnitudes.reshape(out_c, -1).sum(1)
    weights = em.const_tensor(w, em.name(op.index, "dw_weights" if depthwise else "conv_weights"), role="weights")
    channels = _channels(em, op, x, w, y, b, abs_sums)
    kernel = "eq_depthwise_conv2d_s16" if depthwise else "eq_conv2d_s16"
    em.call(op.index, kernel, [f"&{p}", em.ptr(x.index), weights, channels, em.ptr(y.index)], op.builtin, CONV_KERNELS)


def _operands(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """Input, weights, output and bias (or None) of an int16x8 op, their dtypes and zero points checked."""
    x, w, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    b = graph.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
    core.expect_dtype(op, [x, y], "int16")
    if not w.is_constant:
        raise core.unsupported(op, "non-constant weights")
    core.expect_dtype(op, [w], "int8")
    if b is not None and (b.dtype != "int64" or not b.is_constant):
        raise core.unsupported(op, f"{b.dtype} bias of an int16 op (TFLM's int16x8 models have int64 biases)")
    check_zero_points(op, [x, y])
    return x, w, y, b


def check_zero_points(op: Operator, tensors: list[Tensor]) -> None:
    """int16 activations are symmetric: zero point 0 (TFLM's int16 kernels refuse any other)."""
    for t in tensors:
        _, (zp, *_) = core.qparams(op, t)
        if zp != 0:
            raise core.unsupported(op, f"int16 tensor {t.name!r} with zero point {zp} (int16x8 needs 0)")


def _act_fields(op: Operator, y: Tensor) -> dict[str, int]:
    fused = core.fused_activation(op)
    (scale,), (zp,) = core.qparams(op, y)
    try:
        lo, hi = qm.activation_range(fused, scale, zp, "int16")
    except ValueError as exc:
        raise inconsistent(op, f"{fused} over output scale {scale:g}: {exc}") from None
    return {"act_min": lo, "act_max": hi}


def _channels(
    em: Emitter, op: Operator, x: Tensor, w: Tensor, y: Tensor, b: Tensor | None, abs_sums: np.ndarray
) -> str:
    """The ``eq_s16_channel`` table (bias, multiplier, shift per output channel); returns its C name."""
    (in_s,), _ = core.qparams(op, x)
    w_s, _ = core.qparams(op, w)
    (out_s,), _ = core.qparams(op, y)
    channels = len(abs_sums)
    mult, shift = qm.conv_multipliers(in_s, w_s, out_s, channels)
    if max(shift) > MAX_SHIFT:
        raise UnsupportedError(
            f"op {op.index} {op.builtin}: input scale {in_s:g} x weight scale / output scale {out_s:g} is "
            f"2^{max(shift) - 1} or more; TFLM's int16 kernels take requantization multipliers below 2^{MAX_SHIFT}"
        )
    bias = constant_data(op, b).astype(np.int64).reshape(-1) if b is not None else np.zeros(channels, np.int64)
    worst = int((abs_sums.astype(np.int64) * INT16_MAX + np.abs(bias)).max(initial=0))
    if worst >= ACC_LIMIT:
        raise UnsupportedError(
            f"op {op.index} {op.builtin}: sums reach {worst:,}, beyond the 2^47 that TFLM's int16 kernels "
            "requantize; check the bias and weights (edgeq inspect)"
        )
    rows = [f"    {{{int(bv)}, {m}, {s}}}," for bv, m, s in zip(bias, mult, shift)]
    name = em.name(op.index, "channels")
    em.decls.append(
        "/* clang-format off */\n"
        f"static const eq_s16_channel {name}[{channels}] = {{\n" + "\n".join(rows) + "\n};\n/* clang-format on */"
    )
    em.add_flash("biases", 8 * channels)  # eq_s16_channel: int64 bias, int32 mult and shift
    em.add_flash("requant", 8 * channels)
    em.channel_rows += channels
    return name
