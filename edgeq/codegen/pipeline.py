"""read -> check ops -> measure -> check the board -> render -> write."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeq.codegen.arena import ArenaMeasurement, measure_arena
from edgeq.codegen.carray import carray_files, check_section
from edgeq.codegen.context import model_context
from edgeq.codegen.engine.build import build_engine
from edgeq.codegen.engine.manifest import MANIFEST, engine_manifest
from edgeq.codegen.engine.size import cortex_cpu, engine_flash
from edgeq.codegen.report import GenerationReport
from edgeq.codegen.tflm import tflm_files, tflm_methods
from edgeq.errors import UnsupportedError, UsageError
from edgeq.firmware.build import measure_firmware
from edgeq.firmware.project import DEFAULT_STACK_BYTES, check_board, region, spill_region
from edgeq.log import logger
from edgeq.model import read_model
from edgeq.model.reader import read_bytes
from edgeq.render import write_folder


@dataclass(frozen=True)
class EngineFit:
    """The --board check of an engine: what it needs of the board, what the totals count, what does not fit.

    ``covers``: "firmware" (the image edgeq build links for the board, measured by linking it), "firmware
    estimate" (that image estimated: arm-none-eabi-gcc not found) or "engine" (the engine alone: edgeq build
    does not make firmware for the board, so the firmware around the engine is unknown).
    """

    board: str
    covers: str
    flash_bytes: int
    ram_bytes: int
    flash_limit: int | None
    ram_limit: int | None
    flash_how: str
    ram_how: str
    not_counted: str | None = None
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run_generate(
    model: Path,
    fmt: str,
    out_dir: Path,
    name: str | None,
    board: str | None,
    lang: str,
    section: str | None,
    force: bool,
    engine: tuple[str, int | None] = ("balanced", None),
) -> GenerationReport:
    """``engine``: the engine's --optimize mode and --ram-budget (engine.schedule)."""
    data = _read(model)
    graph = read_model(data, name=str(model))
    ctx = model_context(graph, model, name)
    check_section(section)
    if fmt == "engine":
        return _engine(graph, ctx, model, out_dir, board, force, engine)
    methods: list[str] = []
    if fmt == "tflm":
        methods = tflm_methods(graph)
        lang = "cpp"
    arena = _measure(data) if fmt == "tflm" or board else None
    problems = _fit(board, len(data), arena, force)
    files: dict[str, str | bytes] = dict(carray_files(ctx, data, lang, section))
    if fmt == "tflm":
        files = tflm_files(ctx, methods, arena, files)  # type: ignore[arg-type]
    write_folder(out_dir, files)
    return GenerationReport(
        format=fmt,
        name=ctx.ident,
        model=str(model),
        out_dir=str(out_dir),
        files=tuple(sorted(files)),
        flash_bytes=len(data),
        arena_bytes=arena.arena_bytes if arena else None,
        arena_measured_bytes=arena.measured_bytes if arena else None,
        arena_how=arena.how if arena else None,
        ops=ctx.ops,
        resolver_methods=tuple(methods),
        board=board,
        fit_problems=tuple(problems),
        arena_figures=arena.to_dict() if arena else None,
    )


def _read(model: Path) -> bytes:
    if model.suffix.lower() != ".tflite" and model.is_file():
        logger.warning("warning: %s does not end in .tflite; reading it as a TFLite flatbuffer", model)
    return read_bytes(model)


def _measure(data: bytes) -> ArenaMeasurement:
    logger.info("measuring the tensor arena with the tflite-micro interpreter ...")
    arena = measure_arena(data)
    logger.info(
        "arena: %d bytes on the host, %d modeled for a 32-bit target, %d with margin",
        arena.host_bytes,
        arena.measured_bytes,
        arena.arena_bytes,
    )
    return arena


def _fit(board_id: str | None, flash: int, arena: ArenaMeasurement | None, force: bool) -> list[str]:
    return _fit_numbers(board_id, flash, arena.arena_bytes if arena else 0, force)


def _fit_numbers(board_id: str | None, flash: int, ram: int, force: bool) -> list[str]:
    if board_id is None:
        return []
    from edgeq.boards import load_board

    board = load_board(board_id)
    problems = board.fits(flash, ram)
    if problems and not force:
        raise UsageError(f"the model does not fit {board.id}: {'; '.join(problems)} (--force writes it anyway)")
    for problem in problems:
        logger.warning("warning: %s", problem)
    return problems


def _engine(graph, ctx, model: Path, out_dir: Path, board: str | None, force: bool, kernels) -> GenerationReport:
    engine = build_engine(graph, ctx, *kernels)  # kernels: (--optimize, --ram-budget)
    flash, how = _engine_flash(engine, board)
    files = _with_manifest(graph, ctx, engine)
    ram = (engine.plan.arena_bytes, engine.static_ram_bytes)
    fit = _engine_fit(files, graph, board, (flash, how), ram, force) if board else None
    write_folder(out_dir, files)
    return GenerationReport(
        format="engine",
        name=ctx.ident,
        model=str(model),
        out_dir=str(out_dir),
        files=tuple(sorted(files)),
        flash_bytes=flash,
        arena_bytes=engine.plan.arena_bytes,
        arena_measured_bytes=None,
        arena_how="planned offline over tensor lifetimes",
        ops=engine.ops,
        board=board,
        fit_problems=fit.problems if fit else (),
        arena_lower_bound_bytes=engine.plan.lower_bound_bytes,
        flash_how=how,
        board_check=fit.to_dict() if fit else None,
        scratch_bytes=engine.schedule.scratch_bytes,
        schedule=engine.schedule.to_dict(),
        static_ram_bytes=engine.static_ram_bytes,
        constants=engine.constants.to_dict(),
    )


