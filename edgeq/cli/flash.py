"""``edgeq flash``: put firmware on a board; emulated boards start in QEMU and keep running until Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import click

from edgeq.cli.common import edgeq_errors
from edgeq.cli.views.firmware import render_emulated, render_flashed


@click.command("flash")
@click.argument("path", metavar="DIR", type=click.Path())
@click.option("--board", required=True, help="Board id (edgeq boards) or board .yaml file.")
@click.option(
    "--port",
    help="Real boards: the serial port for flashers that take one (esptool, bossac). "
    "QEMU boards: a path to symlink to the emulator's pty.",
)
@edgeq_errors
def command(path, board, port):
    """Flash DIR onto BOARD, or run it on an emulated board.

    QEMU boards: DIR is an engine folder (edgeq generate --format engine); it is built
    if needed (edgeq build), started in QEMU and the UART's pty is printed; Ctrl-C stops it.
    The firmware boots at once and QEMU drops what it prints while no host has the pty
    open, so a host that connects later starts with a command such as name%.
    Real boards: DIR is a firmware image or the folder holding one; the board's flasher
    (pyocd, openocd, st-flash, esptool, picotool, nrfjprog, commander, bossac) writes it.
    """
    from edgeq.boards import load_board

    info = load_board(board)
    target = Path(path).resolve()  # builds and flashers run in other folders than the caller's
    if info.flasher == "qemu":
        _run_emulated(target, info, port)
        return
    from edgeq.firmware.flash import flash

    cmd = flash(info, target, port)
    click.echo(render_flashed(info.id, cmd))


def _run_emulated(engine_dir: Path, board, link: str | None) -> None:
    from edgeq.firmware.build import build_firmware, current_image
    from edgeq.firmware.qemu import Emulator, port_link

    elf = current_image(engine_dir, board) or build_firmware(engine_dir, board).elf
    with Emulator(elf, board) as emu, port_link(emu.port, link):
        click.echo(render_emulated(board.id, elf.name, link or emu.pty))
        click.echo(" ".join(emu.command), err=True)
        try:
            emu.wait()
        except KeyboardInterrupt:
            click.echo("stopping the emulator", err=True)
