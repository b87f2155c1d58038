"""Per-op limitations from the Edge TPU's supported-operations table (see :mod:`edgeq.edgetpu.ops` for sources).

Each check returns ``None`` when the op meets its documented limitation, else
``(Status.LIMITATION, reason)``: the compiler reports such ops as "otherwise
supported, but not mapped". Limitations that depend on the compiler's internal
precision or size decisions (Reshape, ResizeBilinear) cannot be checked statically.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgeq.edgetpu.rules import Verdict, effective_rank
from edgeq.edgetpu.types import Status
from edgeq.model.graph import Graph, Operator, Tensor

SOFTMAX_MAX_ELEMENTS = 16_000
MEAN_CHANNEL_MULTIPLE = 4


def _limit(reason: str) -> Verdict:
    return Status.LIMITATION, reason


def _input(graph: Graph, op: Operator, position: int) -> Tensor | None:
    return graph.tensor(op.inputs[position]) if position < len(op.inputs) else None


def _constant_ints(tensor: Tensor | None) -> list[int] | None:
    """The integer values of a constant tensor, or None when it is absent or not constant."""
    if tensor is None or not tensor.is_constant:
        return None
    return [int(v) for v in np.asarray(tensor.numpy()).reshape(-1)]


def no_fused_activation(graph: Graph, op: Operator) -> Verdict:
    """AveragePool2d, MaxPool2d, Concatenation: no fused activation function."""
    act = op.options.get("fused_activation_function", "NONE")
    return None if act == "NONE" else _limit(f"fused activation {act}; this op maps only without one")


def concatenation(graph: Graph, op: Operator) -> Verdict:
    """No fused activation; a constant input only as an all-zero second of exactly two inputs."""
    verdict = no_fused_activation(graph, op)
    constants = [graph.tensors[t] for t in op.inputs if t >= 0 and graph.tensors[t].is_constant]
    if verdict or not constants:
        return verdict
    if len(op.inputs) != 2:
        return _limit(f"a constant input among {len(op.inputs)} inputs; allowed only with exactly 2 inputs")
    if any(b != 0 for b in constants[0].data or b""):
        return _limit("a constant input that is not all zeros; only a zero padding constant is allowed")
    return None


def same_dilation(graph: Graph, op: Operator) -> Verdict:
    """Conv2d, DepthwiseConv2d: the same dilation along x and y."""
    w, h = op.options.get("dilation_w", 1), op.options.get("dilation_h", 1)
    return None if w == h else _limit(f"dilation {h}x{w} (h x w); x and y dilation must match")


def fully_connected(graph: Graph, op: Operator) -> Verdict:
    """FullyConnected: default weights format, one-dimensional output."""
    fmt = op.options.get("weights_format", "DEFAULT")
    if fmt != "DEFAULT":
        return _limit(f"weights format {fmt}; only DEFAULT maps")
    out = graph.tensors[op.outputs[0]].shape if op.outputs else ()
    if effective_rank(out) > 1:
        return _limit(f"output shape {list(out)} is not one-dimensional (batch 1 x units)")
    return None


def _axes(graph: Graph, op: Operator) -> tuple[list[int], tuple[int, ...]] | None:
    """The reduced axes (made non-negative) and the input shape of a reducer, or None if unknown."""
    data, axes = _input(graph, op, 0), _constant_ints(_input(graph, op, 1))
    if data is None or axes is None:
        return None
    rank = len(data.shape)
    return [a + rank if a < 0 else a for a in axes], data.shape


def reduce_no_batch(graph: Graph, op: Operator) -> Verdict:
    """ReduceMax, ReduceMin (and Mean): no reduction over the batch dimension."""
    found = _axes(graph, op)
    if found and len(found[1]) >= 2 and 0 in found[0]:
        return _limit(f"reduces axis 0 (the batch dimension) of {list(found[1])}")
    return None


def mean(graph: Graph, op: Operator) -> Verdict:
    """Mean: no batch reduction; a channel (z) reduction needs a channel count that is a multiple of 4."""
    verdict = reduce_no_batch(graph, op)
    found = _axes(graph, op)
    if verdict or not found:
        return verdict
    axes, shape = found
    if len(shape) >= 3 and len(shape) - 1 in axes and shape[-1] % MEAN_CHANNEL_MULTIPLE:
        return _limit(f"reduces the channel dimension of {list(shape)}; it must be a multiple of 4")
    return None


def pad(graph: Graph, op: Operator) -> Verdict:
    """Pad: no padding of the batch dimension."""
    data, pads = _input(graph, op, 0), _constant_ints(_input(graph, op, 1))
    if data is None or not pads or len(data.shape) < 2:
        return None
    return _limit(f"pads the batch dimension by {pads[:2]}") if any(pads[:2]) else None


def pack(graph: Graph, op: Operator) -> Verdict:
    """Pack: no packing along the batch dimension."""
    return _limit("packs along axis 0 (the batch dimension)") if op.options.get("axis", 0) == 0 else None


def prelu(graph: Graph, op: Operator) -> Verdict:
    """PReLU: alpha larger than 1 only along its innermost dimension."""
    alpha = _input(graph, op, 1)
    if alpha is None or not any(d > 1 for d in alpha.shape[:-1]):
        return None
    return _limit(f"alpha has shape {list(alpha.shape)}; share it over height and width (Keras shared_axes=[1, 2])")


def softmax(graph: Graph, op: Operator) -> Verdict:
    """Softmax: a one-dimensional input of at most 16,000 elements."""
    data = _input(graph, op, 0)
    if data is None:
        return None
    if effective_rank(data.shape) > 1:
        return _limit(f"input shape {list(data.shape)} is not one-dimensional")
    if data.size > SOFTMAX_MAX_ELEMENTS:
        return _limit(f"input has {data.size} elements, more than {SOFTMAX_MAX_ELEMENTS}")
    return None


def squeeze(graph: Graph, op: Operator) -> Verdict:
    """Squeeze: only dimensions inside the leading run of size-1 dimensions may be removed."""
    data = _input(graph, op, 0)
    if data is None:
        return None
    shape = data.shape
    dims = op.options.get("squeeze_dims") or [i for i, d in enumerate(shape) if d == 1]
    for axis in (a + len(shape) if a < 0 else a for a in dims):
        if any(d != 1 for d in shape[: axis + 1]):
            return _limit(f"removes axis {axis} of {list(shape)}, which follows a dimension above 1 (a relayout)")
    return None


def strided_slice(graph: Graph, op: Operator) -> Verdict:
    """StridedSlice: all strides 1, ellipsis mask 0, new-axis mask 0."""
    strides = _constant_ints(_input(graph, op, 3))
    if strides and any(s != 1 for s in strides):
        return _limit(f"strides {strides}; only stride 1 maps")
    for mask in ("ellipsis_mask", "new_axis_mask"):
        if op.options.get(mask, 0):
            return _limit(f"{mask.replace('_', ' ')} {op.options[mask]}; it must be 0")
    return None


CONSTRAINTS: dict[str, Callable[[Graph, Operator], Verdict]] = {
    "AVERAGE_POOL_2D": no_fused_activation,
    "MAX_POOL_2D": no_fused_activation,
    "CONCATENATION": concatenation,
    "CONV_2D": same_dilation,
    "DEPTHWISE_CONV_2D": same_dilation,
    "FULLY_CONNECTED": fully_connected,
    "MEAN": mean,
    "REDUCE_MAX": reduce_no_batch,
    "REDUCE_MIN": reduce_no_batch,
    "PAD": pad,
    "PACK": pack,
    "PRELU": prelu,
    "SOFTMAX": softmax,
    "SQUEEZE": squeeze,
    "STRIDED_SLICE": strided_slice,
}


def check_constraints(graph: Graph, op: Operator) -> Verdict:
    """The op's documented limitation, checked when edgeq knows how (None otherwise)."""
    rule = CONSTRAINTS.get(op.builtin)
    return rule(graph, op) if rule else None
