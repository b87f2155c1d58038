"""``edgeq run``: run a batch of inputs through a model on a target and save the raw outputs."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from edgeq.cli.common import OutputPath, bin_options, edgeq_errors, json_option, load_arrays, port_options, print_json
from edgeq.errors import DatasetError, UsageError
from edgeq.targets import TARGETS


@click.command("run")
@click.argument("model", type=click.Path())
@click.option(
    "--target", required=True, help=f"Where to run: {', '.join(TARGETS)}, or ssh://user@host[:port] (a Linux board)."
)
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(),
    help="IN.npy (N, *input_shape), .npz with one array per input, or an MLPerf Tiny dataset folder "
    "(.bin files + y_labels.csv: top-1 accuracy or AUC is reported).",
)
@click.option(
    "-o", "--output", required=True, type=OutputPath("file"), help="OUT.npy (raw outputs), or .npz for several outputs."
)
@bin_options
@port_options
@json_option
@edgeq_errors
def command(model, target, input_path, output, bin_dtype, bin_scale, bin_zero_point, port, baud, via, as_json):
    """Run every sample of --input through MODEL on --target; save the raw outputs."""
    from edgeq.batch_run import run, run_dataset
    from edgeq.cli.views.run import render_run
    from edgeq.data.binfiles import bin_format
    from edgeq.mlperf_eval import is_mlperf_folder
    from edgeq.outputs import atomic_write

    options = {"port": port, "baud": baud, "via": via}
    scored = None
    fmt = bin_format(bin_dtype, bin_scale, bin_zero_point)
    if is_mlperf_folder(Path(input_path)):
        result, scored = run_dataset(model, target, Path(input_path), fmt, **options)
    elif fmt is not None:
        raise UsageError(f"--bin-dtype reads the .bin files of an MLPerf Tiny dataset folder; {input_path} is not one")
    else:
        result = run(model, target, load_arrays(Path(input_path)), **options)
    atomic_write(Path(output), _encode(result.outputs, Path(output)))
    summary = {
        "target": target,
        "model": str(model),
        "samples": result.samples,
        "output": str(output),
        "output_shapes": [list(o.shape) for o in result.outputs],
    }
    if scored is not None:
        summary.update(metric=scored.metric, value=scored.value, files=scored.files)
    if as_json:
        print_json(summary)
        return
    click.echo(render_run(summary))


def _encode(outputs: list[np.ndarray], path: Path) -> bytes:
    import io

    buffer = io.BytesIO()
    if path.suffix == ".npz":
        np.savez(buffer, *outputs)
    elif len(outputs) == 1:
        np.save(buffer, outputs[0])
    else:
        raise DatasetError(f"the model has {len(outputs)} outputs; write them to an .npz file")
    return buffer.getvalue()
