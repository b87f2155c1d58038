"""The kernel schedule of an engine: which variant each scratch-using op runs, chosen against a RAM budget.

CONV_2D (and CONV_2D+ADD) runs blocks of 8, 4 or 1 int16 columns, FULLY_CONNECTED
one int16 column of its input or the int8 input directly (engine.scratch). A
wider block is faster and needs more scratch; the scratch is planned in the
arena with the tensors (engine.planner), so a variant grows the arena only when
its scratch lands on the peak. The schedule starts from the smallest variant of
every op (the smallest arena, ``ram``) and, in order of the ops' multiply-adds,
moves each op to the fastest variant whose arena stays within the cap of the
``optimize`` mode:

- ``speed``: no cap, the fastest variant everywhere (unless ``ram_budget``);
- ``ram``: the smallest arena; only upgrades that leave it unchanged;
- ``balanced`` (the default): the arena of 4-column conv blocks and direct FC
  plus 1/128, and never above a floor of TFLM's arena for the same model
  (``tflm_floor``: the most bytes of the model's tensors alive at once, plus the
  bookkeeping TFLM always keeps in its arena), so a balanced engine never needs
  more RAM than TFLM.

``ram_budget`` caps any mode; a budget below the smallest arena is a UsageError
naming that arena, raised before any code is emitted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from edgeq.codegen.engine.inplace import in_place_pairs
from edgeq.codegen.engine.int4 import has_int4_weights
from edgeq.codegen.engine.operands import ALIAS_OPS, data_inputs
from edgeq.codegen.engine.planner import ArenaPlan, group_aliases, lifetimes, lower_bound, plan
from edgeq.codegen.engine.scratch import BLOCK_OPS, scratch_key, scratch_sizes, variant_scratch, variants
from edgeq.errors import UsageError
from edgeq.model import Graph, Operator

OPTIMIZE = ("speed", "balanced", "ram")
ARENA_SLACK = 1 / 128  # arena growth balanced allows for faster kernels
BALANCED_FLOOR = {"CONV_2D": "cols4", "CONV_2D+ADD": "cols4", "FULLY_CONNECTED": "direct"}


@dataclass(frozen=True)
class OpKernel:
    """One op's kernel variant and the scratch it reserves."""

    op: int
    builtin: str
    kernel: str
    scratch_bytes: int


