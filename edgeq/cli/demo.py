"""``edgeq demo``: train, convert and compare a small model, offline, in well under two minutes."""

from __future__ import annotations

import click

from edgeq.cli.common import OutputPath, edgeq_errors, json_option, print_json


@click.command("demo")
@click.option(
    "-o",
    "--out",
    "out_dir",
    default="edgeq-demo",
    show_default=True,
    type=OutputPath("folder"),
    help="Folder for the demo's model files.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
@edgeq_errors
def command(out_dir, seed, as_json):
    """Train a digits CNN, convert it to int8, compare float vs int8 (size, accuracy, latency)."""
    from edgeq.cli.views.demo import render_demo
    from edgeq.demo import run_demo

    result = run_demo(out_dir, seed)
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(render_demo(result))
