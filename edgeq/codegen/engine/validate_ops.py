"""Per-op rules of engine.validate: shapes and options against what each op computes.

Each rule takes the graph and one op whose operand counts and tensors
engine.validate has already checked, and raises ModelFormatError (through
``inconsistent``) when the output, weights or bias do not fit the input and the
options. Dtypes and options the engine lacks are left to the lowerings, which
name them as UnsupportedError.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.operands import ALIAS_OPS, constant_data, describe, inconsistent
from edgeq.codegen.engine.validate_lstm import LSTM_ARITY, LSTM_RULES
from edgeq.codegen.engine.validate_shape_ops import ARITY as SHAPE_ARITY
from edgeq.codegen.engine.validate_shape_ops import MULTI_OUTPUT
from edgeq.codegen.engine.validate_shape_ops import RULES as SHAPE_RULES
from edgeq.codegen.engine.validate_spatial import SPATIAL_ARITY, SPATIAL_RULES
from edgeq.errors import UnsupportedError
from edgeq.model import Graph, Operator, Tensor

BINARY = ("SUB", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "PRELU")  # besides ADD and MUL
ELEMENTWISE = ("RELU", "RELU6", "RELU_N1_TO_1", "QUANTIZE", "DEQUANTIZE", "LOGISTIC", "TANH", "HARD_SWISH")


def _io(graph: Graph, op: Operator) -> tuple[Tensor, Tensor]:
    return graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]


def _rank(op: Operator, t: Tensor, rank: int, role: str) -> None:
    if len(t.shape) != rank:
        raise inconsistent(op, f"its {role} {describe(t)} has rank {len(t.shape)}, expected {rank}")


def _window_out(op: Operator, axis: str, size: int, k: int, stride: int, dilation: int) -> int:
    """The output size of a window over ``size`` (SAME or VALID padding, as TFLite computes it)."""
    padding = op.options.get("padding", "SAME")
    if padding not in ("SAME", "VALID"):
        raise UnsupportedError(f"op {op.index} {op.builtin}: padding {padding} is not supported by the edgeq engine")
    try:
        if padding == "SAME":
            return qm.same_padding(size, k, stride, dilation)[0]
        return qm.valid_padding(size, k, stride, dilation)[0]
    except ValueError as exc:
        raise inconsistent(op, f"{axis}: {exc}") from None


def _check_spatial(op: Operator, x: Tensor, y: Tensor, k_h: int, k_w: int, dilated: bool = True) -> None:
    opts = op.options
    dh, dw = (opts.get("dilation_h", 1), opts.get("dilation_w", 1)) if dilated else (1, 1)
    want = (
        _window_out(op, "height", x.shape[1], k_h, opts.get("stride_h", 1), dh),
        _window_out(op, "width", x.shape[2], k_w, opts.get("stride_w", 1), dw),
    )
    if tuple(y.shape[1:3]) != want or y.shape[0] != x.shape[0]:
        raise inconsistent(
            op, f"its output {describe(y)} should be [{x.shape[0]}, {want[0]}, {want[1]}, ...] for input {describe(x)}"
        )


def _check_channels(graph: Graph, op: Operator, w: Tensor, channels: int, y: Tensor) -> None:
    """The output, the weight scales and the bias agree on the number of output channels."""
    if y.shape[-1] != channels:
        raise inconsistent(
            op, f"its output {describe(y)} should have {channels} channels, as the weights {describe(w)}"
        )
    q = w.quantization
    if q is not None and len(q.scale) not in (1, channels):
        raise inconsistent(op, f"the weights {describe(w)} have {len(q.scale)} scales for {channels} output channels")
    if q is not None and min(q.scale) < 0:
        raise inconsistent(op, f"the weights {describe(w)} have a negative scale ({min(q.scale):g})")
    b = graph.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
    if b is not None and b.size != channels:
        raise inconsistent(op, f"the bias {describe(b)} has {b.size} values for {channels} output channels")


def check_conv(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    w = graph.tensors[op.inputs[1]]
    for t, role in ((x, "input"), (w, "weights"), (y, "output")):
        _rank(op, t, 4, role)
    if x.shape[3] % w.shape[3]:
        raise inconsistent(op, f"input {describe(x)} has channels that filters of {w.shape[3]} cannot divide")
    _check_spatial(op, x, y, w.shape[1], w.shape[2])
    _check_channels(graph, op, w, w.shape[0], y)


def check_depthwise(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    w = graph.tensors[op.inputs[1]]
    for t, role in ((x, "input"), (w, "weights"), (y, "output")):
        _rank(op, t, 4, role)
    if w.shape[0] != 1:
        raise inconsistent(op, f"depthwise weights {describe(w)} must have 1 as their first dimension")
    _check_spatial(op, x, y, w.shape[1], w.shape[2])
    _check_channels(graph, op, w, w.shape[3], y)


def check_fully_connected(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    w = graph.tensors[op.inputs[1]]
    _rank(op, w, 2, "weights")
    out_depth, in_depth = w.shape
    if x.size % in_depth:
        raise inconsistent(
            op, f"input {describe(x)} has {x.size} elements, not a multiple of {in_depth} (weights {describe(w)})"
        )
    batches = x.size // in_depth
    if y.size != batches * out_depth:
        raise inconsistent(
            op,
            f"its output {describe(y)} should hold {batches} x {out_depth} values for input {describe(x)} and weights {describe(w)}",
        )
    _check_channels(graph, op, w, out_depth, y)
    q = w.quantization
    if q is not None and len(q.scale) == 1 and not -128 <= q.zero_point[0] <= 127:
        raise inconsistent(op, f"the weights {describe(w)} have zero point {q.zero_point[0]}, outside [-128, 127]")


def check_pool(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    _rank(op, x, 4, "input")
    _rank(op, y, 4, "output")
    if y.shape[3] != x.shape[3]:
        raise inconsistent(op, f"its output {describe(y)} should have the {x.shape[3]} channels of {describe(x)}")
    fh, fw = op.options.get("filter_height", 1), op.options.get("filter_width", 1)
    _check_spatial(op, x, y, fh, fw, dilated=False)


def check_alias(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    if x.dtype != y.dtype or x.nbytes != y.nbytes:
        raise inconsistent(op, f"it reshapes {x.dtype} {describe(x)} into {y.dtype} {describe(y)}")


def check_binary(graph: Graph, op: Operator) -> None:
    a, b, y = (graph.tensors[t] for t in (*op.inputs[:2], op.outputs[0]))
    try:
        want = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise inconsistent(op, f"inputs {describe(a)} and {describe(b)} do not broadcast") from None
    if tuple(y.shape) != tuple(want):
        raise inconsistent(op, f"its output {describe(y)} should be {list(want)} for {describe(a)} and {describe(b)}")


def check_elementwise(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    if x.size != y.size:
        raise inconsistent(op, f"its output {describe(y)} should have the {x.size} elements of {describe(x)}")
    for key in ("alpha", "beta"):
        value = op.options.get(key)
        if value is not None and not math.isfinite(value):
            raise inconsistent(op, f"option {key} is {value}")
    if op.builtin == "SOFTMAX" and not x.shape:
        raise inconsistent(op, f"input {describe(x)} is a scalar")


def check_mean(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    if len(x.shape) == 4 and y.size != x.shape[0] * x.shape[3]:
        raise inconsistent(op, f"its output {describe(y)} should hold the {x.shape[3]} channel means of {describe(x)}")


def _constant(graph: Graph, op: Operator, position: int, what: str) -> np.ndarray:
    t = graph.tensors[op.inputs[position]]
    if not t.is_constant:
        raise UnsupportedError(f"op {op.index} {op.builtin}: non-constant {what} is not supported by the edgeq engine")
    if t.dtype not in ("int32", "int64", "int8"):
        raise inconsistent(op, f"its {what} {describe(t)} are {t.dtype}")
    return constant_data(op, t).reshape(-1).astype(np.int64)


def check_pad(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    pads = _constant(graph, op, 1, "paddings")
    rank = len(x.shape)
    if pads.size != 2 * rank or len(y.shape) != rank:
        raise inconsistent(op, f"{pads.size} padding values for input {describe(x)} and output {describe(y)}")
    pairs = pads.reshape(rank, 2)
    want = [int(d + lo + hi) for d, (lo, hi) in zip(x.shape, pairs)]
    if (pairs < 0).any() or list(y.shape) != want:
        raise inconsistent(op, f"paddings {pairs.tolist()} of {describe(x)} do not give output {describe(y)}")
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = _constant(graph, op, 2, "pad value")
        if value.size != 1 or not -128 <= value[0] <= 127:
            raise inconsistent(op, f"pad value {value.tolist()[:4]} is not one int8 value")


def check_concat(graph: Graph, op: Operator) -> None:
    inputs = [graph.tensors[i] for i in op.inputs]
    y = graph.tensors[op.outputs[0]]
    rank = len(y.shape)
    axis = op.options.get("axis", 0)
    if not -rank <= axis < rank or any(len(t.shape) != rank for t in inputs):
        raise inconsistent(op, f"axis {axis} over inputs of ranks {[len(t.shape) for t in inputs]} into {describe(y)}")
    axis %= rank
    others = [d for i, d in enumerate(y.shape) if i != axis]
    along = sum(t.shape[axis] for t in inputs)
    if along != y.shape[axis] or any([d for i, d in enumerate(t.shape) if i != axis] != others for t in inputs):
        shapes = [list(t.shape) for t in inputs]
        raise inconsistent(op, f"inputs {shapes} along axis {axis} do not give output {describe(y)}")


def check_strided_slice(graph: Graph, op: Operator) -> None:
    x, y = _io(graph, op)
    begin, end, strides = (_constant(graph, op, k, what) for k, what in ((1, "begin"), (2, "end"), (3, "strides")))
    rank = len(x.shape)
    if not begin.size == end.size == strides.size == rank or (strides == 0).any():
        raise inconsistent(
            op, f"begin, end and strides {begin.tolist()}, {end.tolist()}, {strides.tolist()} for {describe(x)}"
        )
    shrink = op.options.get("shrink_axis_mask", 0)
    count = 1
    for axis, dim in enumerate(x.shape):
        if shrink >> axis & 1:
            if not -dim <= begin[axis] < dim:
                raise inconsistent(op, f"begin {int(begin[axis])} of a shrunk axis is outside {describe(x)}")
            continue
        b = None if op.options.get("begin_mask", 0) >> axis & 1 else int(begin[axis])
        e = None if op.options.get("end_mask", 0) >> axis & 1 else int(end[axis])
        count *= len(range(*slice(b, e, int(strides[axis])).indices(dim)))
    if count != y.size:
        raise inconsistent(op, f"the slice of {describe(x)} has {count} elements, its output {describe(y)} {y.size}")


RULES: dict[str, Callable[[Graph, Operator], None]] = {
    "CONV_2D": check_conv,
    "DEPTHWISE_CONV_2D": check_depthwise,
    "FULLY_CONNECTED": check_fully_connected,
    "AVERAGE_POOL_2D": check_pool,
    "MAX_POOL_2D": check_pool,
    **{name: check_alias for name in ALIAS_OPS},
    "ADD": check_binary,
    "MUL": check_binary,
    **{name: check_binary for name in BINARY},  # SUB ... PRELU
    **{name: check_elementwise for name in (*ELEMENTWISE, "SOFTMAX", "LEAKY_RELU")},
    "MEAN": check_mean,
    "PAD": check_pad,
    "PADV2": check_pad,
    "CONCATENATION": check_concat,
    "STRIDED_SLICE": check_strided_slice,
    **SPATIAL_RULES,  # RESIZE_*, TRANSPOSE_CONV: engine.validate_spatial
    **LSTM_RULES,  # UNIDIRECTIONAL_SEQUENCE_LSTM: engine.validate_lstm
    **SHAPE_RULES,  # TRANSPOSE, SPLIT, PACK, GATHER, ...: engine.validate_shape_ops
}

MANY = 1 << 16
# op -> (fewest, most) inputs; the first ``fewest`` are required (not -1)
ARITY: dict[str, tuple[int, int]] = {
    "CONV_2D": (2, 3),
    "DEPTHWISE_CONV_2D": (2, 3),
    "FULLY_CONNECTED": (2, 3),
    "RESHAPE": (1, 2),
    "EXPAND_DIMS": (2, 2),
    "MEAN": (2, 2),
    "PAD": (2, 2),
    "PADV2": (2, 3),
    "CONCATENATION": (1, MANY),
    "STRIDED_SLICE": (4, 4),
    "ADD": (2, 2),
    "MUL": (2, 2),
    **{name: (2, 2) for name in BINARY},
    **SPATIAL_ARITY,
    **LSTM_ARITY,
    **SHAPE_ARITY,
}


def check_arity(op: Operator) -> None:
    """Inputs and outputs an op of the engine must have (analyze checks this before it fuses ops).

    Ops without a lowering are left alone: build.check_supported names them.
    """
    if op.builtin not in RULES:
        return
    fewest, most = ARITY.get(op.builtin, (1, 1))
    if not fewest <= len(op.inputs) <= most:
        expected = f"{fewest}" if fewest == most else f"{fewest} to {most}" if most < MANY else f"at least {fewest}"
        raise inconsistent(op, f"{len(op.inputs)} inputs, expected {expected}")
    if any(i < 0 for i in op.inputs[:fewest]) or (op.builtin in ("CONCATENATION", "PACK") and -1 in op.inputs):
        raise inconsistent(op, f"a required input is missing (inputs {list(op.inputs)})")
    if op.builtin not in MULTI_OUTPUT and len(op.outputs) != 1:  # SPLIT ...: the op's rule counts them
        raise inconsistent(op, f"{len(op.outputs)} outputs, expected 1")
