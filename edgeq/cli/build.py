"""``edgeq build``: a compiled-engine folder -> firmware for a board, with its flash and RAM use."""

from __future__ import annotations

import click

from edgeq.cli.common import edgeq_errors, json_option, print_json


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
    from edgeq.cli.views.firmware import render_build
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
    click.echo(render_build(result))
