"""Assemble an engine: analyze -> validate -> plan the arena -> lower every op -> render NAME.h / NAME.c."""

from __future__ import annotations

from dataclasses import dataclass

from edgeq.codegen.context import ModelContext
from edgeq.codegen.engine.analyze import analyze
from edgeq.codegen.engine.emitter import Emitter
from edgeq.codegen.engine.operands import data_inputs
from edgeq.codegen.engine.ops import KERNEL_DEPENDENCIES, OPS, SHARED_KERNELS
from edgeq.codegen.engine.planner import ArenaPlan, group_aliases, lifetimes, plan
from edgeq.codegen.engine.scratch import BLOCK_OPS, MM_COLS, NARROW_COLS, scratch_sizes
from edgeq.codegen.engine.sources import kernel_source
from edgeq.codegen.engine.validate import check_plan, validate
from edgeq.errors import EdgeqError, UnsupportedError
from edgeq.model import Graph, Operator
from edgeq.render import render

ARENA_SLACK = 1 / 128  # arena growth that eight-column CONV_2D blocks may cost (they need twice the scratch)


@dataclass(frozen=True)
class Engine:
    """The generated sources and their figures."""

    files: dict[str, str | bytes]
    plan: ArenaPlan
    weights_bytes: int
    kernel_files: tuple[str, ...]
    ops: tuple[str, ...]


def check_supported(ops: tuple[Operator, ...]) -> None:
    missing = [f"{op.builtin} (op {op.index})" for op in ops if op.builtin not in OPS]
    if missing:
        raise UnsupportedError(f"the edgeq engine has no kernel for {', '.join(missing)}; use --format tflm")


def plan_arena(
    graph: Graph,
    ops: tuple[Operator, ...],
    aliases: tuple[tuple[int, int], ...],
    block_cols: dict[int, int] | None = None,
) -> ArenaPlan:
    """Offsets of every non-constant tensor and of every kernel scratch region (see engine.scratch)."""
    uses = [(data_inputs(op), list(op.outputs)) for op in ops]
    spans = lifetimes(len(ops), uses, list(graph.inputs), list(graph.outputs))
    spans = {t: s for t, s in spans.items() if not graph.tensors[t].is_constant}
    sizes = {t: graph.tensors[t].nbytes for t in spans}
    for key, (position, size) in scratch_sizes(graph, ops, block_cols).items():
        spans[key], sizes[key] = (position, position), size
    return plan(group_aliases(spans, sizes, list(aliases)))


def choose_block_cols(graph: Graph, ops: tuple[Operator, ...], aliases: tuple[tuple[int, int], ...]) -> dict[int, int]:
    """Columns per block of each CONV_2D: eight (faster), but four where eight would grow the arena.

    Eight columns everywhere when that costs at most ARENA_SLACK of the smallest arena (four columns
    everywhere); else four, widened op by op while the arena stays within that budget.
    """
    blocks = [op.index for op in ops if op.builtin in BLOCK_OPS]
    narrow = {index: NARROW_COLS for index in blocks}
    budget = plan_arena(graph, ops, aliases, narrow).arena_bytes
    budget += int(budget * ARENA_SLACK)
    if plan_arena(graph, ops, aliases).arena_bytes <= budget:
        return {}
    cols = dict(narrow)
    for index in blocks:
        wide = {**cols, index: MM_COLS}
        if plan_arena(graph, ops, aliases, wide).arena_bytes <= budget:
            cols = wide
    return cols


def build_engine(graph: Graph, ctx: ModelContext) -> Engine:
    """Generate the engine sources for ``graph``; UnsupportedError names any op it cannot run.

    ModelFormatError names the op and tensors of a model whose shapes, sizes or quantization
    contradict each other (engine.validate), before anything is planned or emitted.
    """
    analysis = analyze(graph)
    check_supported(analysis.ops)
    validate(graph, analysis.ops)
    block_cols = choose_block_cols(graph, analysis.ops, analysis.aliases)
    arena = plan_arena(graph, analysis.ops, analysis.aliases, block_cols)
    check_plan(graph, arena)
    em = Emitter(graph, ctx.ident, arena.offsets, block_cols=block_cols)
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
    return Engine(files, arena, em.flash_bytes, kernels, ops)


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
