"""Which operands of an op carry data, and how an op whose numbers contradict each other is reported.

The bottom of the engine generator: the analysis, the validation and the
lowerings all use it, and it imports none of them.
"""

from __future__ import annotations

import numpy as np

from edgeq.errors import ModelFormatError
from edgeq.model import Operator, Tensor

ALIAS_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
"""Reshape-like ops: they move no data, their output shares the input's buffer."""


STATE_OPERANDS = {"UNIDIRECTIONAL_SEQUENCE_LSTM": (18, 19)}
"""Op -> positions of its variable state operands: kept outside the arena, from one inference to the next."""


def data_inputs(op: Operator) -> list[int]:
    """Inputs that carry data (reshape's shape operand and state operands excluded)."""
    if op.builtin in ALIAS_OPS:
        return [i for i in op.inputs[:1] if i >= 0]
    state = STATE_OPERANDS.get(op.builtin, ()) + SHAPE_OPERANDS.get(op.builtin, ())
    return [i for k, i in enumerate(op.inputs) if i >= 0 and k not in state]


SHAPE_OPERANDS = {"TRANSPOSE_CONV": (0,)}
"""Op -> positions of shape operands its kernel ignores (TRANSPOSE_CONV's output shape, often computed by
shape arithmetic from a dynamic batch; TFLM reads the output tensor's shape instead)."""


def inconsistent(op: Operator, what: str) -> ModelFormatError:
    """The error of an op whose tensors or options contradict each other."""
    return ModelFormatError(
        f"op {op.index} {op.builtin}: {what}; the model is inconsistent, re-export it with the TFLite converter"
    )


def constant_data(op: Operator, t: Tensor) -> np.ndarray:
    """The data of an operand the caller has checked is constant (weights, paddings, ...)."""
    values = t.numpy()
    if values is None:
        raise inconsistent(op, f"{describe(t)} has no constant data")
    return values


def describe(t: Tensor) -> str:
    """How messages name a tensor: index, name and shape."""
    return f"tensor {t.index} {t.name[:60]!r} {list(t.shape)}"
