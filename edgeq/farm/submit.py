"""``edgeq run --farm`` and ``edgeq profile --farm``: one job sent to a host with a free board of its kind.

Before anything runs, the cluster's total resources must include the job's
kind (some host offers it) and not every board of the kind may be marked
unhealthy; otherwise a FarmError says so and nothing is queued.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeq.errors import UsageError
from edgeq.farm.cluster import FarmError, connect, import_ray, remote_call, result, total_resources
from edgeq.farm.health import marks
from edgeq.farm.jobs import job_resource, profile_result_job, run_job
from edgeq.farm.resources import PREFIX
from edgeq.model.reader import read_bytes

if TYPE_CHECKING:
    from edgeq.profiling import ProfileResult

RETRIES = 3


def check_offered(target: str, resource: str) -> None:
    """FarmError unless some host offers ``resource`` and at least one such board is healthy."""
    total = total_resources()
    have = total.get(resource, 0)
    if have < 1:
        offered = sorted(_kinds(total))
        raise FarmError(
            f"no host of the farm offers {target} ({resource}); offered: {', '.join(offered) or 'nothing'} "
            "(see edgeq farm status)"
        )
    alive = {n["NodeID"] for n in import_ray().nodes() if n.get("Alive")}
    bad = sum(1 for m in marks() if m["device"]["resource"] == resource and m["node_id"] in alive)
    if bad >= have:
        raise FarmError(f"every {target} of the farm is marked unhealthy; check them, then edgeq farm status --clear")


def _kinds(total: dict[str, float]) -> list[str]:
    return [name[len(PREFIX) :] for name in total if name.startswith(f"{PREFIX}target_") or "_board_" in name]


def run_on_farm(address: str, model: str | Path, target: str, inputs: list[np.ndarray], **options: Any) -> list[Any]:
    """:func:`edgeq.batch_run.run` on a free board of ``target`` somewhere in the farm; the raw outputs."""
    data = read_bytes(model)
    opts = {k: v for k, v in options.items() if v is not None}
    opts["model_name"] = str(model)
    resource = job_resource(target)  # an unknown target fails before connecting
    with connect(address):
        check_offered(target, resource)
        outputs: list[Any] = result(remote_call(run_job, data, target, inputs, opts, resources={resource: 1}))
    return outputs


def profile_on_farm(
    address: str,
    model: str | Path,
    target: str,
    runs: int,
    warmup: int,
    inputs: list[np.ndarray] | None,
    **options: Any,
) -> ProfileResult:
    """:func:`edgeq.profiling.profile` on a free board of ``target`` somewhere in the farm.

    Energy monitors are attached to a particular host, so ``energy_monitor`` is refused.
    """
    if options.get("energy_monitor"):
        raise UsageError("--energy-monitor measures a board on this host; it does not combine with --farm")
    data = read_bytes(model)
    opts = {k: v for k, v in options.items() if v is not None and k != "energy_monitor"}
    opts["model_name"] = str(model)
    resource = job_resource(target)
    with connect(address):
        check_offered(target, resource)
        ref = remote_call(profile_result_job, data, target, runs, warmup, inputs, opts, resources={resource: 1})
        profiled: ProfileResult = result(ref)
    return profiled
