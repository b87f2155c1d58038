"""edgeq sweep --farm: the tests' sweep on a real Ray cluster (a head and two worker agents on 127.0.0.1).

One worker is killed (SIGKILL, its Ray node with it) once the first job has
finished: Ray runs its jobs again on the other worker, and the results equal
those of the same sweep run locally.
"""

from __future__ import annotations

import pytest

from edgeq.sweep.runner import start_sweep
from edgeq.sweep.spec import load_spec
from tests.sweep.common import comparable, local_sweep, records

pytestmark = pytest.mark.slow


def test_sweep_on_a_cluster_survives_a_killed_worker_and_equals_the_local_sweep(
    farm_cluster, tmp_path_factory, tmp_path
):
    inputs, local, _ = local_sweep(tmp_path_factory)
    out = tmp_path / "results"
    killed = None
    with start_sweep(load_spec(inputs / "sweep.yaml"), out, farm=farm_cluster.address) as scheduler:
        assert scheduler.executor.name == "ray"
        for record in scheduler.run():
            if killed is None and record["status"] == "ok":
                assert scheduler.inflight, "the sweep ended before a worker could be killed"
                killed = farm_cluster.kill_worker("w2")
    assert killed is not None
    found = records(out)
    assert comparable(found) == comparable(records(local))
    assert {r["status"] for r in found.values()} == {"ok", "failed", "skipped"}  # the broken model, as locally
