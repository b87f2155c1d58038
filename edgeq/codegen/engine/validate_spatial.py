"""Per-op rules of engine.validate for RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, TRANSPOSE_CONV and BATCH_MATMUL.

Like engine.validate_ops (which registers these rules): each takes the graph and
one op and raises ModelFormatError (through ``inconsistent``) when the output
shape, size operand, weights or bias contradict the input and the options, or
UnsupportedError for a consistent model the engine cannot run (a size computed
at run time, padding other than SAME and VALID).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.operands import constant_data, describe, inconsistent
from edgeq.errors import UnsupportedError
from edgeq.model import Graph, Operator, Tensor


def _rank4(op: Operator, tensors: tuple[tuple[Tensor, str], ...]) -> None:
    for t, role in tensors:
        if len(t.shape) != 4:
            raise inconsistent(op, f"its {role} {describe(t)} has rank {len(t.shape)}, expected 4")


def _refuse(op: Operator, what: str) -> UnsupportedError:
    return UnsupportedError(f"op {op.index} {op.builtin}: {what} is not supported by the edgeq engine")


def check_resize(graph: Graph, op: Operator) -> None:
    x, size, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    _rank4(op, ((x, "input"), (y, "output")))
    if not size.is_constant:
        raise _refuse(op, "an output size computed at run time (TFLM needs it constant too)")
    values = constant_data(op, size).reshape(-1).tolist()
    if size.dtype != "int32" or len(values) != 2:
        raise inconsistent(op, f"its size {describe(size)} should be two int32 values (height, width)")
    if [x.shape[0], *values, x.shape[3]] != list(y.shape):
        raise inconsistent(op, f"its output {describe(y)} should be {[x.shape[0], *values, x.shape[3]]}")


def _transposed_size(op: Operator, axis: str, out_size: int, k: int, stride: int) -> int:
    """The input size of the convolution a TRANSPOSE_CONV transposes, from its output size."""
    padding = op.options.get("padding", "SAME")
    if padding not in ("SAME", "VALID"):
        raise _refuse(op, f"padding {padding}")
    try:
        window = qm.same_padding if padding == "SAME" else qm.valid_padding
        return window(out_size, k, stride)[0]
    except ValueError as exc:
        raise inconsistent(op, f"{axis}: {exc}") from None


def check_transpose_conv(graph: Graph, op: Operator) -> None:
    shape, w, x = (graph.tensors[t] for t in op.inputs[:3])
    y = graph.tensors[op.outputs[0]]
    _rank4(op, ((x, "input"), (w, "weights"), (y, "output")))
    # TFLM ignores the output shape operand (often computed from a dynamic batch); a constant one must agree
    if shape.is_constant and constant_data(op, shape).reshape(-1).tolist() != list(y.shape):
        raise inconsistent(op, f"its output shape operand {describe(shape)} is not its output {describe(y)}")
    if w.shape[3] != x.shape[3] or w.shape[0] != y.shape[3] or x.shape[0] != y.shape[0]:
        raise inconsistent(op, f"weights {describe(w)} do not take input {describe(x)} to output {describe(y)}")
    sh, sw = op.options.get("stride_h", 1), op.options.get("stride_w", 1)
    want = (
        _transposed_size(op, "height", y.shape[1], w.shape[1], sh),
        _transposed_size(op, "width", y.shape[2], w.shape[2], sw),
    )
    if tuple(x.shape[1:3]) != want:
        raise inconsistent(op, f"input {describe(x)} should be {want[0]}x{want[1]} for output {describe(y)}")
    q = w.quantization
    if q is not None and len(q.scale) not in (1, w.shape[0]):
        raise inconsistent(op, f"the weights {describe(w)} have {len(q.scale)} scales for {w.shape[0]} channels")
    b = graph.tensor(op.inputs[3]) if len(op.inputs) > 3 else None
    if b is not None and b.size != w.shape[0]:
        raise inconsistent(op, f"the bias {describe(b)} has {b.size} values for {w.shape[0]} output channels")


def check_batch_matmul(graph: Graph, op: Operator) -> None:
    lhs, rhs, y = (graph.tensors[t] for t in (*op.inputs[:2], op.outputs[0]))
    if not (2 <= len(lhs.shape) <= 5 and 2 <= len(rhs.shape) <= 5):
        raise inconsistent(op, f"inputs {describe(lhs)} and {describe(rhs)} need ranks 2 to 5")
    rows, depth = lhs.shape[-2:][::-1] if op.options.get("adj_x", False) else lhs.shape[-2:]
    r_depth, cols = rhs.shape[-2:][::-1] if op.options.get("adj_y", False) else rhs.shape[-2:]
    try:
        batch = np.broadcast_shapes(tuple(lhs.shape[:-2]), tuple(rhs.shape[:-2]))
    except ValueError:
        raise inconsistent(
            op, f"the batch dimensions of {describe(lhs)} and {describe(rhs)} do not broadcast"
        ) from None
    if depth != r_depth or list(y.shape) != [*batch, rows, cols]:
        raise inconsistent(op, f"{describe(lhs)} times {describe(rhs)} does not give output {describe(y)}")


SPATIAL_RULES: dict[str, Callable[[Graph, Operator], None]] = {
    "RESIZE_NEAREST_NEIGHBOR": check_resize,
    "RESIZE_BILINEAR": check_resize,
    "TRANSPOSE_CONV": check_transpose_conv,
    "BATCH_MATMUL": check_batch_matmul,
}
SPATIAL_ARITY: dict[str, tuple[int, int]] = {
    "RESIZE_NEAREST_NEIGHBOR": (2, 2),
    "RESIZE_BILINEAR": (2, 2),
    "TRANSPOSE_CONV": (3, 4),
    "BATCH_MATMUL": (2, 2),
}
