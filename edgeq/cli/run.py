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
@click.option(
    "--farm",
    metavar="HEAD:PORT",
    help="Run on a free board of --target (or a board id, e.g. nucleo-l4r5zi) in the farm whose Ray head is "
    "HEAD:PORT (edgeq farm status lists them).",
)
@json_option
@edgeq_errors
def command(model, target, input_path, output, bin_dtype, bin_scale, bin_zero_point, port, baud, via, farm, as_json):
    """Run every sample of --input through MODEL on --target; save the raw outputs."""
    from edgeq.batch_run import run, run_dataset
    from edgeq.cli.views.run import render_run
    from edgeq.data.binfiles import bin_format
    from edgeq.mlperf_eval import is_mlperf_folder
    from edgeq.outputs import atomic_write

    options = {"port": port, "baud": baud, "via": via}
    scored = None
    fmt = bin_format(bin_dtype, bin_scale, bin_zero_point)
    if farm is not None:
        result = _run_on_farm(farm, model, target, Path(input_path), fmt, options)
    elif is_mlperf_folder(Path(input_path)):
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


def _run_on_farm(farm: str, model: str, target: str, input_path: Path, fmt: object, options: dict):
    """The run on a board of the farm: the same inputs, the same outputs as a local run."""
    from edgeq.batch_run import RunResult
    from edgeq.farm.submit import run_on_farm
    from edgeq.mlperf_eval import is_mlperf_folder

    if fmt is not None or is_mlperf_folder(input_path):
        raise UsageError("--farm takes .npy/.npz inputs; run MLPerf Tiny dataset folders on this host")
    arrays = load_arrays(input_path)
    outputs = run_on_farm(farm, model, target, arrays, **options)
    return RunResult(target, len(arrays[0]) if arrays else 0, outputs)


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
