"""Lowering of UNIDIRECTIONAL_SEQUENCE_LSTM to ``eq_lstm_s8``: TFLM's fully integer LSTM.

engine.validate_lstm has checked the operands (shapes, dtypes, no peepholes,
projection or layer norm, batch 1). What TFLM's kernel computes from the scales,
precomputed here:

- every gate's two fully connected parts write Q3.12 (scale 2^-12), whatever
  intermediate scales the converter recorded; their multipliers are
  ``input scale x weight scale / 2^-12`` (per-tensor weights, zero point 0);
- the gate nonlinearities give Q0.15 (2^-15); the cell update multiplies
  Q0.15 x cell and Q0.15 x Q0.15 into the cell's scale, the hidden state
  Q0.15 x Q0.15 into the hidden state's scale and zero point;
- tanh of the cell state scales it to Q3.12 by the power of two of its scale;
- a positive ``cell_clip`` option clips the cell state to ``clip / cell scale``.

The hidden state, the cell state and the kernel's four int16 gate buffers are
static arrays outside the arena: TFLite keeps the states (variable tensors)
from one inference to the next, and so does the engine. They start as TFLM
starts them: the hidden state at its zero point, the cell state at 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edgeq.codegen.engine import quantmath as qm
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.lower_core import multipliers, qparams, unsupported
from edgeq.codegen.engine.operands import constant_data
from edgeq.codegen.engine.validate_lstm import BIASES, CELL_STATE, HIDDEN_STATE, INPUT_WEIGHTS, RECURRENT_WEIGHTS
from edgeq.model import Graph, Operator, Tensor

GATE_SCALE = 2.0**-12  # Q3.12: the FC outputs, the input of the gate nonlinearities
NONLINEAR_OUT_SCALE = 2.0**-15  # Q0.15: the gate outputs and tanh(cell)


def _f32(scale: float) -> float:
    """A scale as TFLM holds it: float32, widened to double."""
    return float(np.float32(scale))


def _weight_scale(op: Operator, w: Tensor) -> float:
    scales, zps = qparams(op, w)
    if len(scales) != 1 or any(zps):
        raise unsupported(op, f"weights {w.name!r} quantized per channel or with a zero point (per tensor, 0 only)")
    return scales[0]


def _mul(real: float) -> tuple[int, int]:
    """TFLM's inter-gate MUL multiplier: QuantizeMultiplier of the scale ratio computed in double."""
    return qm.quantize_multiplier(real)


def _tanh_scaling(cell_scale: float) -> tuple[int, int]:
    """(mult, shift) taking the cell state to tanh's Q3.12 input, from the power of two of its scale."""
    power = round(math.log2(float(np.float32(cell_scale))))
    left = 12 + power
    return (3 << left, 0) if left >= 0 else (3, -left)


def _cell_clip(op: Operator, cell_scale: float) -> int:
    clip = float(op.options.get("cell_clip", 0.0))
    if clip <= 0:
        return 0
    quantized = int(min(max(float(np.float32(clip)) / float(np.float32(cell_scale)), -32768.0), 32767.0))
    if quantized <= 0:
        raise unsupported(op, f"cell_clip {clip:g} below the cell state's scale {cell_scale:g}")
    return quantized


def _gate_fields(em: Emitter, graph: Graph, op: Operator, offsets: dict[str, int], scales: dict[str, float]) -> dict:
    """The gates' weights (gate after gate: input, forget, cell, output), folded biases and FC multipliers.

    TFLM's ``bias + sum w * (x + offset)`` is ``(bias + offset * sum w) + sum w * x`` in int32: the first
    term is computed here, per output, so the kernel's inner loop only multiplies and adds.
    """
    fields: dict[str, Any] = {}
    for prefix, ks in (("in", INPUT_WEIGHTS), ("rec", RECURRENT_WEIGHTS)):
        weights = [graph.tensors[op.inputs[k]] for k in ks]
        values = [constant_data(op, w).astype(np.int64) for w in weights]
        folded = [offsets[prefix] * v.sum(axis=1) for v in values]
        if prefix == "in":
            folded = [f + _bias(graph, op, kb) for f, kb in zip(folded, BIASES)]
        both = np.concatenate(folded)
        if np.abs(both).max(initial=0) >= 2**31:
            raise unsupported(op, "biases that overflow int32 once the zero points are folded in")
        depth = values[0].shape[1]
        padded = [np.pad(v, ((0, 0), (0, _stride(depth) - depth))) for v in values]  # rows of whole words
        stacked = np.concatenate([v.reshape(-1) for v in padded]).astype(np.int8)
        fields[f"{prefix}_stride"] = _stride(depth)
        fields[f"{prefix}_w"] = em.const_array((op.index, prefix), em.name(op.index, f"{prefix}_w"), stacked, "")
        fields[f"{prefix}_bias"] = em.const_array(
            (op.index, prefix, "bias"), em.name(op.index, f"{prefix}_bias"), both.astype(np.int32), ""
        )
        pairs = [multipliers(op, scales[prefix], [_weight_scale(op, w)], GATE_SCALE, 1) for w in weights]
        fields[f"{prefix}_mult"] = [m[0] for m, _ in pairs]
        fields[f"{prefix}_shift"] = [sh[0] for _, sh in pairs]
    return fields


