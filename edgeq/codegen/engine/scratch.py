"""Scratch regions of the kernels, planned in the arena like tensors.

CONV_2D (and its fused CONV_2D+ADD) and FULLY_CONNECTED build int16 columns of
their input in a scratch region (blocks of 8, 4 or 1 output pixels for
CONV_2D, each filter row padded as engine.layouts lays out the weights; one
input row for FULLY_CONNECTED), or none in their direct variants, which read
the int8 input as TFLM's kernels do; engine.schedule chooses each op's
variant. DEPTHWISE_CONV_2D keeps its sums in registers and needs none. The
planner treats each region as a buffer alive during its one op, so it shares
memory with tensors that are dead at that point, and the
lower bound counts it like any live buffer: arena_bytes is exactly what the
generated engine reserves, scratch included. An op with int4 weights unpacks
them into the start of its region, then expands its channel rows after them
(engine.int4); the kernel's own scratch follows. An int4 FULLY_CONNECTED has a
third, smallest variant, ``rows``, whose region holds two expanded channel
rows and two unpacked rows of weights at a time, no whole copy
(eq_fc_s4_scratch_bytes). The sizes mirror the
``eq_*_scratch_bytes`` functions of the C kernels (tests/codegen/test_kernels.py
checks that they agree) and are the most any build uses (portable columns are
padded to 16 taps, SIMD32 columns to 4).
"""

from __future__ import annotations

from collections.abc import Callable

from edgeq.codegen.engine.int4 import fc_rows_scratch, has_int4_weights, unpacked_bytes
from edgeq.codegen.engine.layouts import WEIGHT_TAIL, row_taps  # noqa: F401 (WEIGHT_TAIL: re-exported)
from edgeq.model import Graph, Operator

COL_ALIGN_MAX = 16  # EQ_COL_ALIGN_MAX
MM_COLS = 8  # EQ_MM_COLS: columns of a CONV_2D block
NARROW_COLS = 4  # eq_conv_params.cols when eight columns of scratch would grow the arena
SINGLE_COL = 1  # eq_conv_params.cols of one column at a time
DIRECT = 0  # eq_conv_params.cols of no scratch: sums straight from the int8 input


def _padded(taps: int) -> int:
    return -(-taps // COL_ALIGN_MAX) * COL_ALIGN_MAX


def conv_scratch(graph: Graph, op: Operator, cols: int = MM_COLS) -> int:
    """A block of ``cols`` int16 columns of k_h filter rows of row_taps(k_w, in_c) taps (eq_conv2d_scratch_bytes)."""
    w = graph.tensors[op.inputs[1]]
    return cols * 2 * _padded(w.shape[1] * row_taps(w.shape[2], w.shape[3]))


def depthwise_scratch(graph: Graph, op: Operator) -> int:
    """None: the sums stay in registers (eq_depthwise_scratch_bytes)."""
    return 0


def fc_offset_weights(graph: Graph, op: Operator) -> bool:
    """True for per-tensor FC weights with a zero point: their kernel reads the int8 input and needs no scratch."""
    q = graph.tensors[op.inputs[1]].quantization
    return q is not None and len(q.scale) == 1 and bool(q.zero_point) and q.zero_point[0] != 0


def fc_scratch(graph: Graph, op: Operator, direct: bool = False) -> int:
    """One int16 column of in_depth taps; none when ``direct`` or for per-tensor weights with a zero point.

    Mirrors eq_fc_scratch_bytes.
    """
    if direct or fc_offset_weights(graph, op):
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

# Kernel variants of the ops with scratch, fastest first: CONV_2D blocks of 8, 4 or 1 columns, or
# none (the int8 input read directly); FULLY_CONNECTED with one int16 column, or none likewise.
# The last variant of every op needs no scratch at all.
VARIANT_COLS = {"cols8": MM_COLS, "cols4": NARROW_COLS, "cols1": SINGLE_COL, "direct": DIRECT}
CONV_VARIANTS = tuple(VARIANT_COLS)
FC_VARIANTS = ("column", "direct")
FC_ROWS = "rows"  # int4 weights only: two rows unpacked at a time, no whole unpacked copy (edgeq_fc_int4.c)


def _int16(graph: Graph, op) -> bool:
    """An int16x8 op: its kernels (edgeq_s16_*.c) read int16 inputs directly and need no scratch."""
    first = op.conv if hasattr(op, "conv") else op
    return graph.tensors[first.inputs[0]].dtype == "int16"


def variants(graph: Graph, op) -> tuple[str, ...]:
    """The kernel variants ``op`` can run, fastest first (one for an op without a choice, none without scratch)."""
    if _int16(graph, op):
        return ()
    if op.builtin in BLOCK_OPS:
        return CONV_VARIANTS
    if op.builtin == "FULLY_CONNECTED":
        if fc_offset_weights(graph, op):
            return ("offset",)
        return (*FC_VARIANTS, FC_ROWS) if has_int4_weights(graph, op) else FC_VARIANTS
    return ()


def variant_scratch(graph: Graph, op, variant: str) -> int:
    """Scratch bytes of ``op`` running ``variant``: its unpacked int4 weights and channel rows (engine.int4),
    then the kernel's (the ``rows`` variant: two channel rows and two rows of weights at a time)."""
    if variant == FC_ROWS:
        return fc_rows_scratch(graph, op)
    return unpacked_bytes(graph, op) + kernel_scratch_bytes(graph, op, variant)


def kernel_scratch_bytes(graph: Graph, op, variant: str) -> int:
    """Scratch bytes the kernel of ``op`` uses itself running ``variant`` (after any unpacked weights)."""
    if _int16(graph, op):
        return 0
    if op.builtin in BLOCK_OPS:
        return SCRATCH[op.builtin](graph, op, VARIANT_COLS[variant])
    if op.builtin == "FULLY_CONNECTED":
        return fc_scratch(graph, op, direct=variant == "direct")
    return SCRATCH[op.builtin](graph, op) if op.builtin in SCRATCH else 0


def scratch_key(op_index: int) -> int:
    """The planner's key for the scratch region of op ``op_index`` (tensor indices are >= 0)."""
    return -1 - op_index


def scratch_sizes(graph: Graph, ops: tuple, chosen: dict[int, str] | None = None) -> dict[int, tuple[int, int]]:
    """scratch key -> (position of the op in ``ops``, bytes), for ops that need scratch.

    ``chosen``: op index -> kernel variant (the fastest, ``variants(...)[0]``, when absent).
    """
    sizes = {}
    for position, op in enumerate(ops):
        options = variants(graph, op)
        variant = (chosen or {}).get(op.index, options[0] if options else "")
        size = variant_scratch(graph, op, variant)
        if size > 0:
            sizes[scratch_key(op.index)] = (position, size)
    return sizes
