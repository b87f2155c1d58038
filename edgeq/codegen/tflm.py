"""``--format tflm``: a folder to drop into a TensorFlow Lite Micro build.

Holds the C array files, the op resolver with exactly the model's ops, the
arena size (modeled for a 32-bit target from the host measurement, with the
host figure for 64-bit builds; ``edgeq.codegen.arena``), a ``main.cc``
speaking the MLPerf Tiny serial protocol on top of TFLM, the shared protocol
sources, the platform layer and a README.

With ``--npu ACCELERATOR`` (``generate_npu_project``) the model is one Arm's Vela compiled for an
Ethos-U: the resolver registers the ``ethos-u`` custom op (``AddEthosU``) plus the ops Vela left on
the CPU, ``edgeq_npu_platform.c`` holds what the board provides for the NPU (register base, IRQ and
handler, driver start-up, cache maintenance; from the board file with ``--board``, an ``#error``
for each missing figure otherwise), and the arena is estimated from Vela's offline tensor plan,
since no host interpreter runs the ``ethos-u`` op.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeq.boards import Board, load_board
from edgeq.boards.npu_schema import NpuMemory, NpuSpec
from edgeq.codegen.arena import MARGIN_FRACTION, ArenaMeasurement, margin
from edgeq.codegen.carray import carray_files, check_section
from edgeq.codegen.context import ModelContext, model_context, results_are_mse
from edgeq.codegen.npu_split import compiled_for, cpu_ops, ethos_u_ops, offline_plan_bytes
from edgeq.codegen.tflm_ops import check_tflm_buffers, resolver_methods
from edgeq.errors import UsageError
from edgeq.log import logger
from edgeq.model import Graph, read_model
from edgeq.model.reader import read_bytes
from edgeq.npu import ACCELERATORS
from edgeq.render import render, template_bytes, write_folder

# Copied unchanged from edgeq/firmware/templates/common: the protocol, written once in C for every firmware.
SHARED_SOURCES = ("common/edgeq_dut.h", "common/edgeq_dut.c", "common/edgeq_platform.h")


def tflm_methods(graph: Graph) -> list[str]:
    """Resolver methods of the model's ops; UnsupportedError lists ops TFLM lacks (or data it cannot read).

    A model compiled by Vela is refused here (UsageError): its project needs --npu (generate_npu_project).
    """
    if ethos_u_ops(graph):
        found = compiled_for(graph) or "ACCELERATOR"
        raise UsageError(f"{graph.name} is compiled by Vela for an Ethos-U NPU; generate it with --npu {found}")
    methods = resolver_methods((op.builtin, op.custom_code) for op in graph.operators)
    check_tflm_buffers(graph, "use --format engine")
    return methods


def tflm_files(
    ctx: ModelContext, methods: list[str], arena: ArenaMeasurement, carray: dict[str, str]
) -> dict[str, str | bytes]:
    """{file name: content} of the whole TFLM folder (``carray`` holds the C array files)."""
    files: dict[str, str | bytes] = dict(carray)
    files[f"{ctx.ident}_ops.h"] = render("tflm/ops.h.j2", m=ctx, methods=methods)
    files[f"{ctx.ident}_arena.h"] = render("tflm/arena.h.j2", m=ctx, arena=arena)
    files["main.cc"] = render("tflm/main.cc.j2", m=ctx, results_are_mse=results_are_mse(ctx), npu=None)
    files["platform.cc"] = render("tflm/platform.cc.j2", m=ctx)
    for source in SHARED_SOURCES:
        files[source.split("/")[-1]] = template_bytes(source)
    files["README.md"] = render("tflm/README.md.j2", m=ctx, arena=arena, methods=methods, files=sorted(files))
    return files


# ---- --npu: a TFLM project for a model compiled by Vela for an Arm Ethos-U -------------------------------------

NPU_MODEL_SECTION = ".rodata.edgeq_npu_model"
DCACHE_CORES = ("cortex-m7", "cortex-m55", "cortex-m85")
# TFLM's structures on a 32-bit target, beside the tensors Vela planned (edgeq.codegen.arena32's figures): the
# allocator, arena and planner objects; one TfLiteEvalTensor per tensor; one node-and-registration record per op;
# the TfLiteTensor, quantization record and pointer kept per model input and output; and an allowance per op for
# kernel data and TFLM's bookkeeping of the offline plan.
_ALLOCATOR_BYTES = 48 + 48 + 48
_PER_TENSOR, _PER_OP, _PER_IO, _PER_OP_DATA = 12, 32, 40 + 12 + 4, 64
_BOOKKEEPING_BYTES = 1024


@dataclass(frozen=True)
class NpuArena:
    """The tensor arena of a Vela-compiled model in TFLM, estimated (no host interpreter runs ``ethos-u``)."""

    planned_bytes: int
    tflm_bytes: int
    planned_how: str

    @property
    def margin_bytes(self) -> int:
        return margin(self.planned_bytes + self.tflm_bytes)

    @property
    def arena_bytes(self) -> int:
        """The constant written: a multiple of 32 (the arena's alignment)."""
        return -(-(self.planned_bytes + self.tflm_bytes + self.margin_bytes) // 32) * 32

    @property
    def how(self) -> str:
        return (
            f"{self.planned_bytes} bytes of tensors ({self.planned_how}) + {self.tflm_bytes} for TFLM's own "
            f"structures on a 32-bit target (modeled per tensor, op and model input/output, with an allowance for "
            f"kernel data) + a margin of {self.margin_bytes} ({MARGIN_FRACTION:.0%}), rounded up to 32"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "arena_bytes": self.arena_bytes, "how": self.how}


@dataclass(frozen=True)
class NpuProjectReport:
    """What ``edgeq generate --format tflm --npu ACCELERATOR`` wrote.

    ``placeholders``: the figures edgeq_npu_platform.c leaves to an ``#error`` (no --board, or the board
    file lacks them).
    """

    out_dir: str
    model: str
    name: str
    accelerator: str
    board: str | None
    files: tuple[str, ...]
    resolver_methods: tuple[str, ...]
    npu_ops: int
    cpu_ops: tuple[str, ...]
    flash_bytes: int
    arena: NpuArena
    placeholders: tuple[str, ...]
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["arena"] = self.arena.to_dict()
        data["format"] = "tflm"
        return data


def generate_npu_project(
    model: str | Path,
    out_dir: str | Path,
    accelerator: str,
    *,
    name: str | None = None,
    board: str | None = None,
    section: str | None = None,
    force: bool = False,
) -> NpuProjectReport:
    """A TFLM project for ``model``, a .tflite Vela compiled for ``accelerator`` (e.g. ``ethos-u55-128``).

    Everything is checked before a file is written: the model must hold ``ethos-u`` ops compiled for
    ``accelerator``, its CPU ops must have TFLM kernels, and ``board`` (when given) must have that NPU.

    Raises:
        UsageError: Not a Vela model, another accelerator, a board without this NPU, or a model that does
            not fit the board's NPU memories (unless ``force``).
        UnsupportedError: A CPU op TFLM has no kernel for.
    """
    if accelerator not in ACCELERATORS:
        raise UsageError(
            f"--npu {accelerator!r} is not an Ethos-U configuration; use one of: {', '.join(ACCELERATORS)}"
        )
    path = Path(model)
    data = read_bytes(path)
    graph = read_model(data, name=str(path))
    check_compiled_for(graph, accelerator, path)
    spec = _board_npu(board, accelerator)
    methods = resolver_methods((op.builtin, op.custom_code) for op in graph.operators)
    check_tflm_buffers(graph, "compile the model again with edgeq compile")
    ctx = model_context(graph, path, name)
    arena = npu_arena(graph, data)
    problems = _npu_fit(spec[0], len(data), arena.arena_bytes, force)
    section = check_section(section) or NPU_MODEL_SECTION
    files, placeholders = npu_files(ctx, graph, data, methods, arena, spec, section)
    write_folder(Path(out_dir), files)
    return NpuProjectReport(
        str(out_dir),
        str(path),
        ctx.ident,
        accelerator,
        board,
        tuple(sorted(files)),
        tuple(methods),
        len(ethos_u_ops(graph)),
        tuple(op.name for op in cpu_ops(graph)),
        len(data),
        arena,
        placeholders,
        tuple(problems),
    )


def check_compiled_for(graph: Graph, accelerator: str, path: Path) -> None:
    """UsageError unless ``graph`` has ethos-u ops whose command streams were compiled for ``accelerator``."""
    if not ethos_u_ops(graph):
        raise UsageError(f"{path} has no ethos-u op; compile it first: edgeq compile {path} --npu {accelerator}")
    found = compiled_for(graph)
    if found is None:
        logger.warning("warning: %s: the accelerator its command streams were compiled for cannot be read", path)
    elif found != accelerator:
        raise UsageError(
            f"{path} was compiled by Vela for {found}, not {accelerator}; compile the int8 model again: "
            f"edgeq compile MODEL --npu {accelerator}"
        )


def _board_npu(board_id: str | None, accelerator: str) -> tuple[Board | None, NpuSpec]:
    """The board and its NPU, checked against --npu; without a board, an NPU with no figures."""
    if board_id is None:
        model = accelerator.rsplit("-", 1)[0]
        given = {"model": "--npu", "accelerator": "--npu"}
        return None, NpuSpec(model=model, accelerator=accelerator, sources=given)
    board = load_board(board_id)
    if board.npu is None:
        raise UsageError(f"board {board.id} has no NPU; pick a board with one (edgeq boards: the npu column)")
    if board.npu.accelerator != accelerator:
        raise UsageError(
            f"board {board.id} has an {board.npu.accelerator}, not --npu {accelerator}; compile the model for "
            f"{board.npu.accelerator} and generate with --npu {board.npu.accelerator}"
        )
    return board, board.npu


def npu_arena(graph: Graph, data: bytes) -> NpuArena:
    """The arena estimate: Vela's offline plan (or every non-constant tensor) plus TFLM's structures."""
    planned = offline_plan_bytes(data)
    if planned is None:
        planned = sum(t.nbytes for t in graph.tensors if not t.is_constant)
        how = "every non-constant tensor: the model has no offline plan"
    else:
        how = "Vela's offline plan, OfflineMemoryAllocation"
    io = len(graph.inputs) + len(graph.outputs)
    ops = len(graph.operators)
    tflm = _ALLOCATOR_BYTES + _PER_TENSOR * len(graph.tensors) + (_PER_OP + _PER_OP_DATA) * ops + _PER_IO * io
    return NpuArena(-(-planned // 16) * 16, tflm + _BOOKKEEPING_BYTES, how)


def _npu_fit(board: Board | None, flash: int, arena: int, force: bool) -> list[str]:
    """The model and arena against the board's NPU memories that hold them (and its flash and RAM)."""
    if board is None:
        return []
    problems = board.fits(flash, arena)
    memories = board.npu.memories if board.npu else ()
    for what, need, holds in (("arena", arena, "arena"), ("model", flash, "model")):
        room = [m for m in memories if holds in m.holds.split("+")]
        if room and need > max(m.size for m in room):
            problems.append(f"{what}: {need:,} B exceeds {room[0].name} ({max(m.size for m in room):,} B)")
    if problems and not force:
        raise UsageError(f"the model does not fit {board.id}: {'; '.join(problems)} (--force writes it anyway)")
    for problem in problems:
        logger.warning("warning: %s", problem)
    return problems


def npu_files(
    ctx: ModelContext,
    graph: Graph,
    data: bytes,
    methods: list[str],
    arena: NpuArena,
    spec: tuple[Board | None, NpuSpec],
    section: str,
) -> tuple[dict[str, str | bytes], tuple[str, ...]]:
    """{file name: content} of the project, and the platform figures left to an #error."""
    board, npu = spec
    fast = next((m for m in npu.memories if m.holds == "fast" and m.base is not None), None)
    dcache = None if board is None or not board.cpu.core.startswith("cortex-m") else board.cpu.core in DCACHE_CORES
    values = {"npu": npu, "board": board, "fast": fast, "dcache": dcache, "m": ctx}
    files: dict[str, str | bytes] = dict(carray_files(ctx, data, "cpp", section))
    files[f"{ctx.ident}_ops.h"] = render("tflm/ops.h.j2", m=ctx, methods=methods)
    files[f"{ctx.ident}_arena.h"] = render("tflm/npu_arena.h.j2", m=ctx, arena=arena, accelerator=npu.accelerator)
    files["main.cc"] = render("tflm/main.cc.j2", m=ctx, results_are_mse=results_are_mse(ctx), npu=npu.accelerator)
    files["platform.cc"] = render("tflm/platform.cc.j2", m=ctx)
    arena_memory = next((m.name for m in npu.memories if "arena" in m.holds), "SRAM the NPU reaches")
    files["edgeq_npu_platform.h"] = render("tflm/npu_platform.h.j2", m=ctx, npu=npu, arena_memory=arena_memory)
    files["edgeq_npu_platform.c"] = render("tflm/npu_platform.c.j2", **values)
    for source in SHARED_SOURCES:
        files[source.split("/")[-1]] = template_bytes(source)
    rows = _platform_rows(npu, dcache, fast)
    placeholders = tuple(row[0] for row in rows if row[2].startswith("#error"))
    files["README.md"] = render(
        "tflm/npu_README.md.j2",
        m=ctx,
        accelerator=npu.accelerator,
        board=board,
        arena=arena,
        methods=methods,
        files=sorted([*files, "README.md"]),
        npu_ops=len(ethos_u_ops(graph)),
        cpu_ops=list(dict.fromkeys(op.name for op in cpu_ops(graph))),
        section=section,
        memories=npu.memories,
        platform_rows=rows,
        npu=npu,
        target_arch=board.cpu.core
        if board and board.cpu.core.startswith("cortex-m")
        else "<your core, e.g. cortex-m55>",
    )
    return files, placeholders


def _platform_rows(npu: NpuSpec, dcache: bool | None, fast: NpuMemory | None) -> list[tuple[str, str, str]]:
    """(macro, meaning, value) of each figure edgeq_npu_platform.c needs; "#error ..." where unknown."""
    missing = "#error until defined"
    base = missing if npu.base_address is None else f"`{npu.base_address:#010x}`"
    return [
        ("EDGEQ_NPU_BASE_ADDRESS", "the NPU's register base", base),
        ("EDGEQ_NPU_IRQ", "its interrupt number on the NVIC", missing if npu.irq is None else str(npu.irq)),
        ("EDGEQ_NPU_IRQ_VECTOR", "the startup code's handler name for it", npu.irq_vector or missing),
        ("EDGEQ_NPU_DCACHE", "1 when the core has a data cache", missing if dcache is None else str(int(dcache))),
        ("EDGEQ_NPU_SECURE / EDGEQ_NPU_PRIVILEGED", "the NPU's bus security and privilege", "1 / 1 (Secure firmware)"),
        (
            "EDGEQ_NPU_FAST_MEMORY",
            "fast memory (Dedicated_Sram)",
            f"`{fast.base:#010x}`, {fast.size:,} B" if fast else "none",
        ),
    ]
