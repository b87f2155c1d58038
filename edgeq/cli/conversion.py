"""What ``edgeq convert`` shares with the other commands that convert.

The text summary of a conversion report (``edgeq convert``; ``edgeq qat`` and
``--cluster``/``--prune`` print it too), and the ``--cluster``/``--prune``
options of ``edgeq convert`` with the run they start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from edgeq.cli.common import Number, format_table, print_json


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


def render_report(report) -> str:
    """The human-readable conversion summary."""
    lines = [f"{report.output}: {report.mode} model, {report.output_bytes:,} bytes"]
    if report.float_tflite_bytes:
        lines.append(f"  float TFLite {report.float_tflite_bytes:,} bytes -> ratio {report.size_ratio:.3f}")
    for kind, tensors in (("input", report.inputs), ("output", report.outputs)):
        for t in tensors:
            q = f", scale {t.scale:.6g}, zero point {t.zero_point}" if t.scale else ""
            lines.append(f"  {kind} {t.name} {list(t.shape)} {t.dtype}{q}")
    if report.samples_used is not None:
        lines.append(f"  calibrated on {report.samples_used} samples of {report.data} (seed {report.seed})")
    lines += _calibration_lines(report.calibration)
    lines.append(_fidelity_line(report.fidelity))
    if report.float_ops:
        lines.append(
            f"  {len(report.float_ops)} op(s) kept in float: " + ", ".join(f.describe() for f in report.float_ops)
        )
    rows = [[op, ", ".join(f"{d} x{n}" for d, n in dtypes.items())] for op, dtypes in report.ops_by_type.items()]
    lines += [
        "",
        format_table(["op", "output dtype x count"], rows),
        "",
        f"done in {report.seconds:.1f} s",
    ]
    return "\n".join(line for line in lines if line is not None)


def _fidelity_line(fidelity) -> str | None:
    if not fidelity:
        return None
    held_out = fidelity.get("held_out")
    which = "held-out samples (not used for calibration)" if held_out else "calibration samples (no held-out data)"
    parts = [f"vs float on {fidelity['samples']} {which}:"]
    if fidelity.get("top1_agreement") is not None:
        parts.append(f"top-1 agreement {100 * fidelity['top1_agreement']:.1f} %,")
    snr = fidelity.get("snr_db")
    parts.append(f"output SNR {snr:.1f} dB," if snr is not None else "outputs identical,")
    parts.append(f"RMSE {fidelity['rmse']:.4g}")
    return "  " + " ".join(parts)


def _calibration_lines(calibration, shown: int = 5) -> list[str]:
    """How the activation ranges were chosen and which were clipped the most."""
    if not calibration:
        return []
    method = calibration["method"] + (f" {calibration['percentile']:g}" if calibration["percentile"] else "")
    method += ", symmetric" if calibration["symmetric"] else ""
    tensors = calibration["tensors"]
    if not tensors:
        return [f"  calibration: {method} (TFLite's own ranges)"]
    head = (
        f"  calibration: {method}: {calibration['clipped_tensors']} of {len(tensors)} activation ranges clipped, "
        f"median width {100 * calibration['median_ratio']:.0f} % of min/max"
    )
    worst = sorted((t for t in tensors if t["clipped_fraction"] > 0), key=lambda t: t["ratio"])[:shown]
    rows = [
        f"    {t['name']}: [{t['min']:.4g}, {t['max']:.4g}] -> [{t['lo']:.4g}, {t['hi']:.4g}] "
        f"({100 * t['ratio']:.1f} % of the width, {100 * t['clipped_fraction']:.3g} % of values clipped)"
        for t in worst
    ]
    return [head, *rows]
