"""``edgeq analyze``: per-layer int8 quantization error, mapped back to Keras layer names."""

from __future__ import annotations

import click

from edgeq.cli.common import Number, OutputPath, edgeq_errors, image_norm_options, json_option, print_json
from edgeq.data import DEFAULT_SAMPLES


@click.command("analyze")
@click.argument("model", type=click.Path())
@click.option(
    "-d",
    "--data",
    required=True,
    help="Representative data: .npy, .npz, image or .bin folder, or module:function.",
)
@click.option(
    "--quantized",
    type=click.Path(exists=True, dir_okay=False),
    help="Analyse this int8 .tflite of MODEL instead of converting MODEL (no local errors then).",
)
@click.option(
    "--samples",
    type=Number(int, low=1),
    default=DEFAULT_SAMPLES,
    show_default=True,
    help="Samples drawn from the data.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample draw.")
@click.option(
    "--top", type=Number(int, low=0), default=20, show_default=True, help="Rows shown on the terminal (0: all)."
)
@click.option("--plot", "plot_path", type=OutputPath("file"), help="Write a bar chart PNG (needs matplotlib).")
@image_norm_options
@json_option
@edgeq_errors
def command(model, data, quantized, samples, seed, top, plot_path, scale, offset, as_json):
    """Per-layer error of the int8 model of MODEL on DATA, worst first.

    MODEL is a SavedModel folder, .keras or .h5 file (converted to int8 as
    `edgeq convert` does), or a float .tflite together with --quantized.
    """
    from edgeq.cli.views.analyze import render_table
    from edgeq.quant.analyze import analyze
    from edgeq.quant.analyze_plot import plot

    result = analyze(model, data, quantized=quantized, samples=samples, seed=seed, scale=scale, offset=offset)
    written = plot(result, plot_path) if plot_path else None
    if as_json:
        out = result.to_dict()
        out["plot"] = str(written) if written else None
        print_json(out)
        return
    click.echo(render_table(result, top or None))
    if written:
        click.echo(f"plot: {written}")