def _stride(depth: int) -> int:
    """A weight row's length in the kernel: ``depth`` rounded up to whole 32-bit words."""
    return -(-depth // 4) * 4


def _bias(graph: Graph, op: Operator, k: int) -> np.ndarray | int:
    if k >= len(op.inputs) or op.inputs[k] < 0:
        return 0
    return constant_data(op, graph.tensors[op.inputs[k]]).astype(np.int64)


def _state_array(em: Emitter, ctype: str, name: str, size: int, value: int, what: str) -> str:
    """A static (writable) array outside the arena, every element ``value`` at start."""
    em.static_ram_bytes += size * (1 if ctype == "int8_t" else 2)
    if value == 0:
        em.decls.append(f"/* {what} */\nstatic {ctype} {name}[{size}] EQ_ALIGN16;")
        return name
    rows = [", ".join([str(value)] * min(16, size - i)) for i in range(0, size, 16)]
    body = "\n".join(f"    {row}," for row in rows)
    em.decls.append(
        f"/* {what} */\n/* clang-format off */\nstatic {ctype} {name}[{size}] = {{\n{body}\n}};\n/* clang-format on */"
    )
    return name


def lower_lstm(em: Emitter, graph: Graph, op: Operator) -> None:
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    hidden, cell = graph.tensors[op.inputs[HIDDEN_STATE]], graph.tensors[op.inputs[CELL_STATE]]
    (in_s,), (in_zp,) = qparams(op, x)
    (hidden_s,), (hidden_zp,) = qparams(op, hidden)
    (cell_s,), _ = qparams(op, cell)
    units = hidden.size
    steps = x.size // x.shape[2]
    gates = _gate_fields(em, graph, op, {"in": -in_zp, "rec": -hidden_zp}, {"in": in_s, "rec": hidden_s})
    forget = _mul(NONLINEAR_OUT_SCALE * _f32(cell_s) / _f32(cell_s))
    update = _mul(NONLINEAR_OUT_SCALE * NONLINEAR_OUT_SCALE / _f32(cell_s))
    out = _mul(NONLINEAR_OUT_SCALE * NONLINEAR_OUT_SCALE / _f32(hidden_s))
    tanh_mult, tanh_shift = _tanh_scaling(cell_s)
    scratch = gates["in_stride"] + gates["rec_stride"] + 4 * units
    state = {
        "hidden": _state_array(em, "int8_t", em.name(op.index, "hidden"), units, hidden_zp, "LSTM hidden state"),
        "cell": _state_array(em, "int16_t", em.name(op.index, "cell"), units, 0, "LSTM cell state"),
        "scratch": _state_array(em, "int16_t", em.name(op.index, "scratch"), scratch, 0, "LSTM input lanes, gates"),
    }
    fields = {
        "steps": steps,
        "in_depth": x.shape[2],
        "units": units,
        **gates,
        "forget_mult": forget[0],
        "forget_shift": forget[1],
        "input_mult": update[0],
        "input_shift": update[1],
        "hidden_mult": out[0],
        "hidden_shift": out[1],
        "hidden_zp": hidden_zp,
        "tanh_mult": tanh_mult,
        "tanh_shift": tanh_shift,
        "cell_clip": _cell_clip(op, cell_s),
        **state,
    }
    p = em.struct("eq_lstm_params", em.name(op.index, "params"), fields)
    em.call(op.index, "eq_lstm_s8", [f"&{p}", em.ptr(x.index), em.ptr(y.index)], op.builtin, "edgeq_lstm.c")
