"""Assemble an engine: analyze -> validate -> plan the arena -> lower every op -> render NAME.h / NAME.c."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from edgeq.codegen.context import ModelContext
from edgeq.codegen.engine.analyze import analyze
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.ops import KERNEL_DEPENDENCIES, OPS, SHARED_KERNELS
from edgeq.codegen.engine.planner import ArenaPlan
from edgeq.codegen.engine.schedule import Schedule, choose_schedule, plan_arena
from edgeq.codegen.engine.scratch import VARIANT_COLS, scratch_sizes
from edgeq.codegen.engine.sources import kernel_source
from edgeq.codegen.engine.validate import check_plan, validate
from edgeq.errors import EdgeqError, UnsupportedError
from edgeq.model import Graph, Operator
from edgeq.render import render


@dataclass(frozen=True)
class Constants:
    """The engine's constant bytes in flash by what they hold (kernel code not included).

    ``weights``: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weights in the kernels' layouts (int4
    weights packed, two a byte); ``biases`` and ``requant``: the per-output-channel parameters of those ops
    (an int32 bias, and an int32 multiplier, shift and rounding constant per ``eq_channel`` row; ops with
    int4 weights keep an int32 multiplier and an int8 shift, expanded into rows at run time, engine.int4);
    ``other``: every other table (constant operands, LSTM weights, lookup tables); ``channels``: output
    channels with a table row.
    """

    weights: int
    biases: int
    requant: int
    other: int
    channels: int

    @property
    def total(self) -> int:
        return self.weights + self.biases + self.requant + self.other

    @property
    def per_channel(self) -> float:
        """Bytes of per-channel parameters (bias and requantization) per output channel."""
        return (self.biases + self.requant) / self.channels if self.channels else 0.0

    def to_dict(self) -> dict[str, int | float]:
        return {**asdict(self), "total": self.total, "per_channel": self.per_channel}


@dataclass(frozen=True)
class Engine:
    """The generated sources and their figures."""

    files: dict[str, str | bytes]
    plan: ArenaPlan
    weights_bytes: int
    kernel_files: tuple[str, ...]
    ops: tuple[str, ...]
    schedule: Schedule
    static_ram_bytes: int = 0  # RAM outside the arena: an LSTM's state and gate buffers
    constants: Constants = Constants(0, 0, 0, 0, 0)


def check_supported(ops: tuple[Operator, ...]) -> None:
    missing = [f"{op.builtin} (op {op.index})" for op in ops if op.builtin not in OPS]
    if missing:
        raise UnsupportedError(f"the edgeq engine has no kernel for {', '.join(missing)}; use --format tflm")


def build_engine(
    graph: Graph,
    ctx: ModelContext,
    optimize: str = "balanced",
    ram_budget: int | None = None,
    in_place: bool | None = None,
) -> Engine:
    """Generate the engine sources for ``graph``; UnsupportedError names any op it cannot run.

    ModelFormatError names the op and tensors of a model whose shapes, sizes or quantization
    contradict each other (engine.validate), before anything is planned or emitted. The kernel
    variants are chosen by engine.schedule for ``optimize`` within ``ram_budget`` (UsageError when
    the budget is below the smallest arena the model can run in). ``in_place``: see
    engine.schedule.plan_arena (None, the default, writes over dying inputs where that saves RAM).
    """
    analysis = analyze(graph)
    check_supported(analysis.ops)
    validate(graph, analysis.ops)
    schedule = choose_schedule(graph, analysis.ops, analysis.aliases, optimize, ram_budget)
    arena = plan_arena(graph, analysis.ops, analysis.aliases, schedule.chosen, in_place)
    check_plan(graph, arena)
    block_cols = {i: VARIANT_COLS[v] for i, v in schedule.chosen.items() if v in VARIANT_COLS}
    regions = {key: size for key, (_, size) in scratch_sizes(graph, analysis.ops, schedule.chosen).items()}
    em = Emitter(graph, ctx.ident, arena.offsets, block_cols, schedule.chosen, regions)
    for op in analysis.ops:
        _lower(em, graph, op)
    needed = {*SHARED_KERNELS, *em.kernels}
    needed.update(dep for k in list(needed) for dep in KERNEL_DEPENDENCIES.get(k, ()))
    kernels = tuple(sorted(needed))
    io = {"inputs": [arena.offsets[t] for t in graph.inputs], "outputs": [arena.offsets[t] for t in graph.outputs]}
    files: dict[str, str | bytes] = {
        f"{ctx.ident}.h": render("engine/model.h.j2", m=ctx, arena=arena, io=io),
        f"{ctx.ident}.c": render(
            "engine/model.c.j2", m=ctx, arena=arena, pointers=em.pointers, decls=em.decls, calls=em.calls, io=io
        ),
    }
    for name in kernels:
        files[name] = kernel_source(name)
    ops = tuple(dict.fromkeys(op.builtin for op in analysis.ops))
    parts = {k: em.flash_parts.get(k, 0) for k in ("weights", "biases", "requant", "other")}
    constants = Constants(**parts, channels=em.channel_rows)
    return Engine(files, arena, em.flash_bytes, kernels, ops, schedule, em.static_ram_bytes, constants)


def _lower(em: Emitter, graph: Graph, op: Operator) -> None:
    """Emit ``op``'s calls; its kernel files must be the ones the op table names for it."""
    support = OPS[op.builtin]
    before, em.kernels = em.kernels, set()
    support.lower(em, graph, op)
    unnamed = em.kernels - set(support.kernels)
    if unnamed:
        raise EdgeqError(
            f"internal: {op.builtin} called into {sorted(unnamed)}, missing from its entry in engine/ops.py"
        )
    em.kernels |= before
