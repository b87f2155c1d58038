"""``edgeq generate``: C for microcontrollers from a .tflite."""

from __future__ import annotations

import click

from edgeq.cli.common import OutputPath, edgeq_errors, json_option, print_json
from edgeq.codegen import FORMATS, LANGS


@click.command("generate")
@click.argument("model", type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    required=True,
    help="carray: the model as a C array; tflm: a TFLM project folder; engine: edgeq's compiled engine.",
)
@click.option("-o", "--out", "out_dir", required=True, type=OutputPath("folder"), help="Folder to write.")
@click.option("--name", help="C identifier for the symbols [default: the file name].")
@click.option("--board", help="Check the model array and arena against this board (edgeq boards).")
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default="c",
    show_default=True,
    help="Language of the array source (.c or .cc); tflm is always C++.",
)
@click.option("--section", help="Linker section for the model array, e.g. .rodata.model or .extflash.")
@click.option("--force", is_flag=True, help="Write even when the model does not fit the board.")
@click.option(
    "--optimize",
    type=click.Choice(("speed", "balanced", "ram")),
    help="engine: kernels for speed (fastest, any scratch), ram (smallest arena) or balanced "
    "(fast, arena never above TFLM's) [default: balanced].",
)
@click.option(
    "--ram-budget",
    type=click.IntRange(min=1),
    metavar="BYTES",
    help="engine: the most arena bytes; the fastest kernels that fit (too small: the error names the least).",
)
@click.option(
    "--npu",
    metavar="ACCELERATOR",
    help="tflm: MODEL is Vela's output for this Ethos-U (e.g. ethos-u55-128, as edgeq compile --npu wrote it); "
    "the project registers the ethos-u op and gets the NPU platform layer.",
)
@json_option
@edgeq_errors
def command(model, fmt, out_dir, name, board, lang, section, force, optimize, ram_budget, npu, as_json):
    """Generate C/C++ for MODEL (.tflite) into a folder."""
    if npu is not None:
        _npu_project(model, fmt, out_dir, name, board, section, force, (optimize, ram_budget), npu, as_json)
        return
    from edgeq.cli.views.generate import render_generation
    from edgeq.codegen import generate

    report = generate(
        model,
        fmt,
        out_dir,
        name=name,
        board=board,
        lang=lang,
        section=section,
        force=force,
        optimize=optimize,
        ram_budget=ram_budget,
    )
    if as_json:
        print_json(report.to_dict())
        return
    click.echo(render_generation(report))


def _npu_project(model, fmt, out_dir, name, board, section, force, engine_options, npu, as_json) -> None:
    """``--npu``: the TFLM project for a Vela-compiled model (edgeq.codegen.tflm.generate_npu_project)."""
    from edgeq.errors import UsageError

    if fmt != "tflm":
        raise UsageError(f"--npu makes a TFLM project for the NPU; use it with --format tflm, not --format {fmt}")
    if any(option is not None for option in engine_options):
        raise UsageError("--optimize and --ram-budget choose the engine's kernels; they do not apply to --npu")
    from edgeq.cli.views.generate import render_npu_project
    from edgeq.codegen.tflm import generate_npu_project

    report = generate_npu_project(model, out_dir, npu, name=name, board=board, section=section, force=force)
    if as_json:
        print_json(report.to_dict())
        return
    click.echo(render_npu_project(report))
