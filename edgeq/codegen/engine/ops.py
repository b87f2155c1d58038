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

from edgeq.codegen.engine import lower_batch_matmul as batch_matmul
from edgeq.codegen.engine import lower_core as core
from edgeq.codegen.engine import lower_data as data
from edgeq.codegen.engine import lower_elementwise as elementwise
from edgeq.codegen.engine import lower_lstm as lstm
from edgeq.codegen.engine import lower_nonlinear as nonlinear
from edgeq.codegen.engine import lower_s16 as s16
from edgeq.codegen.engine import lower_s16_elementwise as s16e
from edgeq.codegen.engine import lower_s16_nonlinear as s16n
from edgeq.codegen.engine import lower_shape as shape
from edgeq.codegen.engine import lower_spatial as spatial
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.fuse import FUSED
from edgeq.codegen.engine.lower_s16 import by_dtype
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
    "edgeq_fc_int4.c": ("edgeq_fc.c", "edgeq_int4.c", "edgeq_matmul.c", "edgeq_elementwise.c"),
    "edgeq_lstm.c": ("edgeq_s16_nonlinear.c",),
}
"""Kernel file -> the files it calls into (the matrix kernel of conv and FC; the in-place ADD epilogue of conv;
the int8 FC (with what it calls) and the int4 unpacking of the int4 FC; the 16-bit sigmoid and tanh of the integer LSTM)."""

_INT4 = "edgeq_int4.c"  # int4 weights unpacked into scratch before the call (engine.int4)
_CONV = ("edgeq_conv.c", _INT4)
_ELEMENTWISE = ("edgeq_elementwise.c",)
_QUANT = ("edgeq_quant.c", "edgeq_elementwise.c")  # float <-> int8 edges; int8 -> int8 requantizes
_SIGMOID = ("edgeq_sigmoid.c", s16n.NONLINEAR_KERNELS)  # int8, int16
_COPY = ("edgeq_data.c",)  # reshape-like ops copy only when the planner could not alias their buffers

