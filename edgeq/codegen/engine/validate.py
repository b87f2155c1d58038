"""Checks of a model against everything the engine generator emits, before it plans or lowers.

The lowerings turn shapes, options, scales and zero points into C literals (loop
bounds, arena offsets, multipliers) that the kernels trust without checking. A
file that parses but whose numbers disagree (a corrupted byte, a broken writer)
would otherwise become C that does not compile or an engine that writes out of
its arena. So every op the engine runs is checked here first:

- operand counts, and that the tensors it reads are written before (or are
  inputs or constants) and the tensors it writes are not constants;
- each tensor: elements, a dtype the engine can hold, one finite positive
  scale per activation and a zero point inside its dtype's range;
- each op's semantics (engine.validate_ops): weights, bias and output shapes
  against what the op computes from its input and options;
- the arena against a limit (:data:`MAX_ARENA_BYTES`) and the plan against the
  tensors (:func:`check_plan`).

An inconsistent model is a ModelFormatError naming the op, the tensor and the
mismatch; a consistent one that uses something the engine lacks is an
UnsupportedError. Lowering can then trust its input.
"""

from __future__ import annotations

import math

from edgeq.codegen.engine.emitter import CTYPES
from edgeq.codegen.engine.fuse import FusedConvAdd
from edgeq.codegen.engine.int4 import INT4_OPS
from edgeq.codegen.engine.operands import data_inputs, describe, inconsistent
from edgeq.codegen.engine.planner import ArenaPlan
from edgeq.codegen.engine.validate_ops import RULES, check_arity
from edgeq.codegen.engine.validate_s16 import check_int16
from edgeq.errors import ModelFormatError, UnsupportedError
from edgeq.model import Graph, Operator, Tensor

MAX_ARENA_BYTES = 256 * 1024 * 1024  # far above any microcontroller's RAM, far below a crash
QUANT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def validate(graph: Graph, ops: tuple) -> None:
    """Check the ops the engine will emit (in order); raises ModelFormatError or UnsupportedError."""
    _check_graph_io(graph, ops)
    for op in plain_ops(ops):
        check_arity(op)
        touched = _touched(graph, op)
        check_int16(op, touched)
        _check_int4(graph, op)
        for t in touched:
            _check_tensor(op, t, is_output=t.index in op.outputs)
        rule = RULES.get(op.builtin)
        if rule is not None:
            rule(graph, op)
        for t in touched:
            _check_size(op, t)


def plain_ops(ops: tuple) -> list[Operator]:
    """The model's operators behind ``ops`` (a fused CONV_2D+ADD is its two ops)."""
    out: list[Operator] = []
    for op in ops:
        out.extend((op.conv, op.add) if isinstance(op, FusedConvAdd) else (op,))
    return out


def _touched(graph: Graph, op: Operator) -> list[Tensor]:
    """The data tensors an op reads and the tensor it writes (shape and parameter operands excluded)."""
    reads = data_inputs(op)
    if op.builtin in ("PAD", "PADV2", "MEAN", "STRIDED_SLICE"):
        reads = reads[:1]
    return [graph.tensors[t] for t in (*reads, *op.outputs) if t >= 0]


def _check_tensor(op: Operator, t: Tensor, is_output: bool) -> None:
    if t.size == 0:
        raise inconsistent(op, f"{describe(t)} has no elements")
    if t.is_sparse:
        raise UnsupportedError(f"op {op.index} {op.builtin}: sparse {describe(t)} is not supported by the edgeq engine")
    if is_output and t.is_constant:
        raise inconsistent(op, f"its output {describe(t)} is a constant")
    if t.is_constant:
        return
    if t.dtype not in CTYPES:
        raise UnsupportedError(f"op {op.index} {op.builtin}: {t.dtype} {describe(t)} is not supported by the engine")
    _check_activation_quantization(op, t)


def _check_int4(graph: Graph, op: Operator) -> None:
    """int4 constants only as the weights of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED over int8 inputs."""
    for position, t in enumerate(op.inputs):
        tensor = graph.tensors[t] if t >= 0 else None
        if tensor is None or tensor.dtype not in ("int4", "uint4", "int2"):
            continue
        x = graph.tensors[op.inputs[0]]
        if tensor.dtype != "int4" or op.builtin not in INT4_OPS or position != 1 or x.dtype != "int8":
            raise UnsupportedError(
                f"op {op.index} {op.builtin}: {tensor.dtype} {describe(tensor)} is not supported by the edgeq engine, "
                "which runs int4 weights on CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int8 activations; "
                "quantize this op's weights to int8"
            )


