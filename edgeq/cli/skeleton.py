"""``edgeq skeleton``: a compiled engine as an Arduino sketch, an ESP-IDF project, a Zephyr application or a PX4 module."""

from __future__ import annotations

import click

from edgeq.cli.common import OutputPath, edgeq_errors, json_option, print_json
from edgeq.firmware.skeletons import ALL_KINDS


@click.command("skeleton")
@click.argument("engine_dir", metavar="ENGINE_DIR", type=click.Path())
@click.option("--kind", required=True, type=click.Choice(ALL_KINDS), help="The SDK or autopilot the project is for.")
@click.option(
    "-o", "--out", "out_dir", required=True, type=OutputPath("folder"), help="The project folder (Arduino: the sketch)."
)
@json_option
@edgeq_errors
def command(engine_dir, kind, out_dir, as_json):
    """Write a project for KIND's own toolchain around the engine in ENGINE_DIR.

    ENGINE_DIR comes from edgeq generate MODEL --format engine. For arduino, esp-idf and
    zephyr the project holds the engine, the MLPerf Tiny serial protocol and a board layer
    in the SDK's API, so the MLPerf Tiny runner or edgeq run --target serial can drive the
    board it is flashed to; build it with arduino-cli, idf.py or west. For px4 it is a PX4
    module (uORB topics in and out, an enable parameter) for a PX4 tree's make. See the
    README.md it contains.
    """
    from edgeq.cli.views.firmware import render_skeleton
    from edgeq.firmware.skeletons import write_skeleton

    skeleton = write_skeleton(engine_dir, kind, out_dir)
    if as_json:
        print_json(skeleton.to_dict())
        return
    click.echo(render_skeleton(skeleton))
