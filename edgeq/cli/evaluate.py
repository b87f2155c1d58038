"""``edgeq evaluate``: accuracy and output error of a candidate .tflite against a reference."""

from __future__ import annotations

import click

from edgeq.cli.common import Number, edgeq_errors, image_norm_options, json_option, print_json


@click.command("evaluate")
@click.argument("reference", type=click.Path())
@click.argument("candidate", type=click.Path())
@click.option(
    "-d",
    "--data",
    required=True,
    help="Labelled .npz (x, y), folder of class folders, or unlabelled .npy.",
)
@click.option("--limit", type=Number(int, low=1), default=None, help="Evaluate on the first N samples only.")
@image_norm_options
@json_option
@edgeq_errors
def command(reference, candidate, data, limit, scale, offset, as_json):
    """Compare CANDIDATE (.tflite) with REFERENCE (.keras, .h5 or float .tflite) on DATA."""
    from edgeq.cli.views.evaluate import render_evaluation
    from edgeq.evaluation import evaluate

    result = evaluate(reference, candidate, data, limit=limit, scale=scale, offset=offset)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(render_evaluation(result))
