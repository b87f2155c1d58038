"""``edgeq convert``: TensorFlow model -> quantized .tflite + conversion report."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from edgeq.calibration.methods import CalibrationMethod
from edgeq.cli.common import (
    Number,
    OutputPath,
    bin_options,
    edgeq_errors,
    image_norm_options,
    json_option,
    print_json,
)
from edgeq.cli.conversion import compression_options, convert_compressed_command
from edgeq.data import DEFAULT_SAMPLES
from edgeq.qtypes import IOType, QuantMode

if TYPE_CHECKING:
    from edgeq.convert import ConvertOptions


@click.command("convert")
@click.argument("model", type=click.Path())
@click.option(
    "-d",
    "--data",
    help="Representative data: .npy, .npz, image or .bin folder, or module:function.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=OutputPath("file"),
    help="The .tflite file to write (report: same name, .json).",
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in QuantMode]),
    default="int8",
    show_default=True,
    help="Quantization scheme.",
)
@click.option(
    "--weights",
    type=click.Choice(["int8", "int4"]),
    default="int8",
    show_default=True,
    help="Weight bits of conv, depthwise and dense layers (int4: AI Edge Quantizer, needs edgeq[int4]).",
)
@click.option(
    "--io",
    "io_type",
    type=click.Choice([t.value for t in IOType]),
    default=None,
    help="Input/output dtype [default: int8 for int8, int16 for int16x8, else float32].",
)
@click.option(
    "--samples",
    type=Number(int, low=1),
    default=DEFAULT_SAMPLES,
    show_default=True,
    help="Calibration samples drawn from the data.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample draw.")
@click.option(
    "--allow-float-fallback",
    is_flag=True,
    help="Keep ops without integer kernels in float instead of failing.",
)
@image_norm_options
@bin_options
@click.option(
    "--check-samples",
    type=Number(int, low=0),
    default=32,
    show_default=True,
    help="Held-out samples (not used for calibration) for the float-vs-quantized check (0: skip).",
)
@click.option(
    "--calibration",
    type=click.Choice([m.value for m in CalibrationMethod]),
    default="minmax",
    show_default=True,
    help="How activation ranges are chosen (int8): minmax as TFLite, percentile, mse or entropy (KL).",
)
@click.option(
    "--percentile",
    type=Number(float),
    default=None,
    help="Percentile of --calibration percentile [default: 99.99].",
)
@click.option(
    "--symmetric-activations",
    is_flag=True,
    help="Symmetric activation ranges [-t, t] with zero point 0.",
)
@click.option(
    "--accuracy-budget",
    type=Number(float, low=0),
    help="Mixed precision: keep the fewest layers float so accuracy drops at most PTS points (needs --eval-data); "
    "with --weights int4, the most layers int4 within PTS points of the int8 model.",
)
@click.option(
    "--eval-data",
    help="Labelled data for --accuracy-budget, --cluster or --prune: .npz with x and y, or class folders.",
)
@compression_options
@json_option
@edgeq_errors
def command(
    model,
    data,
    output,
    accuracy_budget,
    eval_data,
    cluster,
    cluster_init,
    prune,
    prune_schedule,
    train_data,
    fine_tune_epochs,
    as_json,
    **conversion,
):
    """Convert MODEL (SavedModel folder, .keras or .h5) to a quantized .tflite.

    In int8 mode every op must run in integer arithmetic: if any op stays
    float the command fails and lists them, unless --allow-float-fallback.
    """
    opts = _convert_options(data, eval_data, **conversion)
    compressed = cluster is not None or prune is not None
    if opts.bin_format is not None and (compressed or accuracy_budget is not None or eval_data is not None):
        from edgeq.errors import UsageError

        raise UsageError("--bin-dtype works in a plain conversion, not with --accuracy-budget, --cluster or --prune")
    if opts.weights == "int4":
        _check_int4(opts, cluster, accuracy_budget, eval_data, data)
    if compressed:
        compress = dict(cluster=cluster, cluster_init=cluster_init, prune=prune, prune_schedule=prune_schedule)
        compress.update(train_data=train_data, fine_tune_epochs=fine_tune_epochs)
        convert_compressed_command(model, data, output, opts, as_json=as_json, eval_data=eval_data, **compress)
    elif accuracy_budget is not None or eval_data is not None:
        _mixed(model, data, output, opts, accuracy_budget, eval_data, as_json)
    else:
        _plain(model, data, output, opts, as_json)


def _convert_options(
    data,
    eval_data,
    *,
    mode,
    io_type,
    samples,
    seed,
    allow_float_fallback,
    scale,
    offset,
    bin_dtype,
    bin_scale,
    bin_zero_point,
    check_samples,
    calibration,
    percentile,
    symmetric_activations,
    weights,
) -> ConvertOptions:
    """The options of a conversion, once the data paths and the .bin format are checked."""
    from edgeq.convert import ConvertOptions
    from edgeq.data.binfiles import bin_format
    from edgeq.data.files import check_data_path

    fmt = bin_format(bin_dtype, bin_scale, bin_zero_point)
    check_data_path(data, bins_only=fmt is not None)
    check_data_path(eval_data, option="--eval-data")
    return ConvertOptions(
        mode=mode,
        io=io_type,
        samples=samples,
        seed=seed,
        allow_float_fallback=allow_float_fallback,
        scale=scale,
        offset=offset,
        check_samples=check_samples,
        calibration=calibration,
        percentile=percentile,
        symmetric_activations=symmetric_activations,
        bin_format=fmt,
        weights=weights,
    )


def _check_int4(opts: ConvertOptions, cluster, budget, eval_data, data) -> None:
    """The option mixes --weights int4 refuses, and the quantizer, before any work."""
    from edgeq.convert.int4 import quantizer_version
    from edgeq.errors import UsageError

    if cluster is not None:
        raise UsageError(
            "--cluster does not combine with --weights int4: int4 rounds each channel to 15 evenly spaced "
            "levels, which clustered centroids are not on, so it would quantize them a second time"
        )
    if budget is not None and (eval_data is None or data is None):
        raise UsageError("--accuracy-budget needs -d DATA (calibration) and --eval-data EVAL (labelled)")
    quantizer_version()


def _plain(model, data, output, opts: ConvertOptions, as_json: bool) -> None:
    """A plain conversion, its report printed as JSON or text."""
    from edgeq.cli.views.convert import render_report
    from edgeq.convert import convert

    report = convert(model, data, output, opts)
    if as_json:
        print_json(report.to_dict())
    else:
        click.echo(render_report(report))


def _mixed(model, data, output, opts, budget, eval_data, as_json) -> None:
    """``--accuracy-budget``: mixed precision instead of a plain conversion.

    int8 weights: the fewest layers float (edgeq.quant.mixed); ``--weights int4``: int4 or int8
    weights per layer (edgeq.quant.mixed_bits).
    """
    from edgeq.calibration.recalibrate import recalibrate
    from edgeq.cli.views.convert import render_mixed, render_mixed_bits
    from edgeq.errors import UsageError
    from edgeq.quant.mixed import mixed_precision
    from edgeq.quant.mixed_bits import mixed_bits

    if budget is None or eval_data is None or data is None:
        raise UsageError("--accuracy-budget needs -d DATA (calibration) and --eval-data EVAL (labelled)")
    if opts.mode.value != "int8":
        raise UsageError(f"--accuracy-budget works with --mode int8, not {opts.mode.value}")
    rule = opts.range_rule
    extra: dict[str, Any] = {}
    if opts.weights == "int8" and not rule.is_default:
        extra["rewrite"] = lambda calibrated, arrays: recalibrate(calibrated, arrays, rule)[0]
    search: Callable[..., Any] = mixed_bits if opts.weights == "int4" else mixed_precision
    render: Callable[[Any], str] = render_mixed_bits if opts.weights == "int4" else render_mixed
    result = search(
        model,
        data,
        eval_data,
        budget,
        output=output,
        samples=opts.samples,
        seed=opts.seed,
        scale=opts.scale,
        offset=opts.offset,
        **extra,
    )
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(render(result))
