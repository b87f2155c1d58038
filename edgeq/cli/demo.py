"""``edgeq demo``: train, convert and compare a small model, offline, in well under two minutes."""

from __future__ import annotations

import click

from edgeq.cli.common import OutputPath, edgeq_errors, format_table, json_option, print_json


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
    from edgeq.demo import run_demo

    result = run_demo(out_dir, seed)
    if as_json:
        print_json(result.to_dict())
        return
    rows = [
        [
            r.model,
            f"{r.size_bytes:,}",
            f"{100 * r.accuracy:.2f} %",
            f"{r.latency_ms_p50 * 1000:.1f}",
            f"{r.latency_ms_p99 * 1000:.1f}",
            r.path,
        ]
        for r in result.rows
    ]
    click.echo(f"digits test set: {result.test_samples} samples; LiteRT on this machine, 1 thread\n")
    click.echo(format_table(["model", "bytes", "accuracy", "p50 us", "p99 us", "file"], rows, "lrrrrl"))
    f, q = result.rows
    click.echo(
        f"\nint8 is {q.size_bytes / f.size_bytes:.2f}x the float size, accuracy {100 * (q.accuracy - f.accuracy):+.2f} points, "
        f"p50 latency {q.latency_ms_p50 / f.latency_ms_p50:.2f}x float ({result.seconds:.0f} s in all)"
    )
    if result.tflm:
        t = result.tflm
        click.echo(
            f"TFLM project for {t['board']} in {t['out_dir']}: model array {t['flash_bytes']:,} bytes of flash, "
            f"tensor arena {t['arena_bytes']:,} bytes of RAM, {len(t['ops'])} ops"
        )
        e = t["engine"]
        click.echo(
            f"edgeq compiled engine in {e['out_dir']}: arena {e['arena_bytes']:,} bytes of RAM "
            f"({e['arena_bytes'] / t['arena_bytes']:.2f}x TFLM's), {e['flash_bytes']:,} bytes of flash ({e['flash_how']})"
        )
    if result.profiles:
        from edgeq.profiling.text import render_text

        click.echo("\nthe int8 model on every target (edgeq profile):")
        click.echo(render_text(list(result.profiles)))
    for skipped in result.skipped_targets:
        click.echo(f"skipped {skipped}")
    if result.report:
        click.echo(f"HTML report: {result.report}")
