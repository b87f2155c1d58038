"""CONV_2D + ADD fused in place, where it is provably safe.

In a residual block the conv output ``c`` exists only to be added to the
residual ``x``. When ``c`` has no other reader, ``x`` has no reader after the
ADD and is not a graph input or output, and all three have the same shape, the
pair runs as one kernel at the ADD's position: each output element is computed
from the conv and ``x[i]`` and written over ``x[i]``, which nothing reads
again. ``c`` never needs memory and the output shares ``x``'s buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeq.model import Graph, Operator

FUSED = "CONV_2D+ADD"


@dataclass(frozen=True)
class FusedConvAdd:
    """A CONV_2D and the ADD that consumes it, run as one in-place kernel."""

    conv: Operator
    add: Operator
    residual: int
    conv_is_in1: bool
    builtin: str = FUSED

    @property
    def index(self) -> int:
        return self.add.index

    @property
    def inputs(self) -> tuple[int, ...]:
        return (*self.conv.inputs, self.residual)

    @property
    def outputs(self) -> tuple[int, ...]:
        return self.add.outputs


def fuse_conv_add(graph: Graph, ops: list, aliased: set[int]) -> tuple[list, list[tuple[int, int]]]:
    """Replace eligible CONV_2D/ADD pairs; returns the new op list and (residual, output) aliases."""
    readers: dict[int, list[int]] = {}
    for position, op in enumerate(ops):
        for t in op.inputs:
            readers.setdefault(t, []).append(position)
    fused: dict[int, FusedConvAdd] = {}
    dropped: set[int] = set()
    for position, op in enumerate(ops):
        pair = _candidate(graph, ops, position, op, readers, aliased)
        if pair is not None and pair[0] not in fused:  # an ADD of two conv outputs fuses with one of them
            add_position, fused_op = pair
            fused[add_position] = fused_op
            dropped.add(position)
    result = [fused.get(p, op) for p, op in enumerate(ops) if p not in dropped]
    return result, [(f.residual, f.outputs[0]) for f in fused.values()]


def _candidate(graph: Graph, ops: list, position: int, op, readers, aliased: set[int]):
    if op.builtin != "CONV_2D":
        return None
    c = op.outputs[0]
    users = readers.get(c, [])
    if len(users) != 1 or c in graph.outputs:
        return None
    add_position = users[0]
    add = ops[add_position]
    if add.builtin != "ADD" or add.inputs[0] == add.inputs[1]:
        return None
    x = add.inputs[1] if add.inputs[0] == c else add.inputs[0]
    tensors = graph.tensors
    if tensors[x].is_constant or x in graph.inputs or x in graph.outputs or x in aliased or x in op.inputs:
        return None
    if not tensors[x].shape == tensors[c].shape == tensors[add.outputs[0]].shape:
        return None
    if any(tensors[t].dtype != "int8" for t in (x, c, add.outputs[0])):
        return None
    if max(readers.get(x, [add_position])) != add_position:
        return None
    return add_position, FusedConvAdd(op, add, x, add.inputs[0] == c)
