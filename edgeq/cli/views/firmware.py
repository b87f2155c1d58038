"""``edgeq build``, ``edgeq skeleton`` and ``edgeq flash``: firmware images, SDK projects and flashing as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeq.firmware.build import BuildResult
    from edgeq.firmware.skeletons import Skeleton

SDKS = {
    "arduino": "Arduino sketch",
    "esp-idf": "ESP-IDF project",
    "zephyr": "Zephyr application",
    "px4": "PX4 module",
}


def render_build(result: BuildResult) -> str:
    """The text report: the image, its sections and its use of the board's flash and RAM."""
    lines = [
        f"{result.elf}: firmware for {result.board}",
        f"  text {result.text:,} B, data {result.data:,} B, bss {result.bss:,} B (stack and tensor arena included)",
        f"  flash {_use(result.flash_bytes, result.flash_limit)}",
        f"  RAM   {_use(result.ram_bytes, result.ram_limit)}",
    ]
    if result.rodata_region:
        lines.append(f"  read-only data placed in {result.rodata_region} (the code region is too small)")
    return "\n".join(lines)


def _use(used: int, limit: int) -> str:
    return f"{used:,} / {limit:,} B ({100 * used / limit:.1f} %)"


def render_skeleton(skeleton: Skeleton) -> str:
    """The text summary: what was written and how to build it."""
    sdk = SDKS[skeleton.kind]
    if skeleton.kind == "px4":
        module = skeleton.src.rpartition("/")[2]
        layer = f"  PX4 layer:   {skeleton.platform}"
        then = f"  then on the flight controller: {module} start; publish edgeq_input, read edgeq_output"
    else:
        layer = f"  board layer: {skeleton.platform}"
        then = "  then drive it with: edgeq run MODEL --target serial --port PORT"
    return "\n".join(
        [
            f"{skeleton.folder}: {sdk} for the {skeleton.engine.name} engine ({len(skeleton.files)} files)",
            layer,
            f"  entry point: {skeleton.entry}",
            f"  build:       {skeleton.build_command}",
            f"{then} (see {skeleton.folder}/README.md)",
        ]
    )


def render_flashed(board_id: str, command: list[str]) -> str:
    """What ``edgeq flash`` ran to write a real board."""
    return f"flashed {board_id} with: {' '.join(command)}"


def render_emulated(board_id: str, image: str, port: str) -> str:
    """Where the UART of a firmware started in QEMU is."""
    return f"{board_id} running {image}: UART on {port} (115200 8N1); Ctrl-C stops it"
