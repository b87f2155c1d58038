"""Code generation for microcontrollers: C arrays, TFLM projects (and, later, the compiled engine).

``edgeq.generate(model, "tflm", "out/")`` mirrors ``edgeq generate``.
"""

from __future__ import annotations

from pathlib import Path

from edgeq.codegen.report import GenerationReport
from edgeq.errors import UsageError

FORMATS = ("carray", "tflm", "engine")
LANGS = ("c", "cpp")


def generate(
    model: str | Path,
    format: str,
    out_dir: str | Path,
    *,
    name: str | None = None,
    board: str | None = None,
    lang: str = "c",
    section: str | None = None,
    force: bool = False,
    optimize: str | None = None,
    ram_budget: int | None = None,
) -> GenerationReport:
    """Generate C for ``model`` (a .tflite) into ``out_dir``.

    Args:
        model: the .tflite file.
        format: "carray" (the model as an aligned C array), "tflm" (a TFLM project folder)
            or "engine" (the edgeq compiled engine: plain C, no interpreter).
        out_dir: the folder to write (created; files edgeq does not generate are left alone).
        name: C identifier for the symbols (default: the file stem, sanitized).
        board: a board id of ``edgeq boards``: the model array and the arena must fit it.
        lang: "c" or "cpp" for the array source (.c or .cc); TFLM projects are C++.
        section: linker section for the model array.
        force: write even when the model does not fit the board.
        optimize: engine only: "balanced" (default: the fastest kernels that keep the arena within
            1/128 of a small one and never above TFLM's), "ram" (the smallest arena) or "speed"
            (the fastest kernels, whatever their scratch costs).
        ram_budget: engine only: the most arena bytes the engine may need; below the smallest arena
            the model can run in, a UsageError names that arena.

    Raises:
        EdgeqError: bad model, unsupported op, model too big for the board, bad options.
    """
    if format not in FORMATS:
        raise UsageError(f"--format {format!r} is not one of: {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise UsageError(f"--lang {lang!r} is not one of: {', '.join(LANGS)}")
    if format != "engine" and (optimize is not None or ram_budget is not None):
        raise UsageError("--optimize and --ram-budget choose the engine's kernels; use them with --format engine")
    if ram_budget is not None and ram_budget < 1:
        raise UsageError(f"--ram-budget {ram_budget} is not a positive number of bytes")
    from edgeq.codegen.pipeline import run_generate

    engine = (optimize or "balanced", ram_budget)
    return run_generate(Path(model), format, Path(out_dir), name, board, lang, section, force, engine)


__all__ = ["FORMATS", "GenerationReport", "generate"]
