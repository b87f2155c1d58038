"""``edgeq build``: a compiled-engine folder -> firmware for a board, with its flash and RAM use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from edgeq.cli.common import edgeq_errors, json_option, print_json

if TYPE_CHECKING:
    from edgeq.firmware.build import BuildResult


@click.command("build")
@click.argument("engine_dir", metavar="DIR", type=click.Path())
@click.option("--board", required=True, help="Board id (edgeq boards) or board .yaml file; QEMU boards for now.")
@click.option("-o", "--out", "out_dir", type=click.Path(), help="Project folder [default: DIR/firmware/BOARD].")
@json_option
@edgeq_errors
def command(engine_dir, board, out_dir, as_json):
    """Build the engine in DIR (edgeq generate --format engine) into a firmware image for BOARD.

    Writes a project folder with a Makefile, compiles it with arm-none-eabi-gcc and
    checks flash and RAM against the board; exits non-zero, naming the numbers, when
    the image does not fit (with --json the report is still printed, with an "error").
    """
    from edgeq.firmware.build import FirmwareFitError, build_firmware

    try:
        result = build_firmware(engine_dir, board, out_dir)
    except FirmwareFitError as exc:
        if as_json:
            print_json(dict(exc.result.to_dict(), elf=None, problems=list(exc.problems), error=str(exc)))
        raise
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(format_build(result))


def format_build(result: BuildResult) -> str:
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
