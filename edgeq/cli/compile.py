"""``edgeq compile MODEL.tflite --npu ethos-u55-128 -o OUT.tflite``: an int8 model compiled by Arm's Vela."""

from __future__ import annotations

from pathlib import Path

import click

from edgeq.cli.common import OutputPath, edgeq_errors, json_option, print_json


@click.command("compile")
@click.argument("model", type=click.Path())
@click.option(
    "--npu",
    "accelerator",
    required=True,
    metavar="ACCELERATOR",
    help="Arm Ethos-U configuration (Vela's --accelerator-config): ethos-u55-32/64/128/256, ethos-u65-256/512, "
    "ethos-u85-128/256/512/1024/2048.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=OutputPath("file"),
    help="The compiled .tflite to write (report: same name, .json).",
)
@click.option("--system-config", help="A system configuration of Vela's vela.ini (NPU clock, memories).")
@click.option("--memory-mode", help="A memory mode of Vela's vela.ini (where weights and tensors live).")
@json_option
@edgeq_errors
def command(model, accelerator, output, system_config, memory_mode, as_json):
    """Compile MODEL (an int8/int16 .tflite) for an Arm Ethos-U NPU with Vela (pip install 'edgeq[npu]').

    Writes the compiled model (its NPU ops as ethos-u custom ops, for TFLM with the Ethos-U driver) and a
    JSON report; prints each op's placement (NPU or CPU, and why), memory and Vela's performance
    estimate. Nothing runs on an NPU: cycles, latency and bandwidth are Vela's estimates.
    """
    from edgeq.cli.views.npu import render_compilation
    from edgeq.model.reader import read_bytes
    from edgeq.npu import compile_model
    from edgeq.npu.writer import check_outputs, write_outputs

    out = Path(output)
    check_outputs(out)
    compilation = compile_model(
        read_bytes(model), accelerator, system_config=system_config, memory_mode=memory_mode, name=model
    )
    write_outputs(out, compilation, model)
    if as_json:
        print_json({"model": model, "output": str(out), **compilation.to_dict()})
    else:
        click.echo(render_compilation(compilation, model, out))
