"""Model requirements every Edge TPU op must meet, checked on one operator's tensors.

Source: Coral, "TensorFlow models on the Edge TPU", section "Model requirements"
(https://coral.ai/docs/edgetpu/models-intro/#model-requirements): tensor
parameters are 8-bit quantized, tensor sizes are constant at compile time, model
parameters such as biases are constant at compile time, and tensors have 1, 2 or
3 dimensions; a tensor with more than 3 dimensions may have a size above 1 only
in its 3 innermost dimensions.

Each rule returns ``None`` when the op passes, else ``(Status, reason)``.
"""

from __future__ import annotations

from edgeq.edgetpu.ops import PARAMETER_INPUTS
from edgeq.edgetpu.types import Status
from edgeq.model.graph import Graph, Operator, Tensor

Verdict = tuple[Status, str] | None

ACTIVATION_DTYPES = frozenset({"int8", "uint8"})
# int32 constants are biases and shape / axis / padding parameters.
CONSTANT_DTYPES = frozenset({"int8", "uint8", "int32"})
MAPPED_DIMS = 3


def tensors_of(graph: Graph, op: Operator) -> list[tuple[str, Tensor]]:
    """``(role, tensor)`` for the op's present inputs and outputs; role is e.g. ``"input 1"``."""
    out = [(f"input {i}", graph.tensors[t]) for i, t in enumerate(op.inputs) if t >= 0]
    return out + [(f"output {i}", graph.tensors[t]) for i, t in enumerate(op.outputs)]


def check_dtypes(graph: Graph, op: Operator) -> Verdict:
    """Activations must be int8/uint8; constants int8/uint8 or int32 (biases, shapes)."""
    for role, tensor in tensors_of(graph, op):
        allowed = CONSTANT_DTYPES if tensor.is_constant else ACTIVATION_DTYPES
        if tensor.dtype not in allowed:
            kind = " (a constant)" if tensor.is_constant else ""
            return (
                Status.DATA_TYPE,
                f"{role} {_name(tensor)} is {tensor.dtype}{kind}; the Edge TPU runs int8/uint8 data only",
            )
    return None


def check_static(graph: Graph, op: Operator) -> Verdict:
    """Sizes must be fixed at compile time; a dynamic leading (batch) dimension is tolerated."""
    for role, tensor in tensors_of(graph, op):
        if any(d < 0 for d in tensor.shape_signature[1:]):
            return Status.DYNAMIC_SHAPE, (
                f"{role} {_name(tensor)} has shape signature {list(tensor.shape_signature)}; "
                "convert with fixed input sizes"
            )
    return None


def check_rank(graph: Graph, op: Operator) -> Verdict:
    """Only the 3 innermost dimensions of a non-constant tensor may exceed 1."""
    for role, tensor in tensors_of(graph, op):
        if tensor.is_constant or len(tensor.shape) <= MAPPED_DIMS:
            continue
        outer = tensor.shape[:-MAPPED_DIMS]
        if any(d > 1 for d in outer):
            return Status.RANK, (
                f"{role} {_name(tensor)} has shape {list(tensor.shape)}; only the 3 innermost "
                "dimensions may be larger than 1 (a batch size above 1 counts)"
            )
    return None


def check_parameters(graph: Graph, op: Operator) -> Verdict:
    """Weights, biases and shape-like parameters must be constants stored in the model."""
    for position in PARAMETER_INPUTS.get(op.builtin, ()):
        if position >= len(op.inputs) or op.inputs[position] < 0:
            continue
        tensor = graph.tensors[op.inputs[position]]
        if not tensor.is_constant:
            return Status.LIMITATION, (
                f"input {position} {_name(tensor)} is a parameter computed at run time; "
                "the Edge TPU needs it constant at compile time"
            )
    return None


def effective_rank(shape: tuple[int, ...]) -> int:
    """Number of dimensions larger than 1."""
    return sum(d > 1 for d in shape)


def _name(tensor: Tensor) -> str:
    return repr(tensor.name) if tensor.name else f"(tensor {tensor.index})"
