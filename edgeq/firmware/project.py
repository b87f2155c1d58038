"""Write a firmware project folder: a compiled engine + the DUT protocol + a Cortex-M board layer.

The folder is self-contained and builds by hand with ``make`` (its Makefile
uses the same flags as :func:`edgeq.firmware.build.build_firmware`)::

    OUT/main.c               the entry point (rendered)
    OUT/edgeq_engine_glue.c  the engine glued to the MLPerf Tiny serial protocol (rendered; see .glue)
    OUT/linker.ld            from the board's memory map (rendered)
    OUT/edgeq_board.h        UART base and clocks from the board file (rendered)
    OUT/Makefile
    OUT/edgeq_*.c/.h         protocol (firmware/templates/common) and Cortex-M sources (firmware/templates/cortexm)
    OUT/engine/              the engine folder's sources, copied unchanged
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeq import __version__
from edgeq.boards import Board, MemoryRegion
from edgeq.errors import UnsupportedError
from edgeq.firmware.glue import GLUE_C, check_dtypes, engine_files, protocol_files
from edgeq.firmware.manifest import EngineManifest, read_manifest
from edgeq.firmware.toolchain import CFLAGS, LDFLAGS, cpu_flags
from edgeq.render import render, template_bytes, write_folder

CORTEXM = ("edgeq_startup.c", "edgeq_cmsdk_uart.c", "edgeq_cmsdk_uart.h", "edgeq_platform_cortexm.c")
DEFAULT_STACK_BYTES = 8192
ENGINE_SUBDIR = "engine"
# The Cortex-M code space ends here: regions below it can hold code and read-only data.
CODE_SPACE_END = 0x20000000
# Peripheral clock of the UART where it differs from the CPU clock (QEMU hw/arm/mps2-tz.c: APB at 25 MHz).
UART_CLOCK_HZ = {"mps3-an547": 25_000_000}


@dataclass(frozen=True)
class Project:
    """A written firmware folder: where, for which engine and board, and what it compiles."""

    folder: Path
    engine: EngineManifest
    board: Board
    sources: tuple[str, ...]  # .c files relative to folder
    cflags: tuple[str, ...]
    ldflags: tuple[str, ...]
    rodata_region: str | None  # the region read-only data was moved to, if not the code region
    mlperf: str | None = None  # the MLPerf Tiny model id the firmware reports (edgeq build --mlperf)

    @property
    def elf(self) -> Path:
        """The firmware image the build writes."""
        return self.folder / f"{self.engine.name}.elf"


def region(board: Board, role: str) -> MemoryRegion:
    """The board's one memory region of ``role`` (code or data)."""
    found = [r for r in board.memory_map if r.role == role]
    if len(found) != 1:
        raise UnsupportedError(
            f"board {board.id} has no {role} region in its memory_map; edgeq build needs one code and one data "
            "region (the QEMU boards: qemu-mps2-an386, qemu-mps2-an500, qemu-mps3-an547)"
        )
    return found[0]


def spill_region(board: Board) -> MemoryRegion | None:
    """Another region in the Cortex-M code space that can take read-only data the code region has no room for."""
    code = region(board, "code")
    spare = [r for r in board.memory_map if r.role == "other" and r != code and r.base + r.size <= CODE_SPACE_END]
    return max(spare, key=lambda r: r.size, default=None)


def check_board(board: Board) -> None:
    """UnsupportedError unless edgeq can build firmware for ``board`` (memory map, CMSDK UART, Cortex-M core)."""
    if board.serial is None or board.serial.uart_base is None or not board.memory_map:
        raise UnsupportedError(
            f"edgeq build makes firmware for boards with a memory map and a CMSDK UART (the QEMU boards); "
            f"{board.id} has none: generate a TFLM project (edgeq generate MODEL --format tflm) and build it "
            "with the board's SDK (see its README.md)"
        )
    region(board, "code")
    region(board, "data")
    cpu_flags(board)


