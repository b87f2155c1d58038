"""``edgeq sweep``: which configuration should I ship."""

from __future__ import annotations

import click

from edgeq.cli.common import Number, OutputPath, edgeq_errors, json_option, print_json


@click.command("sweep")
@click.argument("sweep_file", metavar="SWEEP.yaml", type=click.Path())
@click.option(
    "-o", "--output", required=True, type=OutputPath("folder"), help="Results folder (results.json, models/, report)."
)
@click.option("--farm", metavar="HEAD:PORT", help="Run the jobs on this Ray cluster (edgeq farm) instead of here.")
@click.option("--resume", is_flag=True, help="Continue the sweep in a non-empty results folder; finished jobs stay.")
@click.option("--retry-failed", is_flag=True, help="With --resume: run the failed jobs again too.")
@click.option(
    "--executor",
    type=click.Choice(["auto", "ray", "pool"]),
    default="auto",
    show_default=True,
    help="Without --farm: a local Ray instance (auto when Ray is installed) or a local process pool.",
)
@click.option("--max-drop", type=Number(float, low=0), metavar="PTS", help="Budget: accuracy drop in points.")
@click.option("--deadline-ms", type=Number(float, low=0, low_open=True), metavar="MS", help="Budget: p99 latency.")
@click.option("--max-ram", type=Number(int, low=0), metavar="B", help="Budget: RAM in bytes.")
@click.option("--max-flash", type=Number(int, low=0), metavar="B", help="Budget: flash in bytes.")
@json_option
@edgeq_errors
def command(
    sweep_file, output, farm, resume, retry_failed, executor, max_drop, deadline_ms, max_ram, max_flash, as_json
):
    """Convert every model of SWEEP.yaml with every option set, evaluate and profile the results on every target.

    Jobs run in parallel (a profile waits only for its own conversion); a
    failed job is recorded and the sweep goes on. results.json in the results
    folder is valid at every moment; --resume continues an interrupted sweep
    without redoing finished jobs. The pick per target is the most accurate
    configuration within the budgets, then the fastest (p99).
    """
    from edgeq.errors import UsageError
    from edgeq.log import progress
    from edgeq.sweep.analysis import Budgets, summary
    from edgeq.sweep.report import write_report
    from edgeq.sweep.results import load_results
    from edgeq.sweep.runner import start_sweep
    from edgeq.sweep.spec import load_spec

    if retry_failed and not resume:
        raise UsageError("--retry-failed continues an earlier sweep; give --resume too")
    if farm is not None:
        from edgeq.farm.cluster import check_head

        check_head(farm)  # HOST:PORT of a private head that answers, before anything is written
    budgets = Budgets(max_drop, deadline_ms, max_ram, max_flash)
    spec = load_spec(sweep_file)
    options = dict(executor=executor, farm=farm, resume=resume, retry_failed=retry_failed)
    with start_sweep(spec, output, **options) as scheduler:
        records = scheduler.run()
        for _ in records if as_json else progress(records, scheduler.to_run, "sweep"):
            pass
    doc = load_results(output)
    report = write_report(output, doc, budgets)
    if as_json:
        print_json({**summary(doc, budgets), "results": f"{output}/results.json", "report": str(report)})
    else:
        from edgeq.cli.views.sweep import render_sweep

        click.echo(render_sweep(doc, budgets, str(output), str(report)))
