"""``edgeq edgetpu-check MODEL.tflite``: which operators the Coral Edge TPU would run, and why not the others."""

from __future__ import annotations

import click

from edgeq.cli.common import edgeq_errors, json_option, print_json


@click.command(name="edgetpu-check")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@json_option
@edgeq_errors
def command(model: str, as_json: bool) -> None:
    """Predict the Edge TPU compiler's placement of each operator of MODEL (a .tflite file).

    Prints the compiler's summary ("Number of operations that will run on Edge
    TPU: X" / "... on CPU: Y"), its per-operator table and the reason each CPU
    operator is not mapped. Needs no Coral software. Exits 0 for any readable
    model: the report is the result, not a pass/fail check.
    """
    from edgeq.cli.views.edgetpu import render_report
    from edgeq.edgetpu import check_model

    report = check_model(model)
    if as_json:
        print_json(report.to_dict())
    else:
        click.echo(render_report(report))
