"""``edgeq build``: a compiled-engine folder -> firmware for a board, with its flash and RAM use."""

from __future__ import annotations

from pathlib import Path

import click

from edgeq.cli.common import edgeq_errors, json_option, print_json
from edgeq.firmware.mlperf import MLPERF_MODELS


@click.command("build")
@click.argument("engine_dir", metavar="DIR", type=click.Path())
@click.option("--board", required=True, help="Board id (edgeq boards) or board .yaml file; QEMU boards for now.")
@click.option("-o", "--out", "out_dir", type=click.Path(), help="Project folder [default: DIR/firmware/BOARD].")
@click.option(
    "--mlperf",
    type=click.Choice(MLPERF_MODELS),
    help="Report this MLPerf Tiny model id (profile%: m-model-[ID]) and take the input the MLPerf Tiny "
    "runner sends (kws01: int8 features as they are; ic01, vww01: pixel bytes 0..255, given to the int8 model "
    "as pixel - 128; ad01: float32 values, quantized on the board) [default: the engine's name].",
)
@json_option
@edgeq_errors
def command(engine_dir, board, out_dir, mlperf, as_json):
    """Build the engine in DIR (edgeq generate --format engine) into a firmware image for BOARD.

    Writes a project folder with a Makefile, compiles it with arm-none-eabi-gcc and
    checks flash and RAM against the board; exits non-zero, naming the numbers, when
    the image does not fit (with --json the report is still printed, with an "error").
    The MLPerf Tiny runner runs only the model ids of its tests.yaml: without --mlperf,
    a built image gets a warning when the engine's name is not one of them.
    """
    from edgeq.cli.views.firmware import render_build
    from edgeq.firmware.build import FirmwareFitError, build_firmware

    try:
        result = build_firmware(engine_dir, board, out_dir, mlperf=mlperf)
    except FirmwareFitError as exc:
        if as_json:
            print_json(dict(exc.result.to_dict(), elf=None, problems=list(exc.problems), error=str(exc)))
        raise
    if mlperf is None:  # after the build: a failed one says only why it failed
        _warn_unknown_model_id(Path(engine_dir))
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(render_build(result))


def _warn_unknown_model_id(engine_dir: Path) -> None:
    """One line on stderr when the firmware will report a model id the MLPerf Tiny runner does not know."""
    from edgeq.firmware.manifest import read_manifest
    from edgeq.log import logger

    name = read_manifest(engine_dir).name
    if name not in MLPERF_MODELS:
        logger.warning(
            "warning: the firmware reports model id %r (profile%%), which the MLPerf Tiny runner does not know; "
            "build with --mlperf %s to run it there",
            name,
            "|".join(MLPERF_MODELS),
        )
