"""Per-op rule of engine.validate for UNIDIRECTIONAL_SEQUENCE_LSTM: its 24 operands against each other.

Like engine.validate_ops (which registers the rule): shapes that contradict each
other are a ModelFormatError (through ``inconsistent``); a consistent LSTM
variant the engine has no kernel for (peepholes, projection, layer norm, no
input gate, a batch above 1, float or hybrid tensors) is an UnsupportedError.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from edgeq.codegen.engine.operands import describe, inconsistent
from edgeq.errors import UnsupportedError
from edgeq.model import Graph, Operator, Tensor

LSTM = "UNIDIRECTIONAL_SEQUENCE_LSTM"
INPUT_WEIGHTS = (1, 2, 3, 4)  # input -> input, forget, cell, output gates
RECURRENT_WEIGHTS = (5, 6, 7, 8)
BIASES = (12, 13, 14, 15)
HIDDEN_STATE, CELL_STATE = 18, 19
_VARIANTS = {
    (9, 10, 11): "peephole connections",
    (16, 17): "a projection layer",
    (20, 21, 22, 23): "layer normalization",
}


def _refuse(op: Operator, what: str) -> UnsupportedError:
    return UnsupportedError(f"op {op.index} {op.builtin}: {what} is not supported by the edgeq engine")


def _operand(graph: Graph, op: Operator, k: int) -> Tensor | None:
    return graph.tensors[op.inputs[k]] if k < len(op.inputs) and op.inputs[k] >= 0 else None


def _expect(op: Operator, t: Tensor, shape: tuple[int, ...], role: str) -> None:
    if tuple(t.shape) != shape:
        raise inconsistent(op, f"its {role} {describe(t)} should have shape {list(shape)}")


def check_lstm(graph: Graph, op: Operator) -> None:
    """Input [1, steps, features] (or time-major [steps, 1, features]), int8 weights, int16 cell state."""
    if len(op.inputs) < 20:
        raise inconsistent(op, f"{len(op.inputs)} inputs, expected 20 to 24")
    for ks, what in _VARIANTS.items():
        if any(_operand(graph, op, k) is not None for k in ks):
            raise _refuse(op, f"an LSTM with {what}")
    if _operand(graph, op, 1) is None or _operand(graph, op, 5) is None:
        raise _refuse(op, "an LSTM without an input gate (CIFG)")
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    hidden, cell = _operand(graph, op, HIDDEN_STATE), _operand(graph, op, CELL_STATE)
    if hidden is None or cell is None:
        raise inconsistent(op, "its hidden or cell state operand is missing")
    if len(x.shape) != 3:
        raise inconsistent(op, f"its input {describe(x)} has rank {len(x.shape)}, expected 3")
    time_major = bool(op.options.get("time_major", False))
    steps, batch = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    if batch != 1:
        raise _refuse(op, f"batch {batch}")
    features, units = x.shape[2], hidden.shape[-1]
    for k in INPUT_WEIGHTS:
        _expect(op, graph.tensors[op.inputs[k]], (units, features), "input weights")
    for k in RECURRENT_WEIGHTS:
        _expect(op, graph.tensors[op.inputs[k]], (units, units), "recurrent weights")
    for k in BIASES:
        b = _operand(graph, op, k)
        if b is not None:
            _expect(op, b, (units,), "bias")
    _expect(op, cell, tuple(hidden.shape), "cell state")
    if hidden.size != units:
        raise inconsistent(op, f"its hidden state {describe(hidden)} should hold {units} values")
    _expect(op, y, (steps, 1, units) if time_major else (1, steps, units), "output")
    _check_dtypes(graph, op, x, y, hidden, cell)
    _check_states(op, hidden, cell)


def _check_dtypes(graph: Graph, op: Operator, x: Tensor, y: Tensor, hidden: Tensor, cell: Tensor) -> None:
    """int8 input, output, hidden state and weights, int16 cell state, int32 biases (TFLM's integer LSTM)."""
    wanted = [(x, "int8"), (y, "int8"), (hidden, "int8"), (cell, "int16")]
    wanted += [(graph.tensors[op.inputs[k]], "int8") for k in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS)]
    wanted += [(t, "int32") for t in (_operand(graph, op, k) for k in BIASES) if t is not None]
    for t, dtype in wanted:
        if t.dtype != dtype:
            raise _refuse(op, f"{t.dtype} {describe(t)} (the integer LSTM needs {dtype} there)")
    if op.options.get("fused_activation_function", "TANH") != "TANH":
        raise _refuse(op, f"cell activation {op.options['fused_activation_function']} (TANH only)")


def _check_states(op: Operator, hidden: Tensor, cell: Tensor) -> None:
    """One positive scale each; the hidden state's zero point in int8, the cell state's 0 (symmetric)."""
    for t in (hidden, cell):
        q = t.quantization
        if q is None or len(q.scale) != 1:
            raise _refuse(op, f"a state {describe(t)} not quantized per tensor")
        if not (math.isfinite(q.scale[0]) and q.scale[0] > 0):
            raise inconsistent(op, f"its state {describe(t)} has scale {q.scale[0]}, which must be positive")
    zp = [
        int(t.quantization.zero_point[0]) if t.quantization and t.quantization.zero_point else 0 for t in (hidden, cell)
    ]
    if not -128 <= zp[0] <= 127:
        raise inconsistent(op, f"its hidden state {describe(hidden)} has zero point {zp[0]}, outside [-128, 127]")
    if zp[1] != 0:
        raise _refuse(op, f"a cell state {describe(cell)} with zero point {zp[1]} (the integer LSTM's is 0)")


LSTM_RULES: dict[str, Callable[[Graph, Operator], None]] = {LSTM: check_lstm}
LSTM_ARITY: dict[str, tuple[int, int]] = {LSTM: (1, 24)}  # optional operands are -1: check_lstm counts
