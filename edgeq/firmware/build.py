"""Compile a firmware project with arm-none-eabi-gcc and check that it fits the board.

``build_firmware(engine_dir, board)`` writes the project (:mod:`.project`),
compiles every source in parallel, links the ELF atomically and measures it
with arm-none-eabi-size. A failed or interrupted build never leaves a
half-written image: the previous image stays, and folders the build created
are removed again. Read-only data that overflows the code region moves to a
spare region in the code space when the board has one (an547: the 2 MB SRAM
beside the 512 KB ITCM). ``measure_firmware`` reports the same sizes without
keeping anything, fitting or not.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from edgeq import procs
from edgeq.boards import Board, load_board
from edgeq.cache import folder_fingerprint
from edgeq.errors import EdgeqError, UsageError
from edgeq.firmware.manifest import read_manifest
from edgeq.firmware.project import Project, region, spill_region, write_project
from edgeq.firmware.toolchain import tool
from edgeq.log import logger
from edgeq.render import template_dir

TIMEOUT = 600.0
_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")


@dataclass(frozen=True)
class BuildResult:
    """A built firmware image and what it needs of the board.

    Attributes:
        elf: the image.
        board: the board id.
        text: code and read-only data (arm-none-eabi-size).
        data: initialised data (stored in flash, copied to RAM at boot).
        bss: zeroed data, stack and the engine's tensor arena.
        flash_limit: bytes for text + data (the code region, plus the spare region read-only data moved to).
        ram_limit: bytes for data + bss (the data region).
        rodata_region: the region read-only data was moved to, or None.
    """

    elf: Path
    board: str
    text: int
    data: int
    bss: int
    flash_limit: int
    ram_limit: int
    rodata_region: str | None = None

    @property
    def flash_bytes(self) -> int:
        """text + data."""
        return self.text + self.data

    @property
    def ram_bytes(self) -> int:
        """data + bss."""
        return self.data + self.bss

    @property
    def fits(self) -> bool:
        """Both flash and RAM use are within the board's limits."""
        return self.flash_bytes <= self.flash_limit and self.ram_bytes <= self.ram_limit

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with flash_bytes, ram_bytes and fits."""
        out = asdict(self)
        out.update(elf=str(self.elf), flash_bytes=self.flash_bytes, ram_bytes=self.ram_bytes, fits=self.fits)
        return out


class FirmwareFitError(UsageError):
    """The image does not fit the board; ``result`` holds its sizes and limits, ``problems`` what does not fit."""

    def __init__(self, message: str, *, result: BuildResult, problems: list[str]) -> None:
        super().__init__(message)
        self.result = result
        self.problems = tuple(problems)


def default_out_dir(engine_dir: Path, board: Board) -> Path:
    """Where the firmware project goes unless told: ``engine_dir/firmware/<board id>``."""
    return engine_dir / "firmware" / board.id


def current_image(engine_dir: str | Path, board: Board, out_dir: str | Path | None = None) -> Path | None:
    """The built ELF of the engine for ``board`` if it is newer than every file of the engine folder, else None."""
    engine_dir = Path(engine_dir).resolve()
    out = Path(out_dir).resolve() if out_dir is not None else default_out_dir(engine_dir, board)
    elf = out / f"{read_manifest(engine_dir).name}.elf"
    if not elf.is_file():
        return None
    newest = max((p.stat().st_mtime for p in engine_dir.iterdir() if p.is_file()), default=0.0)
    return elf if elf.stat().st_mtime >= newest else None


def build_firmware(
    engine_dir: str | Path,
    board: str | Path | Board,
    out_dir: str | Path | None = None,
    *,
    mlperf: str | None = None,
) -> BuildResult:
    """Build the engine in ``engine_dir`` into firmware for ``board``.

    Args:
        engine_dir: a folder written by ``edgeq generate MODEL --format engine``.
        board: a board id, board file or :class:`~edgeq.boards.Board`.
        out_dir: the project folder [default: ``engine_dir/firmware/<board id>``].
        mlperf: an MLPerf Tiny model id (kws01, ic01, vww01, ad01, sww01): the firmware reports it in
            `profile%` (m-model-[ID]) and takes the input in the form the MLPerf Tiny runner sends
            (ad01: float32 values, quantized on the board); None reports the engine's name.

    Returns:
        The image and its sizes; it fits the board.

    Raises:
        DependencyError: arm-none-eabi-gcc is not installed.
        UsageError: not an engine folder, or ``mlperf`` is no MLPerf Tiny model id.
        FirmwareFitError: the image does not fit the board (the message names the numbers).
        EdgeqError: a source does not compile (the message holds the compiler's first error).
    """
    # Absolute from here on: the compiler runs in the project folder, wherever the caller is.
    engine_dir = Path(engine_dir).resolve()
    board = board if isinstance(board, Board) else load_board(board)
    out = Path(out_dir).resolve() if out_dir is not None else default_out_dir(engine_dir, board)
    gcc, size = tool("gcc"), tool("size")
    with _removed_on_failure(out):
        project = write_project(engine_dir, board, out, mlperf=mlperf)
        objects = _compile_all(project, gcc)
        with tempfile.TemporaryDirectory(prefix=".link-", dir=out) as tmp:
            staged = Path(tmp) / project.elf.name
            project, overflow = _link_with_spill(project, engine_dir, gcc, objects, staged)
            result = _measure(project, size, staged)
            problems = _problems(result, project.board, overflow)
            if problems:
                message = (
                    f"firmware {project.engine.name} does not fit {board.id}: {'; '.join(problems)}; {_fix(result)}"
                )
                raise FirmwareFitError(message, result=result, problems=problems)
            os.replace(staged, project.elf)  # only an image that fits replaces the previous one
    return replace(result, elf=project.elf)


def measure_firmware(engine_dir: str | Path, board: str | Path | Board) -> BuildResult:
    """The sizes and limits ``edgeq build`` reports for the engine on ``board``, whether it fits or not.

    The firmware is built in a temporary folder and nothing is kept (the result's ``elf`` no longer exists).
    """
    with tempfile.TemporaryDirectory(prefix="edgeq-firmware-") as tmp:
        try:
            return build_firmware(engine_dir, board, Path(tmp) / "firmware")
        except FirmwareFitError as exc:
            return exc.result


@contextlib.contextmanager
def _removed_on_failure(out: Path) -> Iterator[None]:
    """Remove the folders this build creates on the way to ``out`` again when the build fails."""
    created = next((p for p in (*reversed(out.parents), out) if not p.exists()), None)
    try:
        yield
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise


def _link_with_spill(
    project: Project, engine_dir: Path, gcc: str, objects: list[Path], elf: Path
) -> tuple[Project, dict[str, int]]:
    """Link; when the code region overflows and the board has a spare region, relink with read-only data there."""
    overflow = _link(project, gcc, objects, elf)
    board = project.board
    spare = spill_region(board)
    if "CODE" in overflow and spare is not None:
        logger.info("read-only data does not fit %s: moving it to %s", region(board, "code").name, spare.name)
        project = write_project(engine_dir, board, project.folder, rodata=spare, mlperf=project.mlperf)
        overflow = _link(project, gcc, objects, elf)
    return project, overflow


def _compile_all(project: Project, gcc: str) -> list[Path]:
    """Compile every source of ``project`` into build/, in parallel; EdgeqError with the first compiler error."""
    jobs = [(src, project.folder / "build" / Path(src).with_suffix(".o")) for src in project.sources]
    for _, obj in jobs:
        obj.parent.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = list(pool.map(lambda job: _compile(project, gcc, *job), jobs))
    failed = [(src, err) for (src, _), err in zip(jobs, done) if err is not None]
    if failed:
        src, err = failed[0]
        raise EdgeqError(f"compiling {src} for {project.board.id} failed: {_first_error(err)}")
    return [obj for _, obj in jobs]


def _compile(project: Project, gcc: str, src: str, obj: Path) -> str | None:
    done = _run([gcc, *project.cflags, "-c", "-o", str(obj), src], project.folder)
    return None if done.returncode == 0 else done.stderr or done.stdout or f"exit {done.returncode}"


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return procs.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise EdgeqError(f"{Path(cmd[0]).name} did not finish within {TIMEOUT:g} s in {cwd}") from exc


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no compiler output"])[0]


def _link(project: Project, gcc: str, objects: list[Path], elf: Path) -> dict[str, int]:
    """Link ``objects`` into ``elf``; returns {region: bytes over} when the image overflows a region.

    An overflowing image is still written (ld --noinhibit-exec) so that it can be measured.
    """
    cmd = [gcc, *project.cflags, *project.ldflags, "-Wl,--noinhibit-exec", "-o", str(elf), *map(str, objects)]
    done = _run(cmd, project.folder)
    overflow = {m[1]: int(m[2]) for m in _OVERFLOW.finditer(done.stderr)}
    if (done.returncode != 0 and not overflow) or not elf.is_file():
        raise EdgeqError(f"linking {project.elf.name} for {project.board.id} failed: {_first_error(done.stderr)}")
    return overflow


def _measure(project: Project, size: str, elf: Path) -> BuildResult:
    out = procs.run([size, str(elf)], capture_output=True, text=True, timeout=TIMEOUT, check=True).stdout
    text, data, bss = (int(v) for v in out.strip().splitlines()[-1].split()[:3])
    spare = spill_region(project.board) if project.rodata_region else None
    flash_limit = region(project.board, "code").size + (spare.size if spare else 0)
    ram_limit = region(project.board, "data").size
    return BuildResult(elf, project.board.id, text, data, bss, flash_limit, ram_limit, project.rodata_region)


def _problems(result: BuildResult, board: Board, overflow: dict[str, int]) -> list[str]:
    """What does not fit, with the numbers; [] when the image fits."""
    code, data = region(board, "code").name, region(board, "data").name
    flash_where = f"code region {code}" + (f" + {result.rodata_region}" if result.rodata_region else "")
    problems = []
    if result.flash_bytes > result.flash_limit:
        parts = f"text {result.text:,} + data {result.data:,}"
        problems.append(_over("flash", result.flash_bytes, parts, result.flash_limit, flash_where))
    if result.ram_bytes > result.ram_limit:
        parts = f"data {result.data:,} + bss {result.bss:,}, stack and arena included"
        problems.append(_over("RAM", result.ram_bytes, parts, result.ram_limit, f"data region {data}"))
    names = {"CODE": code, "DATA": data, "RODATA": result.rodata_region}
    return problems or [f"region {names.get(r) or r} overflowed by {n:,} B" for r, n in overflow.items()]


def _fix(result: BuildResult) -> str:
    """What to do about an image that does not fit."""
    short = [what for what, need, have in _totals(result) if need > have]
    return f"use a board with more {' and '.join(short) or 'memory'} or a smaller model"


def _totals(result: BuildResult) -> tuple[tuple[str, int, int], ...]:
    return ("flash", result.flash_bytes, result.flash_limit), ("RAM", result.ram_bytes, result.ram_limit)


def _over(what: str, need: int, parts: str, have: int, where: str) -> str:
    return f"{what} {need:,} B needed ({parts}) exceeds the {have:,} B of the {where} by {need - have:,} B"


def firmware_fingerprint() -> bytes:
    """The firmware templates and this package's sources: a change rebuilds every cached firmware image."""
    return folder_fingerprint(template_dir("cortexm"), template_dir("common"), Path(__file__).resolve().parent)