def _engine_fit(files, graph, board_id: str, flash: tuple[int, str], ram: tuple[int, int], force: bool) -> EngineFit:
    """The engine against ``board_id``, as edgeq build would link it where it can; UsageError unless it fits or --force.

    ``ram``: the engine's arena and its writable statics outside it (an LSTM's state).
    """
    from edgeq.boards import load_board

    board = load_board(board_id)
    io = sum(t.nbytes for t in graph.input_tensors), sum(t.nbytes for t in graph.output_tensors)
    fit = _firmware_fit(files, board, flash, ram, io) or _engine_alone_fit(board, flash, ram, io)
    if fit.problems and not force:
        short = " and ".join(w for w in ("flash", "RAM") if any(p.startswith(w) for p in fit.problems))
        missing = f"; not counted: {fit.not_counted}" if fit.not_counted else ""
        raise UsageError(
            f"the engine does not fit {board.id} {_COVERS[fit.covers]}: {'; '.join(fit.problems)}{missing}; "
            f"use a board with more {short} or a smaller model, or --force to write it anyway"
        )
    for problem in fit.problems:
        logger.warning("warning: the engine does not fit %s %s: %s", board.id, _COVERS[fit.covers], problem)
    return fit


_COVERS = {
    "firmware": "as firmware (the image edgeq build links)",
    "firmware estimate": "as firmware (estimated: arm-none-eabi-gcc not found)",
    "engine": "(the engine alone: edgeq build makes no firmware for it)",
}


def _firmware_fit(files, board, flash: tuple[int, str], ram: tuple[int, int], io: tuple[int, int]) -> EngineFit | None:
    """What edgeq build links for ``board`` (estimated without arm-none-eabi-gcc); None when it cannot build for it."""
    import shutil

    try:
        check_board(board)
    except UnsupportedError:
        return None
    arena = sum(ram)
    parts = f"{_engine_ram(ram)} + stack {DEFAULT_STACK_BYTES:,} + input buffer {io[0]:,}"
    if shutil.which("arm-none-eabi-gcc") is None:
        spare = spill_region(board)
        code, data = region(board, "code").size + (spare.size if spare else 0), region(board, "data").size
        need, ram_how = arena + DEFAULT_STACK_BYTES + sum(io), f"{parts} + outputs {io[1]:,}"
        missing = "kernel, startup and protocol code and variables"
        return _checked(
            EngineFit(board.id, "firmware estimate", flash[0], need, code, data, flash[1], ram_how, missing)
        )
    with tempfile.TemporaryDirectory(prefix="edgeq-engine-") as tmp:
        write_folder(Path(tmp), files)
        try:
            built = measure_firmware(tmp, board)
        except UnsupportedError:
            return None
    rest = built.ram_bytes - arena - DEFAULT_STACK_BYTES - io[0]
    return _checked(
        EngineFit(
            board.id,
            "firmware",
            built.flash_bytes,
            built.ram_bytes,
            built.flash_limit,
            built.ram_limit,
            f"text {built.text:,} + data {built.data:,}: weights, kernels, startup and protocol code",
            f"{parts} + protocol and driver {rest:,}",
        )
    )


def _engine_alone_fit(board, flash: tuple[int, str], ram: tuple[int, int], io: tuple[int, int]) -> EngineFit:
    """The engine's flash and arena against the board's: its firmware comes from its SDK, not from edgeq build."""
    missing = f"the firmware's stack, the protocol's input and output buffers ({sum(io):,} B) and the SDK's code"
    limits = board.flash_bytes, board.ram_bytes
    how = "the arena" if not ram[1] else _engine_ram(ram)
    return _checked(EngineFit(board.id, "engine", flash[0], sum(ram), *limits, flash[1], how, missing))


def _engine_ram(ram: tuple[int, int]) -> str:
    """The engine's RAM as the fit messages name it: its arena, and an LSTM's state where there is one."""
    return f"arena {ram[0]:,}" + (f" + LSTM state {ram[1]:,}" if ram[1] else "")


def _checked(fit: EngineFit) -> EngineFit:
    """``fit`` with its problems: each total above its limit, with the numbers."""
    problems = [
        f"{what} {need:,} B needed ({how}) exceeds the {have:,} B of {fit.board} by {need - have:,} B"
        for what, need, have, how in (
            ("flash", fit.flash_bytes, fit.flash_limit, fit.flash_how),
            ("RAM", fit.ram_bytes, fit.ram_limit, fit.ram_how),
        )
        if have is not None and need > have
    ]
    return dataclasses.replace(fit, problems=tuple(problems))


def _with_manifest(graph, ctx, engine) -> dict[str, str | bytes]:
    """The engine's files plus edgeq-engine.json, which edgeq build reads (see edgeq.codegen.engine.manifest)."""
    text = engine_manifest(graph, ctx, list(engine.files), engine.plan.arena_bytes, engine.ops)
    return {**engine.files, MANIFEST: text}


def _engine_flash(engine, board: str | None) -> tuple[int, str]:
    """Flash of weights, parameters and kernel code for the board's core (Cortex-M4 by default)."""
    import tempfile

    core = None
    if board is not None:
        from edgeq.boards import load_board

        core = load_board(board).cpu.core
    cpu = cortex_cpu(core)
    with tempfile.TemporaryDirectory() as tmp:
        write_folder(Path(tmp), engine.files)
        measured = engine_flash(Path(tmp), cpu)
    if measured is None:
        return (
            engine.weights_bytes,
            "weights and parameters only (arm-none-eabi-gcc not found: kernel code not counted)",
        )
    return measured, f"arm-none-eabi-size text + data of the engine built for {cpu} (-O2)"
