"""The ``--cluster``/``--prune`` options of ``edgeq convert`` and the run they start.

Their text is :mod:`edgeq.cli.views.convert` (the conversion report) and
:mod:`edgeq.cli.views.compress` (the compression section).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from edgeq.cli.common import Number, print_json

if TYPE_CHECKING:
    from edgeq.convert.options import ConvertOptions


def compression_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--cluster``, ``--cluster-init``, ``--prune``, ``--prune-schedule``, ``--train-data``, ``--fine-tune-epochs``."""
    options = [
        click.option(
            "--fine-tune-epochs",
            type=Number(int, low=0),
            default=2,
            show_default=True,
            help="Epochs with --train-data.",
        ),
        click.option("--train-data", help="Labelled data (.npz x/y, class folders) to fine-tune --cluster/--prune."),
        click.option(
            "--prune-schedule", type=click.Choice(["polynomial", "constant"]), default="polynomial", show_default=True
        ),
        click.option(
            "--prune", type=Number(float), default=None, help="Zero this fraction of each kernel's weights (0-1)."
        ),
        click.option(
            "--cluster-init",
            type=click.Choice(["kmeans++", "linear", "density", "random"]),
            default="kmeans++",
            show_default=True,
        ),
        click.option(
            "--cluster", type=Number(int), default=None, help="Share K values per layer kernel (weight clustering)."
        ),
    ]
    for option in options:
        func = option(func)
    return func


def convert_compressed_command(
    model: str,
    data: str | None,
    output: str,
    opts: ConvertOptions,
    *,
    as_json: bool,
    eval_data: str | None = None,
    **compress: Any,
) -> None:
    """Run :func:`edgeq.quant.compress.convert_compressed` and print its report (text or JSON).

    ``compress`` takes the keyword arguments of :func:`compression_options`.
    """
    from edgeq.cli.views.compress import render_compression
    from edgeq.cli.views.convert import render_report
    from edgeq.errors import UsageError
    from edgeq.quant.compress import CompressOptions, convert_compressed
    from edgeq.quant.training import TrainOptions

    if compress["fine_tune_epochs"] < 1:
        raise UsageError(f"--fine-tune-epochs {compress['fine_tune_epochs']} must be at least 1")
    train = TrainOptions(epochs=compress["fine_tune_epochs"], seed=opts.seed, scale=opts.scale, offset=opts.offset)
    options = CompressOptions(
        cluster=compress["cluster"],
        cluster_init=compress["cluster_init"],
        prune=compress["prune"],
        schedule=compress["prune_schedule"],
        train_data=compress["train_data"],
        eval_data=eval_data,
        train=train,
    )
    report = convert_compressed(model, data, output, opts, options)
    if as_json:
        print_json(report.to_dict())
        return
    click.echo(render_report(report.conversion))
    click.echo(render_compression(report.compression))
