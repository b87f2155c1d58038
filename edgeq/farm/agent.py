"""``edgeq farm agent``: this host's boards joining a farm's Ray cluster.

The agent finds the host's boards (:mod:`edgeq.farm.discover`), records them
for the jobs Ray places here (:mod:`edgeq.farm.devices`) and runs ``ray start
--block`` as its child, advertising one unit of a custom resource per board
and one per ability. Stopping the agent (Ctrl-C, SIGTERM) stops that Ray node;
a killed agent takes it along (the child dies with its parent).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.errors import DependencyError
from edgeq.farm.cluster import check_head, check_private, is_loopback, local_ip_towards, split_address
from edgeq.farm.config import FarmConfig
from edgeq.farm.devices import ENV_STATE, write_devices
from edgeq.farm.discover import Inventory
from edgeq.log import logger

# Environment for every Ray process of the node: no usage reports leave the lab.
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
# `ray start` replaces a loopback --node-ip-address (and head address) by the host's routable address
# (ray._private.services.resolve_ip_for_localhost); a farm on one machine must stay on loopback, so for
# loopback addresses `ray start` runs with that replacement turned off.
KEEP_LOOPBACK = (
    "import sys, ray._private.services as s; s.resolve_ip_for_localhost = lambda host: host; "
    "from ray.scripts.scripts import main; sys.argv[0] = 'ray'; main()"
)


@dataclass(frozen=True)
class AgentPlan:
    """What an agent starts: the ``ray start`` command, its environment and the state folder."""

    command: tuple[str, ...]
    env: dict[str, str]
    state: Path
    node_ip: str
    resources: dict[str, float]


def ray_start(loopback: bool) -> list[str]:
    """The ``ray start`` command; for a loopback node, one that keeps its loopback address."""
    if loopback:
        ray_executable()  # the same DependencyError without Ray
        return [sys.executable, "-c", KEEP_LOOPBACK, "start"]
    return [ray_executable(), "start"]


def ray_executable() -> str:
    """The ``ray`` command of this Python environment (DependencyError without the farm extra)."""
    beside = Path(sys.executable).parent / "ray"
    found = str(beside) if beside.is_file() else shutil.which("ray")
    if not found:
        raise DependencyError("the farm agent needs Ray: pip install 'edgeq[farm]'")
    return found


def plan_agent(
    address: str,
    config: FarmConfig,
    inventory: Inventory,
    state: Path,
    node_ip: str | None = None,
    allow_public: bool = False,
    ray_args: tuple[str, ...] = (),
    reach_head: bool = True,
) -> AgentPlan:
    """Check the addresses (private unless ``allow_public``) and the head, and build the ``ray start`` command.

    ``node_ip`` (else farm.yaml's, else the interface that reaches the head)
    is the address the node listens on and advertises to the cluster.
    ``ray_args`` go to ``ray start`` as they are (fixed ports for a firewall, say).
    ``reach_head`` False checks the head's address without connecting (a dry run).
    """
    if reach_head:
        head_ip, port = check_head(address, allow_public)
    else:
        host, port = split_address(address)
        head_ip = check_private("the head address", host, allow_public)
    chosen = node_ip or config.node_ip
    ip = check_private("the node address", chosen, allow_public) if chosen else local_ip_towards(head_ip)
    check_private("the node address", ip, allow_public)
    resources = inventory.resources()
    command = [
        *ray_start(is_loopback(ip)),
        f"--address={head_ip}:{port}",
        f"--node-ip-address={ip}",
        f"--resources={json.dumps(resources, sort_keys=True)}",
        "--disable-usage-stats",
        "--block",
    ]
    if config.num_cpus is not None:
        command.append(f"--num-cpus={config.num_cpus}")
    command += ray_args
    env = {**os.environ, **RAY_ENV, ENV_STATE: str(state)}
    return AgentPlan(tuple(command), env, state, ip, resources)


STOP_S = 15.0  # how long ray start may take to stop the node before it and its group are killed


def run_agent(plan: AgentPlan, inventory: Inventory) -> int:
    """Record the devices, run ``ray start --block`` until it ends or edgeq is stopped; its exit code."""
    write_devices(plan.state, list(inventory.devices))
    logger.info("joining with %s", " ".join(plan.command))
    child = procs.popen(list(plan.command), env=plan.env, start_new_session=True)  # its own process group
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            child.terminate()  # ray start stops the node's processes on SIGTERM
            try:
                child.wait(timeout=STOP_S)
            except procs.TimeoutExpired:
                child.kill()
                child.wait()
        _kill_group(child.pid)  # whatever of the node outlived ray start


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
