"""``edgeq farm``: the boards of a lab's hosts as a Ray cluster (``agent``, ``status``)."""

from __future__ import annotations

import click

from edgeq.cli.common import edgeq_errors, json_option, print_json
from edgeq.cli.views.farm import render_plan, render_status

ADDRESS_HELP = "The Ray head, HOST:PORT (a private or loopback address), e.g. 10.0.0.5:6379."


@click.group("farm")
def command() -> None:
    """A lab's boards on many hosts as one Ray cluster; edgeq run/profile --farm use it."""


@command.command("agent")
@click.option("--address", required=True, help=ADDRESS_HELP)
@click.option("--config", "config_path", type=click.Path(), help="farm.yaml: pins, SSH boards, QEMU and host slots.")
@click.option("--node-ip", help="This host's private address to join with (default: the one that reaches the head).")
@click.option(
    "--state-dir", type=click.Path(), help="Where the host's device list and locks live (default: temporary)."
)
@click.option("--allow-public", is_flag=True, help="Accept public addresses (Ray runs any code sent to it).")
@click.option(
    "--ray-arg",
    "ray_args",
    multiple=True,
    help="An extra argument for ray start, as given (repeat), e.g. --ray-arg=--dashboard-agent-listen-port=52366.",
)
@click.option("--dry-run", is_flag=True, help="Print what would be offered and the ray start command; start nothing.")
@json_option
@edgeq_errors
def agent(config_path, address, node_ip, state_dir, allow_public, ray_args, dry_run, as_json):
    """Find this host's boards and join the farm at --address, one Ray resource unit per board.

    Serial boards are found by their USB IDs (board files' usb_ids) or pinned in
    farm.yaml; SSH boards, QEMU and host slots come from farm.yaml. Runs until
    Ctrl-C or SIGTERM, which stop this host's Ray node.
    """
    import tempfile
    from pathlib import Path

    from edgeq.farm.agent import plan_agent, run_agent
    from edgeq.farm.config import load_config
    from edgeq.farm.discover import inventory

    config = load_config(config_path)
    found = inventory(config)
    state = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="farm-"))
    plan = plan_agent(address, config, found, state, node_ip, allow_public, tuple(ray_args), not dry_run)
    summary = {
        "node_ip": plan.node_ip,
        "resources": plan.resources,
        "devices": [d.to_dict() for d in found.devices],
        "abilities": list(found.abilities),
        "warnings": list(found.warnings),
        "command": list(plan.command),
    }
    if dry_run:
        print_json(summary) if as_json else click.echo(render_plan(summary))
        return
    click.echo(render_plan(summary), err=True)
    raise SystemExit(run_agent(plan, found))


@command.command("status")
@click.option("--address", required=True, help=ADDRESS_HELP)
@click.option("--clear", is_flag=True, help="Forget every unhealthy mark, offering those boards again.")
@click.option("--allow-public", is_flag=True, help="Accept a public head address.")
@json_option
@edgeq_errors
def status(address, clear, allow_public, as_json):
    """Boards per host (total, free, busy, unhealthy) and what each host can do."""
    from edgeq.farm.cluster import connect
    from edgeq.farm.health import clear as clear_marks
    from edgeq.farm.status import farm_status, forget_dead_nodes

    with connect(address, allow_public):
        forget_dead_nodes()
        cleared = clear_marks() if clear else 0
        hosts = farm_status()
    if as_json:
        print_json({"address": address, "cleared": cleared, "hosts": [h.to_dict() for h in hosts]})
        return
    click.echo(render_status([h.to_dict() for h in hosts], cleared))


__all__ = ["command"]
