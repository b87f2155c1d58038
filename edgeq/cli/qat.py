"""``edgeq qat``: quantization-aware fine-tuning -> fully-integer int8 .tflite + report."""

from __future__ import annotations

import click

from edgeq.cli.common import Number, OutputPath, edgeq_errors, image_norm_options, json_option, print_json
from edgeq.data import DEFAULT_SAMPLES


@click.command("qat")
@click.argument("model", type=click.Path())
@click.option("-d", "--data", required=True, help="Labelled training data: .npz with x and y, or class folders.")
@click.option(
    "-o", "--output", required=True, type=OutputPath("file"), help="The .tflite to write (report: same name, .json)."
)
@click.option("--epochs", type=Number(int, low=1), default=3, show_default=True, help="Fine-tuning epochs.")
@click.option("--eval-data", help="Labelled data to report float, PTQ int8 and QAT int8 accuracy on.")
@click.option(
    "--lr", type=Number(float, low=0, low_open=True), default=1e-4, show_default=True, help="Adam learning rate."
)
@click.option("--batch-size", type=Number(int, low=1), default=32, show_default=True, help="Training batch size.")
@click.option(
    "--loss", default="auto", show_default=True, help="Keras loss name; auto: sparse categorical crossentropy."
)
@click.option(
    "--samples", type=Number(int, low=1), default=DEFAULT_SAMPLES, show_default=True, help="Representative samples."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of training and the sample draw.")
@image_norm_options
@json_option
@edgeq_errors
def command(model, data, output, epochs, eval_data, lr, batch_size, loss, samples, seed, scale, offset, as_json):  # noqa: PLR0913
    """Fine-tune MODEL (.keras or .h5) with fake quantization on DATA, then convert it to int8.

    Needs tensorflow-model-optimization. Per-epoch progress goes to stderr.
    """
    from edgeq.cli.views.qat import render_qat
    from edgeq.quant.qat import qat
    from edgeq.quant.training import TrainOptions

    opts = TrainOptions(epochs=epochs, lr=lr, batch_size=batch_size, loss=loss, seed=seed, scale=scale, offset=offset)
    report = qat(model, data, output, eval_data=eval_data, options=opts, samples=samples)
    if as_json:
        print_json(report.to_dict())
    else:
        click.echo(render_qat(report))
