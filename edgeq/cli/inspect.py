"""``edgeq inspect MODEL.tflite``: ops, shapes, dtypes, quantization, MACs and sizes."""

from __future__ import annotations

import click

from edgeq.cli.common import edgeq_errors, json_option, print_json


@click.command(name="inspect")
@click.argument("model", type=click.Path(dir_okay=True, path_type=str))
@json_option
@edgeq_errors
def command(model: str, as_json: bool) -> None:
    """Show what is in MODEL (a .tflite file): per-op shapes, dtypes, quantization, MACs.

    MACs count only CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV and
    BATCH_MATMUL (the MLPerf Tiny convention). Needs no TensorFlow.
    """
    from edgeq.cli.views.inspect import render_model
    from edgeq.model.analysis import inspect_model

    info = inspect_model(model)
    if as_json:
        print_json(info.to_dict())
    else:
        click.echo(render_model(info))