def write_project(
    engine_dir: Path,
    board: Board,
    out_dir: Path,
    *,
    stack_bytes: int = DEFAULT_STACK_BYTES,
    rodata: MemoryRegion | None = None,
    mlperf: str | None = None,
) -> Project:
    """Write the firmware folder for the engine in ``engine_dir`` on ``board`` into ``out_dir``.

    Args:
        engine_dir: a folder written by ``edgeq generate MODEL --format engine``.
        board: the target board (see :func:`check_board`).
        out_dir: the project folder to write (created; other files in it are left alone).
        stack_bytes: the stack reserved at the bottom of the data region.
        rodata: put read-only data in this region instead of the code region.
        mlperf: an MLPerf Tiny model id (kws01, ic01, vww01, ad01, sww01) the firmware reports in
            `profile%` instead of the engine's name; ad01 also takes float32 input (see :mod:`.glue`).

    Raises:
        UsageError: ``engine_dir`` is no engine folder (a TFLM project gets its own message).
        UnsupportedError: edgeq cannot build for ``board``, or an output has a dtype main.c cannot read.
    """
    engine = read_manifest(engine_dir)
    check_board(board)
    check_dtypes(engine)
    sources = [*(f"{ENGINE_SUBDIR}/{s}" for s in engine.sources), "main.c", GLUE_C, "edgeq_dut.c"]
    sources += [name for name in CORTEXM if name.endswith(".c")]
    cflags = (*cpu_flags(board), "-O2", *CFLAGS, "-DEDGEQ_PLATFORM_TIMER_SYNC", f"-I{ENGINE_SUBDIR}", "-I.")
    if board.qemu is not None:  # the per-op hooks edgeq's QEMU plugin counts between (edgeq_platform_cortexm.c)
        cflags += ("-DEDGEQ_PROFILE_OPS",)
    ldflags = (*LDFLAGS, "-T", "linker.ld")
    project = Project(out_dir, engine, board, tuple(sources), cflags, ldflags, rodata.name if rodata else None, mlperf)
    files = {**_copied(engine_dir), **protocol_files(engine, mlperf), **_rendered(project, stack_bytes, rodata)}
    write_folder(out_dir, files)
    return project


def _copied(engine_dir: Path) -> dict[str, str | bytes]:
    """The files copied unchanged: the engine's (into engine/) and the Cortex-M layer's."""
    files: dict[str, str | bytes] = {f"{ENGINE_SUBDIR}/{name}": data for name, data in engine_files(engine_dir).items()}
    files.update({name: template_bytes(f"cortexm/{name}") for name in CORTEXM})
    return files


def _rendered(project: Project, stack_bytes: int, rodata: MemoryRegion | None) -> dict[str, str]:
    board, engine = project.board, project.engine
    assert board.serial is not None and board.serial.uart_base is not None
    machine = board.qemu.machine if board.qemu else None
    common = {"board": board, "edgeq_version": __version__}
    systick = board.qemu.systick_clock_hz if board.qemu else board.clock_hz
    return {
        "main.c": render("cortexm/main.c.j2", e=engine, **common),
        "edgeq_board.h": render(
            "cortexm/edgeq_board.h.j2",
            uart_base=board.serial.uart_base,
            uart_clock_hz=UART_CLOCK_HZ.get(machine or "", board.clock_hz),
            baud=board.serial.baud,
            systick_clock_hz=systick,
            **common,
        ),
        "linker.ld": render(
            "cortexm/linker.ld.j2",
            code=region(board, "code"),
            data=region(board, "data"),
            rodata=rodata,
            stack_bytes=stack_bytes,
            **common,
        ),
        "Makefile": render("cortexm/Makefile.j2", p=project, qemu=qemu_args(board, project.elf.name), **common),
    }


def qemu_args(board: Board, elf: str) -> list[str] | None:
    """``qemu-system-arm ...`` running ``elf`` with the UART on stdio (the Makefile's ``run``), or None."""
    if board.qemu is None:
        return None
    return [*qemu_base(board), "-nographic", "-kernel", elf]


def qemu_base(board: Board) -> list[str]:
    """``qemu-system-arm -M MACHINE -cpu CPU -icount shift=N,sleep=off`` for an emulated board.

    ``sleep=off``: while the CPU waits in WFI, virtual time jumps to the next timer event instead of
    following the host clock, so a wait for a SysTick tick ends at an exact instruction count.
    """
    assert board.qemu is not None
    q = board.qemu
    return [q.binary, "-M", q.machine, "-cpu", q.cpu, "-icount", f"shift={q.icount_shift},sleep=off"]
