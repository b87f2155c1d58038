"""edgeq sweep on Ray clusters of 1 and 2 worker nodes, and what a job costs over a direct call; writes docs/benchmarks-sweep.md/.json.

Scaling: the same sweep (tests/fixtures/models/tiny_cnn.keras, four option sets
x host-c and qemu-m4: 4 conversions and 8 profiles) on a Ray cluster started
here (``ray.cluster_utils.Cluster``: a head without CPUs for jobs and N worker
nodes of one CPU each, every node offering the TensorFlow ability and one
host-c and one qemu-m4 slot), each run with an empty build cache so both
build the same firmware. Throughput is jobs per second of wall time; the
ratio is the 2-node throughput over the 1-node one, both measured in one run.

Overhead: K copies of a small int8 model profiled on host-c through a sweep
(local process pool, then local Ray) against the same ``edgeq.profiling.profile``
call made directly in this process; the per-job overhead is the median time
a job spends in the sweep (handed to the executor -> its record saved) minus
the median direct call, both on a warm build cache.

Usage: ``python scripts/bench_sweep.py [--render]`` (``--render`` rewrites the Markdown from the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "benchmarks-sweep"
FIXTURES = ROOT / "tests" / "fixtures"
TARGETS = ["host-c", "qemu-m4"]
OPTION_SETS = [{"samples": 20, "seed": s} for s in (1, 2, 3, 4)]
RUNS, WARMUP, COPIES = 20, 2, 6


def _sweep_file(folder: Path, **doc) -> Path:
    import yaml

    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _run(sweep: Path, out: Path, **options) -> tuple[float, dict]:
    from edgeq.sweep.results import load_results
    from edgeq.sweep.runner import start_sweep
    from edgeq.sweep.spec import load_spec

    start = time.perf_counter()
    with start_sweep(load_spec(sweep), out, **options) as scheduler:
        for _ in scheduler.run():
            pass
    return time.perf_counter() - start, load_results(out)


def scaling(work: Path) -> dict:
    """The conversion sweep on 1 and 2 worker nodes."""
    from ray.cluster_utils import Cluster

    from edgeq.sweep.executor import job_resources

    shutil.copy(FIXTURES / "models" / "tiny_cnn.keras", work / "tiny_cnn.keras")
    import numpy as np

    np.save(work / "calib.npy", np.random.default_rng(0).random((40, 12, 12, 3), dtype=np.float32))
    doc = dict(models=["tiny_cnn.keras"], data="calib.npy", convert=OPTION_SETS, targets=TARGETS, runs=RUNS)
    sweep = _sweep_file(work, **doc, warmup=WARMUP)
    node = {k: v for kind in ("convert", "profile") for t in TARGETS for k, v in job_resources(kind, t).items()}
    rows = {}
    for nodes in (1, 2):
        os.environ["EDGEQ_CACHE"] = str(work / f"cache-{nodes}")  # inherited by the nodes started below
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
        for _ in range(nodes):
            cluster.add_node(num_cpus=1, resources=node)
        cluster.wait_for_nodes()
        try:
            seconds, results = _run(sweep, work / f"out-{nodes}", farm=cluster.address)
        finally:
            cluster.shutdown()
        records = results["records"]
        assert all(r["status"] == "ok" for r in records), [r["error"] for r in records if r["error"]]
        rows[nodes] = {"nodes": nodes, "jobs": len(records), "seconds": seconds, "jobs_per_s": len(records) / seconds}
        print(f"{nodes} node(s): {len(records)} jobs in {seconds:.1f} s", file=sys.stderr)
    return {"rows": list(rows.values()), "ratio": rows[2]["jobs_per_s"] / rows[1]["jobs_per_s"]}


def overhead(work: Path) -> dict:
    """Per-job overhead of the pool and local Ray against direct profile calls (warm cache)."""
    from edgeq.profiling import profile
    from edgeq.sweep.executor import ray_available

    os.environ["EDGEQ_CACHE"] = str(work / "cache-overhead")
    model = FIXTURES / "tflite" / "conv_int8.tflite"
    names = []
    for k in range(COPIES):
        shutil.copy(model, work / f"m{k}.tflite")
        names.append(f"m{k}.tflite")
    sweep = _sweep_file(work, models=names, targets=["host-c"], runs=50, warmup=5)
    profile(model, "host-c", runs=50, warmup=5)  # builds the engine into the cache
    direct = []
    for k in range(COPIES):
        start = time.perf_counter()
        profile(work / names[k], "host-c", runs=50, warmup=5)
        direct.append(time.perf_counter() - start)
    out = {"direct_s": statistics.median(direct), "executors": []}
    for executor in ("pool", "ray") if ray_available() else ("pool",):
        seconds, results = _run(sweep, work / f"out-{executor}", executor=executor)
        per_job = statistics.median(r["seconds"] for r in results["records"])
        row = {"executor": executor, "sweep_s": seconds, "job_s": per_job, "overhead_s": per_job - out["direct_s"]}
        out["executors"].append(row)
        print(f"{executor}: job {per_job:.3f} s vs direct {out['direct_s']:.3f} s", file=sys.stderr)
    return out


def render(data: dict) -> str:
    s = data["scaling"]
    lines = [
        "# edgeq sweep: scaling over Ray nodes and per-job overhead",
        "",
        f"Measured by `scripts/bench_sweep.py` on {data['machine']} (Python {data['python']}, Ray {data['ray']}).",
        "",
        "## One and two worker nodes",
        "",
        "The same sweep (tiny_cnn.keras, 4 option sets x host-c and qemu-m4: 4 conversions, 8 profiles of "
        f"{RUNS} runs) on a Ray cluster started on this machine: a head with no CPUs for jobs and 1 or 2 worker nodes "
        "of one CPU each (TensorFlow, host-c and qemu-m4 on every node), each run on an empty build cache. "
        "Wall time is from reading the sweep file to the last saved record.",
        "",
        "| worker nodes | jobs | wall s | jobs/s |",
        "|---:|---:|---:|---:|",
    ]
    for r in s["rows"]:
        lines.append(f"| {r['nodes']} | {r['jobs']} | {r['seconds']:.1f} | {r['jobs_per_s']:.3f} |")
    lines += [
        "",
        f"Throughput ratio, 2 nodes over 1: **{s['ratio']:.2f}x** (both measured in the same run). "
        "The nodes share this machine's CPUs, so the ratio is bounded by them; on separate machines each node "
        "brings its own.",
        "",
        "## Per-job overhead",
        "",
        f"{COPIES} copies of tests/fixtures/tflite/conv_int8.tflite profiled on host-c (50 runs, 5 warm-up) "
        "through a local sweep, against the same `edgeq.profiling.profile` call made directly, build cache warm. "
        "Job time: median of the records' `seconds` (handed to the executor -> record saved). "
        "Sweep wall time includes starting the executor (workers, or the local Ray instance).",
        "",
        f"Direct call: {data['overhead']['direct_s']:.3f} s (median).",
        "",
        "| executor | sweep wall s | job s (median) | overhead per job s |",
        "|---|---:|---:|---:|",
    ]
    for r in data["overhead"]["executors"]:
        lines.append(f"| {r['executor']} | {r['sweep_s']:.2f} | {r['job_s']:.3f} | {r['overhead_s']:+.3f} |")
    lines += [
        "",
        "Records keep `seconds` to the millisecond, so an overhead within +-0.002 s is none that this measures. "
        "Ray's per-job cost is its task submission, scheduling and result transfer; it is paid once per job, "
        "so it matters for jobs of milliseconds, not for conversions and emulated profiles of seconds.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true", help="only rewrite the Markdown from the JSON")
    args = parser.parse_args()
    if args.render:
        data = json.loads(OUT.with_suffix(".json").read_text())
    else:
        import ray

        from edgeq.log import setup_logging
        from edgeq.tempdirs import process_tempdir

        setup_logging(0)
        data = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "python": platform.python_version()}
        data["ray"] = ray.__version__
        with process_tempdir(), tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            (Path(tmp) / "a").mkdir()
            (Path(tmp) / "b").mkdir()
            data["overhead"] = overhead(Path(tmp) / "b")
            data["scaling"] = scaling(Path(tmp) / "a")
        OUT.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    OUT.with_suffix(".md").write_text(render(data))


if __name__ == "__main__":
    main()
