"""Scratch regions of the kernels, planned in the arena like tensors.

CONV_2D (and its fused CONV_2D+ADD) and FULLY_CONNECTED build int16 columns of
their input in a scratch region (up to eight output pixels at a time for
CONV_2D, each filter row padded as engine.layouts lays out the weights);
DEPTHWISE_CONV_2D keeps its sums in registers and needs none. The planner treats each region as a buffer alive during its
one op, so it shares memory with tensors that are dead at that point, and the
lower bound counts it like any live buffer: arena_bytes is exactly what the
generated engine reserves, scratch included. The sizes mirror the
``eq_*_scratch_bytes`` functions of the C kernels (tests/codegen/test_kernels.py
checks that they agree) and are the most any build uses (portable columns are
padded to 16 taps, SIMD32 columns to 4).
"""

from __future__ import annotations

from collections.abc import Callable

from edgeq.codegen.engine.layouts import row_taps
from edgeq.model import Graph, Operator

COL_ALIGN_MAX = 16  # EQ_COL_ALIGN_MAX
MM_COLS = 8  # EQ_MM_COLS: columns of a CONV_2D block
NARROW_COLS = 4  # eq_conv_params.cols when eight columns of scratch would grow the arena
WEIGHT_TAIL = 16  # EQ_WEIGHT_TAIL: bytes readable past the end of conv / FC weight arrays


def _padded(taps: int) -> int:
    return -(-taps // COL_ALIGN_MAX) * COL_ALIGN_MAX


def conv_scratch(graph: Graph, op: Operator, cols: int = MM_COLS) -> int:
    """A block of ``cols`` int16 columns of k_h filter rows of row_taps(k_w, in_c) taps (eq_conv2d_scratch_bytes)."""
    w = graph.tensors[op.inputs[1]]
    return cols * 2 * _padded(w.shape[1] * row_taps(w.shape[2], w.shape[3]))


def depthwise_scratch(graph: Graph, op: Operator) -> int:
    """None: the sums stay in registers (eq_depthwise_scratch_bytes)."""
    return 0


def fc_scratch(graph: Graph, op: Operator) -> int:
    """One int16 column of in_depth taps, none for per-tensor weights with a zero point (eq_fc_scratch_bytes)."""
    q = graph.tensors[op.inputs[1]].quantization
    if q is not None and len(q.scale) == 1 and q.zero_point and q.zero_point[0] != 0:
        return 0
    return 2 * _padded(graph.tensors[op.inputs[1]].shape[-1])


def fused_conv_scratch(graph: Graph, op, cols: int = MM_COLS) -> int:
    return conv_scratch(graph, op.conv, cols)


BLOCK_OPS = ("CONV_2D", "CONV_2D+ADD")  # ops whose scratch is a block of columns
SCRATCH: dict[str, Callable[..., int]] = {
    "CONV_2D": conv_scratch,
    "CONV_2D+ADD": fused_conv_scratch,
    "DEPTHWISE_CONV_2D": depthwise_scratch,
    "FULLY_CONNECTED": fc_scratch,
}


def scratch_key(op_index: int) -> int:
    """The planner's key for the scratch region of op ``op_index`` (tensor indices are >= 0)."""
    return -1 - op_index


def scratch_sizes(graph: Graph, ops: tuple, block_cols: dict[int, int] | None = None) -> dict[int, tuple[int, int]]:
    """scratch key -> (position of the op in ``ops``, bytes), for ops that need scratch.

    ``block_cols``: op index -> columns per block of a CONV_2D (MM_COLS when absent).
    """
    sizes = {}
    for position, op in enumerate(ops):
        if op.builtin in BLOCK_OPS:
            size = SCRATCH[op.builtin](graph, op, (block_cols or {}).get(op.index, MM_COLS))
        else:
            size = SCRATCH[op.builtin](graph, op) if op.builtin in SCRATCH else 0
        if size > 0:
            sizes[scratch_key(op.index)] = (position, size)
    return sizes