def _check_size(op: Operator, t: Tensor) -> None:
    if not t.is_constant and t.nbytes > MAX_ARENA_BYTES:
        raise UnsupportedError(
            f"op {op.index} {op.builtin}: {describe(t)} takes {t.nbytes:,} bytes, more than the engine's arena "
            f"limit of {MAX_ARENA_BYTES:,} ({MAX_ARENA_BYTES >> 20} MiB); check the model's shapes (edgeq inspect)"
        )


def _check_activation_quantization(op: Operator, t: Tensor) -> None:
    """One finite positive scale and a zero point in range, for integer activations (a float's are unused)."""
    q = t.quantization
    if q is None or t.dtype not in QUANT_RANGES:
        return
    if len(q.scale) != 1:
        raise UnsupportedError(
            f"op {op.index} {op.builtin}: {describe(t)} has {len(q.scale)} scales; "
            "the engine runs activations quantized per tensor"
        )
    if not (math.isfinite(q.scale[0]) and q.scale[0] > 0):
        raise inconsistent(op, f"{describe(t)} has quantization scale {q.scale[0]}, which must be positive")
    lo, hi = QUANT_RANGES[t.dtype]
    if not lo <= q.zero_point[0] <= hi:
        raise inconsistent(op, f"{t.dtype} {describe(t)} has zero point {q.zero_point[0]}, outside [{lo}, {hi}]")


def _check_graph_io(graph: Graph, ops: tuple) -> None:
    """Inputs and outputs live in the arena; every tensor an op reads was written before it."""
    if not graph.outputs:
        raise ModelFormatError("the model has no outputs, so the engine would compute nothing; re-export the model")
    written = set(graph.inputs)
    for t in graph.inputs:
        if graph.tensors[t].is_constant:
            raise ModelFormatError(f"graph input {describe(graph.tensors[t])} is a constant; re-export the model")
    for op in plain_ops(ops):
        for t in data_inputs(op):
            if t >= 0 and not graph.tensors[t].is_constant and t not in written:
                raise inconsistent(op, f"it reads {describe(graph.tensors[t])} before any op writes it")
        written.update(t for t in op.outputs if t >= 0)
    for t in graph.outputs:
        if t not in written:
            tensor = graph.tensors[t]
            if tensor.is_constant:
                raise ModelFormatError(f"graph output {describe(tensor)} is a constant; re-export the model")
            if t in graph.producers:
                raise UnsupportedError(
                    f"graph output {describe(tensor)} is computed while generating the engine (shape arithmetic); "
                    "the engine needs outputs that its kernels write"
                )
            raise ModelFormatError(f"graph output {describe(tensor)} is written by no op; re-export the model")


def check_plan(graph: Graph, plan: ArenaPlan) -> None:
    """The arena within :data:`MAX_ARENA_BYTES`, every buffer inside it, live buffers apart.

    The plan is edgeq's own arithmetic, so a violation of the last three is a bug (RuntimeError).
    """
    if plan.arena_bytes > MAX_ARENA_BYTES:
        raise UnsupportedError(
            f"the engine's arena would take {plan.arena_bytes:,} bytes, more than its limit of "
            f"{MAX_ARENA_BYTES:,} ({MAX_ARENA_BYTES >> 20} MiB); check the model's shapes (edgeq inspect)"
        )
    placed = [(b, plan.offsets[b.tensors[0]] - b.start_of(b.tensors[0])) for b in plan.buffers]
    extent = max((offset + b.size for b, offset in placed), default=0)
    if extent != plan.arena_bytes or any(offset < 0 for _, offset in placed):
        raise RuntimeError(f"engine arena plan: {plan.arena_bytes} bytes planned, buffers span {extent}")
    for b in plan.buffers:
        needed = max((b.start_of(t) + graph.tensors[t].nbytes for t in b.tensors if t >= 0), default=0)
        if needed > b.size:
            raise RuntimeError(f"engine arena plan: buffer of tensors {b.tensors} has {b.size} bytes, needs {needed}")
    for i, (a, at) in enumerate(placed):
        for b, bt in placed[i + 1 :]:
            if a.overlaps(b) and at < bt + b.size and bt < at + a.size:
                raise RuntimeError(f"engine arena plan: live buffers {a.tensors} and {b.tensors} overlap")
