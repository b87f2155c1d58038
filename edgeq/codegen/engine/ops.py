"""The engine's op table: every op it runs, the function that lowers it and the kernel files its calls need.

One table, written out: :mod:`edgeq.codegen.engine.build` looks each op of a
model up here (an op that is not here is refused by name), and
``tests/codegen/test_ops_table.py`` checks the table against ``kernels/`` (every
kernel file is named by an op or is shared, every named file exists).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgeq.codegen.engine import lower_core as core
from edgeq.codegen.engine import lower_data as data
from edgeq.codegen.engine import lower_elementwise as elementwise
from edgeq.codegen.engine import lower_nonlinear as nonlinear
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.fuse import FUSED
from edgeq.model import Graph

Lowering = Callable[[Emitter, Graph, Any], None]  # (emitter, graph, op or fused op) -> emits its calls


@dataclass(frozen=True)
class OpSupport:
    """How the engine runs one op: its lowering and every kernel file its calls may need."""

    lower: Lowering
    kernels: tuple[str, ...]


SHARED_KERNELS = ("edgeq_kernels.h", "edgeq_requant.c")
"""In every engine: the kernels' declarations and the requantization every int8 kernel uses."""

KERNEL_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    "edgeq_conv.c": ("edgeq_matmul.c", "edgeq_elementwise.c"),
    "edgeq_fc.c": ("edgeq_matmul.c", "edgeq_elementwise.c"),
}
"""Kernel file -> the files it calls into (the matrix kernel of conv and FC; the in-place ADD epilogue of conv)."""

_CONV = ("edgeq_conv.c",)
_ELEMENTWISE = ("edgeq_elementwise.c",)
_QUANT = ("edgeq_quant.c", "edgeq_elementwise.c")  # float <-> int8 edges; int8 -> int8 requantizes
_COPY = ("edgeq_data.c",)  # reshape-like ops copy only when the planner could not alias their buffers

OPS: dict[str, OpSupport] = {
    # core: lower_core
    "CONV_2D": OpSupport(core.lower_conv2d, _CONV),
    "DEPTHWISE_CONV_2D": OpSupport(core.lower_depthwise, _CONV),
    "FULLY_CONNECTED": OpSupport(core.lower_fully_connected, ("edgeq_fc.c",)),
    "AVERAGE_POOL_2D": OpSupport(core.lower_pool, ("edgeq_pool.c",)),
    "MAX_POOL_2D": OpSupport(core.lower_pool, ("edgeq_pool.c",)),
    "RESHAPE": OpSupport(core.lower_alias, _COPY),
    "SQUEEZE": OpSupport(core.lower_alias, _COPY),
    "EXPAND_DIMS": OpSupport(core.lower_alias, _COPY),
    # elementwise: lower_elementwise
    "ADD": OpSupport(elementwise.lower_binary, _ELEMENTWISE),
    "MUL": OpSupport(elementwise.lower_binary, _ELEMENTWISE),
    "RELU": OpSupport(elementwise.lower_relu, _ELEMENTWISE),
    "RELU6": OpSupport(elementwise.lower_relu, _ELEMENTWISE),
    "RELU_N1_TO_1": OpSupport(elementwise.lower_relu, _ELEMENTWISE),
    "QUANTIZE": OpSupport(elementwise.lower_quantize, _QUANT),
    "DEQUANTIZE": OpSupport(elementwise.lower_dequantize, ("edgeq_quant.c",)),
    FUSED: OpSupport(elementwise.lower_conv_add, ("edgeq_conv.c", "edgeq_elementwise.c")),  # CONV_2D + ADD
    # nonlinear: lower_nonlinear
    "SOFTMAX": OpSupport(nonlinear.lower_softmax, ("edgeq_softmax.c",)),
    "LOGISTIC": OpSupport(nonlinear.lower_logistic, ("edgeq_sigmoid.c",)),
    "TANH": OpSupport(nonlinear.lower_tanh, ("edgeq_sigmoid.c",)),
    "LEAKY_RELU": OpSupport(nonlinear.lower_leaky_relu, ("edgeq_leaky_relu_hard_swish.c",)),
    "HARD_SWISH": OpSupport(nonlinear.lower_hard_swish, ("edgeq_leaky_relu_hard_swish.c",)),
    "MEAN": OpSupport(nonlinear.lower_mean, ("edgeq_reduce.c",)),
    # data movement: lower_data
    "PAD": OpSupport(data.lower_pad, ("edgeq_data.c",)),
    "PADV2": OpSupport(data.lower_pad, ("edgeq_data.c",)),
    "CONCATENATION": OpSupport(data.lower_concat, ("edgeq_data.c",)),
    "STRIDED_SLICE": OpSupport(data.lower_strided_slice, ("edgeq_data.c",)),
}


def kernel_files_named() -> set[str]:
    """Every kernel file the table names: shared, per op, and what those call into."""
    named = {*SHARED_KERNELS, *(k for support in OPS.values() for k in support.kernels)}
    return named | {dep for k in named for dep in KERNEL_DEPENDENCIES.get(k, ())}
