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
    help="carray: the model as a C array; tflm: a TFLM project folder.",
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
@json_option
@edgeq_errors
def command(model, fmt, out_dir, name, board, lang, section, force, as_json):
    """Generate C/C++ for MODEL (.tflite) into a folder."""
    from edgeq.codegen import generate

    report = generate(model, fmt, out_dir, name=name, board=board, lang=lang, section=section, force=force)
    if as_json:
        print_json(report.to_dict())
        return
    click.echo(f"{report.out_dir}: {report.format} for {report.model} (name {report.name})")
    if report.format == "engine":
        click.echo(f"  flash {report.flash_bytes:,} bytes ({report.flash_how})")
        click.echo(
            f"  tensor arena {report.arena_bytes:,} bytes (RAM, {report.arena_how}; "
            f"lower bound {report.arena_lower_bound_bytes:,})"
        )
    else:
        click.echo(f"  model array {report.flash_bytes:,} bytes (flash)")
    if report.format != "engine" and report.arena_bytes is not None:
        click.echo(
            f"  tensor arena {report.arena_bytes:,} bytes (RAM; {report.arena_measured_bytes:,} measured + margin)"
        )
    click.echo(f"  ops: {', '.join(report.ops)}")
    if report.board_check:
        click.echo(f"  {_board_check(report.board_check)}")
    for problem in report.fit_problems:
        click.echo(f"  does not fit {report.board}: {problem}")
    click.echo("  files: " + ", ".join(report.files))


def _board_check(check: dict) -> str:
    """One line: the totals checked against the board, its limits, and what they leave out."""
    use = []
    for what, key in (("flash", "flash"), ("RAM", "ram")):
        limit = check[f"{key}_limit"]
        use.append(f"{what} {check[f'{key}_bytes']:,} / {'?' if limit is None else f'{limit:,}'} B")
    missing = f"; not counted: {check['not_counted']}" if check["not_counted"] else ""
    return f"{check['board']} ({check['covers']}): {', '.join(use)}{missing}"
