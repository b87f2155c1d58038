"""``edgeq skeleton``: a compiled engine as an Arduino sketch, an ESP-IDF project or a Zephyr application."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from edgeq.cli.common import OutputPath, edgeq_errors, json_option, print_json
from edgeq.firmware.skeletons import KINDS

if TYPE_CHECKING:
    from edgeq.firmware.skeletons import Skeleton


@click.command("skeleton")
@click.argument("engine_dir", metavar="ENGINE_DIR", type=click.Path())
@click.option("--kind", required=True, type=click.Choice(KINDS), help="The SDK the project is for.")
@click.option(
    "-o", "--out", "out_dir", required=True, type=OutputPath("folder"), help="The project folder (Arduino: the sketch)."
)
@json_option
@edgeq_errors
def command(engine_dir, kind, out_dir, as_json):
    """Write a project for KIND's own toolchain around the engine in ENGINE_DIR.

    ENGINE_DIR comes from edgeq generate MODEL --format engine. The project holds the
    engine, the MLPerf Tiny serial protocol and a board layer in the SDK's API, so the
    MLPerf Tiny runner or edgeq run --target serial can drive the board it is flashed
    to. Build it with arduino-cli, idf.py or west: see the README.md it contains.
    """
    from edgeq.firmware.skeletons import write_skeleton

    skeleton = write_skeleton(engine_dir, kind, out_dir)
    if as_json:
        print_json(skeleton.to_dict())
        return
    click.echo(format_skeleton(skeleton))


def format_skeleton(skeleton: Skeleton) -> str:
    """The text summary: what was written and how to build it."""
    sdk = {"arduino": "Arduino sketch", "esp-idf": "ESP-IDF project", "zephyr": "Zephyr application"}[skeleton.kind]
    return "\n".join(
        [
            f"{skeleton.folder}: {sdk} for the {skeleton.engine.name} engine ({len(skeleton.files)} files)",
            f"  board layer: {skeleton.platform}",
            f"  entry point: {skeleton.entry}",
            f"  build:       {skeleton.build_command}",
            f"  then drive it with: edgeq run MODEL --target serial --port PORT (see {skeleton.folder}/README.md)",
        ]
    )