@dataclass(frozen=True)
class Schedule:
    """The chosen variants, the cap they were chosen under and the smallest arena the model can run in."""

    optimize: str
    ram_budget: int | None
    cap_bytes: int | None  # None: no cap (speed without a budget)
    smallest_arena_bytes: int
    kernels: tuple[OpKernel, ...]

    @property
    def chosen(self) -> dict[int, str]:
        return {k.op: k.kernel for k in self.kernels}

    @property
    def scratch_bytes(self) -> int:
        """The largest scratch region (regions of different ops are never needed at once)."""
        return max((k.scratch_bytes for k in self.kernels), default=0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_arena(
    graph: Graph,
    ops: tuple[Operator, ...],
    aliases: tuple[tuple[int, int], ...],
    chosen: dict[int, str] | None = None,
    in_place: bool | None = None,
) -> ArenaPlan:
    """Offsets of every non-constant tensor and of every kernel scratch region (see engine.scratch).

    ``in_place``: write outputs over dying inputs where engine.inplace allows it (True), never (False),
    or whichever of the two gives the smaller arena (None; without, on a tie).
    """
    uses = [(data_inputs(op), list(op.outputs)) for op in ops]
    spans = lifetimes(len(ops), uses, list(graph.inputs), list(graph.outputs))
    spans = {t: s for t, s in spans.items() if not graph.tensors[t].is_constant}
    sizes = {t: graph.tensors[t].nbytes for t in spans}
    pairs = in_place_pairs(graph, ops, spans, aliases) if in_place is not False else []
    for key, (position, size) in scratch_sizes(graph, ops, chosen).items():
        spans[key], sizes[key] = (position, position), size
    separate = plan(group_aliases(spans, sizes, list(aliases))) if not in_place or not pairs else None
    if not pairs:
        return separate or plan(group_aliases(spans, sizes, list(aliases)))
    shared = plan(group_aliases(spans, sizes, list(aliases), pairs))
    return shared if separate is None or shared.arena_bytes < separate.arena_bytes else separate


def tensor_floor(graph: Graph) -> int:
    """The most bytes of the model's own tensors alive at once (16-byte aligned), over its unfused operators.

    No arena that holds every tensor of the model can be smaller; TFLM's holds them and its bookkeeping.
    An op with int4 weights counts the int8 copy of its filter too: TFLM's int4 kernels unpack the
    whole filter into a scratch buffer alive during the op (engine.int4).
    """
    ops = graph.operators
    uses = [(data_inputs(op), list(op.outputs)) for op in ops]
    spans = lifetimes(len(ops), uses, list(graph.inputs), list(graph.outputs))
    spans = {t: s for t, s in spans.items() if t >= 0 and not graph.tensors[t].is_constant}
    sizes = {t: graph.tensors[t].nbytes for t in spans}
    for position, op in enumerate(ops):
        if has_int4_weights(graph, op):
            spans[scratch_key(op.index)] = (position, position)
            sizes[scratch_key(op.index)] = graph.tensors[op.inputs[1]].size
    # reshape-like outputs may share their input's bytes: counting them once keeps this a floor
    shared = [(op.inputs[0], op.outputs[0]) for op in ops if op.builtin in ALIAS_OPS]
    shared = [(a, b) for a, b in shared if a in spans and b in spans]
    return lower_bound(group_aliases(spans, sizes, shared))


EVAL_TENSOR_BYTES = 12  # TFLM's TfLiteEvalTensor on a 32-bit target: data, dims, type; one per tensor
CHANNEL_BYTES = 8  # TFLM's CONV_2D and DEPTHWISE_CONV_2D keep an int32 multiplier and shift per output channel


def tflm_floor(graph: Graph) -> int:
    """Bytes TFLM's arena holds at least: ``tensor_floor`` plus its persistent per-tensor and per-channel data.

    Counted with 32-bit sizes and only what its reference kernels always allocate, so it stays below the
    arena TFLM really needs (which adds its node and allocator structures).
    """
    channels = sum(
        graph.tensors[op.outputs[0]].shape[-1]
        for op in graph.operators
        if op.builtin in ("CONV_2D", "DEPTHWISE_CONV_2D")
    )
    return tensor_floor(graph) + EVAL_TENSOR_BYTES * len(graph.tensors) + CHANNEL_BYTES * channels


def choose_schedule(
    graph: Graph,
    ops: tuple[Operator, ...],
    aliases: tuple[tuple[int, int], ...],
    optimize: str = "balanced",
    ram_budget: int | None = None,
) -> Schedule:
    """The fastest variants whose arena fits the cap of ``optimize`` and ``ram_budget`` (see the module)."""
    if optimize not in OPTIMIZE:
        raise UsageError(f"--optimize {optimize!r} is not one of: {', '.join(OPTIMIZE)}")
    options = {op.index: variants(graph, op) for op in ops if variants(graph, op)}
    smallest = {i: v[-1] for i, v in options.items()}
    floor = plan_arena(graph, ops, aliases, smallest).arena_bytes
    if ram_budget is not None and ram_budget < floor:
        raise UsageError(
            f"--ram-budget {ram_budget:,} is below the smallest arena this model can run in, {floor:,} bytes "
            f"(every kernel in its smallest-scratch variant); give --ram-budget {floor} or more"
        )
    cap = _cap(graph, ops, aliases, optimize, options, floor)
    if ram_budget is not None:
        cap = ram_budget if cap is None else min(cap, ram_budget)
    chosen = _fastest_within(graph, ops, aliases, options, smallest, cap)
    kernels = tuple(
        OpKernel(op.index, op.builtin, chosen[op.index], variant_scratch(graph, op, chosen[op.index]))
        for op in ops
        if op.index in chosen
    )
    return Schedule(optimize, ram_budget, cap, floor, kernels)


def _cap(graph, ops, aliases, optimize: str, options: dict[int, tuple[str, ...]], floor: int) -> int | None:
    """The arena the mode allows (None: any)."""
    if optimize == "speed":
        return None
    if optimize == "ram":
        return floor
    base = {i: BALANCED_FLOOR.get(_builtin(ops, i), v[-1]) for i, v in options.items()}
    base = {i: b if b in options[i] else options[i][-1] for i, b in base.items()}
    balanced = plan_arena(graph, ops, aliases, base).arena_bytes
    return max(floor, min(balanced + int(balanced * ARENA_SLACK), tflm_floor(graph)))


def _builtin(ops: tuple[Operator, ...], index: int) -> str:
    return next(op.builtin for op in ops if op.index == index)


def _fastest_within(graph, ops, aliases, options, smallest: dict[int, str], cap: int | None) -> dict[int, str]:
    """From the smallest variants, each op (most multiply-adds first) to its fastest variant that keeps the cap."""
    fastest = {i: v[0] for i, v in options.items()}
    if cap is None or plan_arena(graph, ops, aliases, fastest).arena_bytes <= cap:
        return fastest
    chosen = dict(smallest)
    for op in sorted((op for op in ops if op.index in options), key=lambda op: -_macs(graph, op)):
        for variant in options[op.index][:-1]:
            trial = {**chosen, op.index: variant}
            if plan_arena(graph, ops, aliases, trial).arena_bytes <= cap:
                chosen = trial
                break
    return chosen


def _macs(graph: Graph, op) -> int:
    """Multiply-adds of a conv or FC op: outputs times taps per output."""
    conv = op.conv if op.builtin == "CONV_2D+ADD" else op
    w = graph.tensors[conv.inputs[1]]
    out = graph.tensors[conv.outputs[0]]
    taps = w.size // w.shape[0] if op.builtin in BLOCK_OPS else w.shape[-1]
    return out.size * taps


__all__ = ["OPTIMIZE", "OpKernel", "Schedule", "choose_schedule", "plan_arena", "tensor_floor", "tflm_floor"]
