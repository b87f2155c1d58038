"""read -> check ops -> measure -> check the board -> render -> write."""

from __future__ import annotations

from pathlib import Path

from edgeq.codegen.arena import ArenaMeasurement, measure_arena
from edgeq.codegen.carray import carray_files, check_section
from edgeq.codegen.context import model_context
from edgeq.codegen.render import write_folder
from edgeq.codegen.report import GenerationReport
from edgeq.errors import UsageError
from edgeq.log import logger
from edgeq.model import read_model


def run_generate(
    model: Path,
    fmt: str,
    out_dir: Path,
    name: str | None,
    board: str | None,
    lang: str,
    section: str | None,
    force: bool,
) -> GenerationReport:
    data = _read(model)
    graph = read_model(data, name=str(model))
    ctx = model_context(graph, model, name)
    check_section(section)
    if fmt == "engine":
        return _engine(graph, ctx, model, out_dir, board, force)
    methods: list[str] = []
    if fmt == "tflm":
        from edgeq.codegen.tflm import tflm_methods

        methods = tflm_methods(graph)
        lang = "cpp"
    arena = _measure(data) if fmt == "tflm" or board else None
    problems = _fit(board, len(data), arena, force)
    files: dict[str, str | bytes] = dict(carray_files(ctx, data, lang, section))
    if fmt == "tflm":
        from edgeq.codegen.tflm import tflm_files

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
    )


def _read(model: Path) -> bytes:
    if model.suffix.lower() != ".tflite" and model.is_file():
        logger.warning("warning: %s does not end in .tflite; reading it as a TFLite flatbuffer", model)
    from edgeq.model.reader import read_bytes

    return read_bytes(model)


def _measure(data: bytes) -> ArenaMeasurement:
    logger.info("measuring the tensor arena with the tflite-micro interpreter ...")
    arena = measure_arena(data)
    logger.info("arena: %d bytes measured, %d with margin", arena.measured_bytes, arena.arena_bytes)
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


def _engine(graph, ctx, model: Path, out_dir: Path, board: str | None, force: bool) -> GenerationReport:
    from edgeq.codegen.engine.build import build_engine

    engine = build_engine(graph, ctx)
    flash, how = _engine_flash(engine, board)
    problems = _fit_numbers(board, flash, engine.plan.arena_bytes, force)
    files = _with_manifest(graph, ctx, engine)
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
        fit_problems=tuple(problems),
        arena_lower_bound_bytes=engine.plan.lower_bound_bytes,
        flash_how=how,
    )


def _with_manifest(graph, ctx, engine) -> dict[str, str | bytes]:
    """The engine's files plus edgeq-engine.json, which edgeq build reads (see edgeq.firmware.manifest)."""
    from edgeq.firmware.manifest import MANIFEST, engine_manifest

    text = engine_manifest(graph, ctx, list(engine.files), engine.plan.arena_bytes, engine.ops)
    return {**engine.files, MANIFEST: text}


def _engine_flash(engine, board: str | None) -> tuple[int, str]:
    """Flash of weights, parameters and kernel code for the board's core (Cortex-M4 by default)."""
    import tempfile

    from edgeq.codegen.engine.size import cortex_cpu, engine_flash

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
