"""Lowering of the upsampling ops: RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR and TRANSPOSE_CONV (int8, NHWC).

The resizes keep the input's quantization (TFLM moves and interpolates the raw
int8 values), so an output quantized differently is refused. Nearest-neighbour
source indices are chosen here with TFLM's single-precision arithmetic and
handed to the kernel as tables; the bilinear kernel repeats TFLM's integer
arithmetic from two scales computed here. TRANSPOSE_CONV requantizes per output
channel through the same table as CONV_2D (engine.requant_table).
"""

from __future__ import annotations

import math

import numpy as np

from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_core import (
    act_range,
    expect_dtype,
    multipliers,
    qparams,
    unsupported,
    window_fields,
    window_pad,
)
from edgeq.codegen.engine.operands import constant_data
from edgeq.codegen.engine.requant_table import acc_bounds, channel_table
from edgeq.model import Graph, Operator, Tensor

RESIZE_SOURCE = "edgeq_resize.c"
TRANSPOSE_CONV_SOURCE = "edgeq_transpose_conv.c"


def _resize_io(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, dict[str, int]]:
    """Input, output and the shape fields both resize kernels take; refuses what TFLM would not run."""
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    expect_dtype(op, [x, y])
    if not graph.tensors[op.inputs[1]].is_constant:
        raise unsupported(op, "a non-constant output size")
    if op.options.get("align_corners", False) and op.options.get("half_pixel_centers", False):
        raise unsupported(op, "align_corners together with half_pixel_centers")
    if qparams(op, x) != qparams(op, y):
        raise unsupported(op, "different input and output quantization")
    batches, in_h, in_w, channels = x.shape
    _, out_h, out_w, _ = y.shape
    fields = dict(batches=batches, in_h=in_h, in_w=in_w, channels=channels, out_h=out_h, out_w=out_w)
    return x, y, fields


def nearest_indices(out_size: int, in_size: int, align_corners: bool, half_pixel: bool) -> list[int]:
    """The source index of every output index, as TFLM's GetNearestNeighbor computes it in float32."""
    f32 = np.float32
    aligned = align_corners and out_size > 1
    scale = f32(in_size - 1) / f32(out_size - 1) if aligned else f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel else f32(0.0)
    out = []
    for i in range(out_size):
        pos = float((f32(i) + offset) * scale)
        index = qm.round_half_away(pos) if align_corners else math.floor(pos)
        index = min(index, in_size - 1)
        out.append(max(index, 0) if half_pixel else index)
    return out


def lower_resize_nearest(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y, fields = _resize_io(graph, op)
    align, half = bool(op.options.get("align_corners", False)), bool(op.options.get("half_pixel_centers", False))
    rows = nearest_indices(fields["out_h"], fields["in_h"], align, half)
    cols = nearest_indices(fields["out_w"], fields["in_w"], align, half)
    params = {
        **fields,
        "rows": em.int_array(em.name(op.index, "rows"), rows),
        "cols": em.int_array(em.name(op.index, "cols"), cols),
    }
    p = em.struct("eq_resize_nearest_params", em.name(op.index, "params"), params)
    em.call(op.index, "eq_resize_nearest_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, RESIZE_SOURCE)


def bilinear_scale(in_size: int, out_size: int, align_corners: bool) -> int:
    """Input pixels per output pixel in units of 1/1024, rounded as TFLM's ResizeBilinearInteger rounds it."""
    if align_corners and out_size > 1:
        return ((in_size - 1) * 1024 + (out_size - 1) // 2) // (out_size - 1)
    return (in_size * 1024 + out_size // 2) // out_size


def _bilinear_axis_scale(op: Operator, in_size: int, out_size: int, align: bool, half: bool) -> int:
    """The axis' scale; refuses sizes whose last source position (in 1/1024 pixel) would leave the input."""
    scale = bilinear_scale(in_size, out_size, align)
    last = (out_size - 1) * scale + (scale // 2 - 512 if half else 0)
    if last >= in_size * 1024:
        raise unsupported(op, f"resizing {in_size} to {out_size} pixels (the rounded scale reads past the input)")
    return scale


def lower_resize_bilinear(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y, fields = _resize_io(graph, op)
    align, half = bool(op.options.get("align_corners", False)), bool(op.options.get("half_pixel_centers", False))
    params = {
        **fields,
        "scale_h": _bilinear_axis_scale(op, fields["in_h"], fields["out_h"], align, half),
        "scale_w": _bilinear_axis_scale(op, fields["in_w"], fields["out_w"], align, half),
        "half_pixel": int(half),
    }
    p = em.struct("eq_resize_bilinear_params", em.name(op.index, "params"), params)
    em.call(op.index, "eq_resize_bilinear_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, RESIZE_SOURCE)


def _transpose_fields(op: Operator, x: Tensor, w: Tensor, y: Tensor) -> dict[str, int]:
    """TFLM pads a TRANSPOSE_CONV as the convolution from its output pixels that it transposes."""
    f = window_fields(op, x, w, y)
    pads = window_pad(op, f["out_h"], f["k_h"], f["stride_h"]), window_pad(op, f["out_w"], f["k_w"], f["stride_w"])
    return {**f, "pad_top": pads[0], "pad_left": pads[1]}


def lower_transpose_conv(em: Emitter, graph: Graph, op: Operator) -> None:
    w, x, y = (graph.tensors[t] for t in (op.inputs[1], op.inputs[2], op.outputs[0]))
    b = graph.tensor(op.inputs[3]) if len(op.inputs) > 3 else None
    expect_dtype(op, [x, w, y])
    if not w.is_constant:
        raise unsupported(op, "non-constant weights")
    if b is not None and (b.dtype != "int32" or not b.is_constant):
        raise unsupported(op, f"{b.dtype} bias")
    if x.shape[0] != 1:
        raise unsupported(op, f"batch {x.shape[0]}")
    (in_s,), (in_zp,) = qparams(op, x)
    w_s, _ = qparams(op, w)
    (out_s,), (out_zp,) = qparams(op, y)
    out_c = y.shape[3]
    mult, shift = multipliers(op, in_s, w_s, out_s, out_c)
    lo, hi = act_range(op, y)
    weights = constant_data(op, w)
    abs_sums = np.abs(weights.astype(np.int64)).reshape(out_c, -1).sum(1)
    bias = b.numpy() if b is not None else None
    table = channel_table(mult, shift, bias, acc_bounds(abs_sums, bias, in_zp), out_zp, lo, hi)
    fields = {
        **_transpose_fields(op, x, w, y),
        "in_offset": -in_zp,
        "out_offset": out_zp,
        "act_min": lo,
        "act_max": hi,
        "rq": table.rq,
    }
    p = em.struct("eq_transpose_conv_params", em.name(op.index, "params"), fields)
    w_name = em.const_tensor(w, em.name(op.index, "weights"))
    channels = em.channel_table(em.name(op.index, "channels"), table.rows)
    args = [f"&{p}", em.ptr(x.index), w_name, channels, em.ptr(y.index)]
    em.call(op.index, "eq_transpose_conv_s8", args, op.builtin, TRANSPOSE_CONV_SOURCE)
