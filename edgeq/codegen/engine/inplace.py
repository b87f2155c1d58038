"""Ops that write their output over their own dying input, and how far before it the output must start.

The int8 CONV_2D and DEPTHWISE_CONV_2D kernels (kernels/edgeq_conv.c, edgeq_depthwise.c) compute
output pixels in row-major order. They finish storing one pixel (or a block of
pixels whose windows they first copied into int16 columns) before they read
anything of a later pixel, and a pixel reads only the in-image taps of its own
window. So once output pixel p is stored, every input byte they will still read
lies at or after the first in-image tap of pixel p's window or of a later
pixel's (a suffix minimum: with top padding, a window of the next row can start
before one of this row).

When the input dies at the op, the output can therefore share the input's
bytes: placed ``shift`` bytes before the input, where ``shift`` is the most
the stored output ever runs ahead of the input still to be read, no store
reaches a byte that is read later. A chain of such ops, the depthwise-separable
blocks of keyword-spotting and MobileNet models, then lives in one buffer
barely larger than its largest activation, where separate buffers need input
plus output at every op (TFLM's arena holds both). The planner (engine.schedule)
uses these pairs only when they give the smaller arena.
"""

from __future__ import annotations

import numpy as np

from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.planner import ALIGN
from edgeq.model import Graph, Operator

IN_PLACE_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _first_taps(size: int, out: int, k: int, stride: int, dil: int, padding: str) -> np.ndarray:
    """Per output row (or column), the input row of its window's first in-image tap."""
    pad = qm.same_padding(size, k, stride, dil)[1] if padding == "SAME" else 0
    origin = np.arange(out) * stride - pad
    first = np.where(origin >= 0, 0, (-origin + dil - 1) // dil)
    return np.minimum(origin + first * dil, size)


def in_place_shift(graph: Graph, op: Operator) -> int | None:
    """Bytes the output of ``op`` must start before its input to be written over it; None: never in place."""
    if op.builtin not in IN_PLACE_OPS or len(op.outputs) != 1:
        return None
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if x.dtype != "int8" or y.dtype != "int8" or len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1:
        return None
    o = op.options
    padding = o.get("padding", "SAME")
    if padding not in ("SAME", "VALID") or min(*x.shape[1:], *y.shape[1:]) <= 0:
        return None
    w = graph.tensors[op.inputs[1]]
    strides, dilations = (o.get("stride_h", 1), o.get("stride_w", 1)), (o.get("dilation_h", 1), o.get("dilation_w", 1))
    return window_shift(x.shape[1:], y.shape[1:], (w.shape[1], w.shape[2]), strides, dilations, padding)


def window_shift(
    in_hwc: tuple[int, ...],
    out_hwc: tuple[int, ...],
    kernel: tuple[int, int],
    strides: tuple[int, int],
    dilations: tuple[int, int],
    padding: str,
) -> int:
    """The shift of a windowed op (see the module), rounded up to the arena's alignment."""
    (in_h, in_w, in_c), (out_h, out_w, out_c) = in_hwc, out_hwc
    rows = _first_taps(in_h, out_h, kernel[0], strides[0], dilations[0], padding)
    cols = _first_taps(in_w, out_w, kernel[1], strides[1], dilations[1], padding)
    first_read = (rows[:, None] * in_w + cols[None, :]).ravel() * in_c  # byte of each pixel's first tap
    still_read = np.minimum.accumulate(first_read[::-1])[::-1]
    stored = np.arange(1, first_read.size + 1) * out_c  # bytes stored once each pixel is done
    shift = int((stored - still_read).max())
    return -(-shift // ALIGN) * ALIGN


def in_place_pairs(
    graph: Graph,
    ops: tuple[Operator, ...],
    spans: dict[int, tuple[int, int]],
    aliases: tuple[tuple[int, int], ...],
) -> list[tuple[int, int, int]]:
    """(input, output, shift) of every op in ``ops`` that may write over its input.

    The input (with every tensor sharing its bytes through ``aliases``) must be used last by that op,
    be read once by it, and be neither a graph input (the caller filled its bytes and may invoke again)
    nor a graph output.
    """
    shared: dict[int, set[int]] = {}
    for a, b in aliases:
        group = shared.get(a, {a}) | shared.get(b, {b})
        for t in group:
            shared[t] = group
    kept = set(graph.inputs) | set(graph.outputs)
    pairs = []
    for position, op in enumerate(ops):
        shift = in_place_shift(graph, op)
        if shift is None:
            continue
        a, b = op.inputs[0], op.outputs[0]
        group = shared.get(a, {a})
        if a not in spans or b not in spans or group & kept or op.inputs.count(a) != 1:
            continue
        if spans[a][1] == position and all(spans[t][1] <= position for t in group if t in spans):
            pairs.append((a, b, shift))
    return pairs


__all__ = ["IN_PLACE_OPS", "in_place_pairs", "in_place_shift", "window_shift"]
