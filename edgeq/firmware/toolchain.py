"""arm-none-eabi-gcc: finding the tools and the flags for each Cortex-M core."""

from __future__ import annotations

import shutil

from edgeq.boards import Board
from edgeq.errors import DependencyError, UnsupportedError

INSTALL_HINT = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"
WARNINGS = ("-Wall", "-Wextra", "-Werror")
CFLAGS = ("-std=c99", *WARNINGS, "-ffunction-sections", "-fdata-sections", "-g")
# Own startup code, newlib-nano for memcpy/memset, unused sections dropped. No syscall stubs: malloc or
# printf creeping in fails to link instead of pulling in a heap.
LDFLAGS = ("-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections")
# core -> (-mcpu, FPU per board fpu "sp"/"dp": -mfpu, or None for the core's default)
_CORES: dict[str, tuple[str, dict[str, str | None]]] = {
    "cortex-m0": ("cortex-m0", {}),
    "cortex-m0plus": ("cortex-m0plus", {}),
    "cortex-m3": ("cortex-m3", {}),
    "cortex-m4": ("cortex-m4", {"sp": "fpv4-sp-d16"}),
    "cortex-m7": ("cortex-m7", {"sp": "fpv5-sp-d16", "dp": "fpv5-d16"}),
    "cortex-m33": ("cortex-m33", {"sp": "fpv5-sp-d16"}),
    "cortex-m55": ("cortex-m55", {"sp": None, "dp": None}),
}


def tool(name: str) -> str:
    """The path of ``arm-none-eabi-<name>``; DependencyError naming the packages when it is missing."""
    path = shutil.which(f"arm-none-eabi-{name}")
    if path is None:
        raise DependencyError(f"arm-none-eabi-{name} is not installed; install it with: {INSTALL_HINT}")
    return path


def cpu_flags(board: Board) -> list[str]:
    """-mcpu, -mthumb and the float ABI for the board's core (hard float when it has an FPU).

    QEMU's cortex-m7 (mps2-an500) has the double-precision FPv5 unit, like the board file says.
    """
    core = board.cpu.core.removesuffix("f") if board.cpu.core.endswith("m4f") else board.cpu.core
    if core not in _CORES:
        raise UnsupportedError(f"no arm-none-eabi-gcc flags for core {board.cpu.core!r}; known: {', '.join(_CORES)}")
    mcpu, fpus = _CORES[core]
    flags = [f"-mcpu={mcpu}", "-mthumb"]
    if board.cpu.fpu == "none" or board.cpu.fpu not in fpus:
        return [*flags, "-mfloat-abi=soft"]
    fpu = fpus[board.cpu.fpu]
    return [*flags, "-mfloat-abi=hard", *([f"-mfpu={fpu}"] if fpu else [])]
