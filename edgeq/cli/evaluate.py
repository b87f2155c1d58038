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
    from edgeq.evaluation import evaluate

    result = evaluate(reference, candidate, data, limit=limit, scale=scale, offset=offset)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(render(result))


def render(r) -> str:
    lines = [f"{r.samples} samples of {r.data}"]
    if r.labelled:
        lines.append(
            f"  top-1 accuracy  reference {100 * r.reference_accuracy:.2f} %  candidate {100 * r.candidate_accuracy:.2f} %  drop {r.accuracy_drop_points:+.2f} points"
        )
    if r.top1_agreement is not None:
        lines.append(f"  top-1 agreement {100 * r.top1_agreement:.2f} %")
    snr = "inf" if r.snr_db is None else f"{r.snr_db:.1f}"
    lines.append(f"  output RMSE {r.rmse:.4g}, SNR {snr} dB, max abs error {r.max_abs_error:.4g}")
    return "\n".join(lines)
