"""``edgeq qat``: quantization-aware fine-tuning -> fully-integer int8 .tflite + report.

Also the ``--cluster`` / ``--prune`` options that ``edgeq convert`` takes
(:func:`compression_options`, :func:`convert_compressed_command`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    from edgeq.quant.qat import qat
    from edgeq.quant.training import TrainOptions

    opts = TrainOptions(epochs=epochs, lr=lr, batch_size=batch_size, loss=loss, seed=seed, scale=scale, offset=offset)
    report = qat(model, data, output, eval_data=eval_data, options=opts, samples=samples)
    if as_json:
        print_json(report.to_dict())
    else:
        click.echo(render(report))


def render(report: Any) -> str:
    """The human-readable QAT summary."""
    c, t = report.conversion, report.train
    lines = [f"{c.output}: QAT int8 model, {c.output_bytes:,} bytes"]
    lines.append(f"  fine-tuned {t['epochs']} epoch(s) on {t['samples']} samples of {t['data']} (lr {t['lr']:g})")
    if t["history"]:
        last = t["history"][-1]
        lines.append("  last epoch: " + ", ".join(f"{k} {v:.4f}" for k, v in last.items()))
    if report.accuracy:
        a = report.accuracy
        lines.append(
            f"  accuracy on {a['samples']} samples: float {100 * a['float']:.2f} %, "
            f"PTQ int8 {100 * a['ptq_int8']:.2f} %, QAT int8 {100 * a['qat_int8']:.2f} %"
        )
    lines.append(f"done in {report.seconds:.1f} s")
    return "\n".join(lines)


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
    model: Any, data: Any, output: str, opts: Any, *, as_json: bool, eval_data: Any = None, **compress: Any
) -> None:
    """Run :func:`edgeq.quant.compress.convert_compressed` and print its report (text or JSON).

    ``compress`` takes the keyword arguments of :func:`compression_options`.
    """
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
    from edgeq.cli.convert import render_report

    click.echo(render_report(report.conversion))
    click.echo(render_compression(report.compression))


def render_compression(section: dict[str, Any]) -> str:
    """Plain and gzip sizes before and after compression, and the accuracies when measured."""
    done = ", ".join(f"{k} {section[k]}" for k in ("cluster", "prune") if section[k] is not None)
    new, old = section["bytes"], section["uncompressed_bytes"]
    lines = [
        f"compression ({done}):",
        f"  int8 .tflite {old['plain']:,} bytes, gzip {old['gzip']:,}",
        f"  compressed   {new['plain']:,} bytes, gzip {new['gzip']:,} (gzip ratio {section['gzip_ratio']:.3f})",
    ]
    acc = section.get("accuracy")
    if acc:
        drop = 100 * (acc["int8"] - acc["compressed_int8"])
        lines.append(
            f"  accuracy on {acc['samples']} samples: float {100 * acc['float']:.2f} %, int8 {100 * acc['int8']:.2f} %,"
            f" compressed int8 {100 * acc['compressed_int8']:.2f} % ({-drop:+.2f} points)"
        )
    return "\n".join(lines)
