"""``edgeq profile``: latency percentiles, memory and energy of a model on one or more targets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from edgeq.cli.common import Number, OutputPath, edgeq_errors, json_option, load_arrays, port_options, print_json
from edgeq.targets import target_names

if TYPE_CHECKING:
    from edgeq.profiling import ProfileResult


@click.command("profile")
@click.argument("model", type=click.Path())
@click.option(
    "--target",
    "targets",
    multiple=True,
    default=("host",),
    show_default=True,
    help=f"Where to run; repeat to compare: {', '.join(target_names())}.",
)
@click.option("--runs", type=Number(int, low=1), default=100, show_default=True, help="Timed runs per target.")
@click.option("--warmup", type=Number(int, low=0), default=10, show_default=True, help="Untimed runs first.")
@click.option("--threads", type=Number(int, low=1), default=1, show_default=True, help="Threads for LiteRT (host).")
@click.option("--xnnpack/--no-xnnpack", default=True, show_default=True, help="LiteRT (host) with or without XNNPACK.")
@click.option(
    "--input", "input_path", type=click.Path(), help="IN.npy/.npz: time its first sample (default: seeded random)."
)
@click.option("--board", help="The board a serial target is (power figure for an estimated energy).")
@click.option(
    "--deadline-ms", type=Number(float, low=0, low_open=True), help="Exit 1 when a target's p99 latency is above this."
)
@click.option(
    "--energy-monitor",
    help="Measure energy with a power monitor: pi5-pmic, ina226:/dev/i2c-1@0x40,shunt=0.1, ina219:..., "
    "lpm01a:/dev/ttyACM1, ppk2:/dev/ttyACM2, joulescope.",
)
@click.option(
    "--report",
    "report_path",
    type=OutputPath("file"),
    help="Also write a comparison report: REPORT.html (self-contained, with plots and per-op times) or REPORT.md.",
)
@click.option(
    "--ops",
    "show_ops",
    is_flag=True,
    help="Also give every op's time (and on emulated boards its instructions, estimated cycles and MACs per cycle).",
)
@port_options
@click.option(
    "--farm",
    metavar="HEAD:PORT",
    help="Profile on a free board of each --target (or a board id, e.g. nucleo-l4r5zi) in the farm whose Ray "
    "head is HEAD:PORT (edgeq farm status lists them).",
)
@json_option
@edgeq_errors
def command(
    model,
    targets,
    runs,
    warmup,
    threads,
    xnnpack,
    input_path,
    board,
    deadline_ms,
    energy_monitor,
    report_path,
    show_ops,
    port,
    baud,
    via,
    farm,
    as_json,
):
    """Time MODEL on each --target: mean, p50, p90, p99, max, std; memory; energy (measured or estimated)."""
    from edgeq.cli.views.profile import render_deadline_misses, render_ops, render_text
    from edgeq.profiling.report import report_format

    report_kind = report_format(report_path) if report_path else None  # a bad extension fails before any run
    if energy_monitor:
        from edgeq.energy import parse_monitor_spec

        parse_monitor_spec(energy_monitor)  # a bad value fails before any run
    settings = {
        "runs": runs,
        "warmup": warmup,
        "inputs": load_arrays(Path(input_path)) if input_path else None,
        "threads": threads,
        "deadline_ms": deadline_ms,
        "board": board,
        "energy_monitor": energy_monitor,
        "op_times": show_ops or report_kind is not None,  # reports show every op's figures where a target can
        "port": port,
        "baud": baud,
        "via": via,
    }
    results = _profile_each(model, targets, settings, xnnpack, farm)
    if as_json:
        print_json(results[0].to_dict() if len(results) == 1 else [r.to_dict() for r in results])
    else:
        click.echo(render_text(results))
        if show_ops:
            click.echo("")
            click.echo(render_ops(results))
    if report_kind is not None:
        _write_report(results, Path(report_path))
    misses = render_deadline_misses(results)
    for line in misses:
        click.echo(f"error: {line}", err=True)
    if misses:
        raise SystemExit(1)


def _profile_each(
    model: str, targets: tuple[str, ...], settings: dict[str, Any], xnnpack: bool, farm: str | None = None
) -> list[ProfileResult]:
    """One profile per target, in order, with progress on stderr (each on a board of the farm with ``farm``)."""
    from edgeq.log import progress
    from edgeq.profiling import profile

    no_xnnpack: dict[str, Any] = {"xnnpack": False}  # an option of the host target only
    if farm is not None:
        from edgeq.farm.submit import profile_on_farm

        return [
            profile_on_farm(farm, model, t, **settings, **({} if xnnpack or t != "host" else no_xnnpack))
            for t in progress(targets, len(targets), "profiling targets")
        ]
    return [
        profile(model, t, **settings, **({} if xnnpack or t != "host" else no_xnnpack))
        for t in progress(targets, len(targets), "profiling targets")
    ]


def _write_report(results, path: Path) -> None:
    """The report file (its format was checked before the runs)."""
    from edgeq.profiling.report import write_report

    write_report(results, path)
    click.echo(f"report: {path}", err=True)


__all__ = ["command"]