OPS: dict[str, OpSupport] = {
    # core: lower_core
    # int8 in lower_core, int16x8 (an int16 input) in lower_s16
    "CONV_2D": OpSupport(by_dtype(core.lower_conv2d, s16.lower_conv2d), (*_CONV, s16.CONV_KERNELS)),
    "DEPTHWISE_CONV_2D": OpSupport(
        by_dtype(core.lower_depthwise, s16.lower_depthwise), ("edgeq_depthwise.c", _INT4, s16.CONV_KERNELS)
    ),
    "FULLY_CONNECTED": OpSupport(
        by_dtype(core.lower_fully_connected, s16.lower_fully_connected),
        ("edgeq_fc.c", _INT4, "edgeq_fc_int4.c", s16.CONV_KERNELS),
    ),
    "AVERAGE_POOL_2D": OpSupport(core.lower_pool, ("edgeq_pool.c",)),
    "MAX_POOL_2D": OpSupport(core.lower_pool, ("edgeq_pool.c",)),
    "RESHAPE": OpSupport(core.lower_alias, _COPY),
    "SQUEEZE": OpSupport(core.lower_alias, _COPY),
    "EXPAND_DIMS": OpSupport(core.lower_alias, _COPY),
    # elementwise: lower_elementwise
    "ADD": OpSupport(by_dtype(elementwise.lower_binary, s16e.lower_binary), (*_ELEMENTWISE, s16e.ELEMENTWISE_KERNELS)),
    "MUL": OpSupport(by_dtype(elementwise.lower_binary, s16e.lower_binary), (*_ELEMENTWISE, s16e.ELEMENTWISE_KERNELS)),
    "SUB": OpSupport(elementwise.lower_binary, _ELEMENTWISE),
    "SQUARED_DIFFERENCE": OpSupport(elementwise.lower_binary, _ELEMENTWISE),
    "MAXIMUM": OpSupport(elementwise.lower_binary, _ELEMENTWISE),
    "MINIMUM": OpSupport(elementwise.lower_binary, _ELEMENTWISE),
    "PRELU": OpSupport(elementwise.lower_binary, _ELEMENTWISE),
    "RELU": OpSupport(elementwise.lower_relu, _ELEMENTWISE),
    "RELU6": OpSupport(elementwise.lower_relu, _ELEMENTWISE),
    "RELU_N1_TO_1": OpSupport(elementwise.lower_relu, _ELEMENTWISE),
    "QUANTIZE": OpSupport(elementwise.lower_quantize, _QUANT),
    "DEQUANTIZE": OpSupport(elementwise.lower_dequantize, ("edgeq_quant.c",)),
    FUSED: OpSupport(elementwise.lower_conv_add, (*_CONV, "edgeq_elementwise.c")),  # CONV_2D + ADD
    # nonlinear: lower_nonlinear
    "SOFTMAX": OpSupport(
        by_dtype(nonlinear.lower_softmax, s16n.lower_softmax), ("edgeq_softmax.c", s16n.SOFTMAX_KERNELS)
    ),
    "LOGISTIC": OpSupport(by_dtype(nonlinear.lower_logistic, s16n.lower_logistic), _SIGMOID),
    "TANH": OpSupport(by_dtype(nonlinear.lower_tanh, s16n.lower_tanh), _SIGMOID),
    "LEAKY_RELU": OpSupport(nonlinear.lower_leaky_relu, ("edgeq_leaky_relu_hard_swish.c",)),
    "HARD_SWISH": OpSupport(nonlinear.lower_hard_swish, ("edgeq_leaky_relu_hard_swish.c",)),
    "MEAN": OpSupport(nonlinear.lower_mean, ("edgeq_reduce.c",)),
    # data movement: lower_data
    "PAD": OpSupport(data.lower_pad, ("edgeq_data.c",)),
    "PADV2": OpSupport(data.lower_pad, ("edgeq_data.c",)),
    "CONCATENATION": OpSupport(data.lower_concat, ("edgeq_data.c",)),
    "STRIDED_SLICE": OpSupport(data.lower_strided_slice, ("edgeq_data.c",)),
    # bytes moved unchanged: lower_shape
    "TRANSPOSE": OpSupport(shape.lower_transpose, _COPY),
    "DEPTH_TO_SPACE": OpSupport(shape.lower_space_depth, _COPY),
    "SPACE_TO_DEPTH": OpSupport(shape.lower_space_depth, _COPY),
    "SPLIT": OpSupport(shape.lower_split, _COPY),
    "SPLIT_V": OpSupport(shape.lower_split, _COPY),
    "UNPACK": OpSupport(shape.lower_split, _COPY),
    "PACK": OpSupport(shape.lower_pack, _COPY),
    "GATHER": OpSupport(shape.lower_gather, _COPY),
    # upsampling: lower_spatial
    "RESIZE_NEAREST_NEIGHBOR": OpSupport(spatial.lower_resize_nearest, (spatial.RESIZE_SOURCE,)),
    "RESIZE_BILINEAR": OpSupport(spatial.lower_resize_bilinear, (spatial.RESIZE_SOURCE,)),
    "TRANSPOSE_CONV": OpSupport(spatial.lower_transpose_conv, (spatial.TRANSPOSE_CONV_SOURCE,)),
    "BATCH_MATMUL": OpSupport(batch_matmul.lower_batch_matmul, (batch_matmul.SOURCE,)),
    # recurrent: lower_lstm
    "UNIDIRECTIONAL_SEQUENCE_LSTM": OpSupport(lstm.lower_lstm, ("edgeq_lstm.c",)),
}


def kernel_files_named() -> set[str]:
    """Every kernel file the table names: shared, per op, and what those call into."""
    named = {*SHARED_KERNELS, *(k for support in OPS.values() for k in support.kernels)}
    return named | {dep for k in named for dep in KERNEL_DEPENDENCIES.get(k, ())}
