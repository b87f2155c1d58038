"""A real Ray cluster on this machine for farm tests: a head and worker hosts started with ``edgeq farm agent``.

Every process binds to 127.0.0.1. The fixture stops exactly the processes it
started, by pid (never ``ray stop``, which would end every Ray process of the
machine), and can list the sockets of those processes (``ss``) so tests check
that none listens beyond loopback.

``farm_cluster`` (module scope) yields a :class:`FarmCluster`; start-up takes
a few seconds per node, so a test module shares one. The workers' boards come
from ``WORKERS`` (or ``farm_workers``, a module-level dict of a test module):
name -> farm.yaml mapping.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from edgeq import procs

BIN = Path(sys.executable).parent
# Two worker hosts, each with one emulated Cortex-M4 board and two host-c slots.
WORKERS = {
    "w1": {"num_cpus": 2, "qemu": {"qemu-m4": 1}, "host": {"host-c": 2}},
    "w2": {"num_cpus": 2, "qemu": {"qemu-m4": 1}, "host": {"host-c": 2}},
}
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_enable_metrics_collection": "0",  # no metrics exporter on the node
    "RAY_health_check_period_ms": "1000",  # a killed host is noticed in seconds
    "RAY_health_check_failure_threshold": "3",
}
START_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """``pid`` and every process below it (read from /proc)."""
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return {p for p in found if Path(f"/proc/{p}").exists()}


def sockets_of(pids: set[int]) -> list[tuple[str, str, int]]:
    """(state, local address, pid) of every TCP/UDP socket of ``pids`` (from ``ss -tunap``)."""
    out = subprocess.run(["ss", "-tunapH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 6:
            continue
        for pid in map(int, re.findall(r"pid=(\d+)", line)):
            if pid in pids:
                found.append((parts[1], parts[4], pid))
    return found


def _stop(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM ``proc`` and whatever it started, SIGKILL what is left after ``grace`` seconds."""
    family = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in family):
        time.sleep(0.2)
    for pid in family:
        if Path(f"/proc/{pid}").exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@dataclass
class FarmCluster:
    """A running head and worker agents; ``address`` is HEAD:PORT for --farm and --address."""

    address: str
    root: Path
    head: subprocess.Popen
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)
    fault_files: dict[str, Path] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def pids(self) -> set[int]:
        """Every live process this cluster started (head, agents and everything below them)."""
        found: set[int] = set()
        for proc in [self.head, *self.workers.values()]:
            found |= descendants(proc.pid)
        return found

    def sockets(self) -> list[tuple[str, str, int]]:
        return sockets_of(self.pids())

    def beyond_loopback(self) -> list[tuple[str, str, int]]:
        """The sockets of the cluster's processes bound or connected to anything but 127.0.0.1."""
        loopback = ("127.0.0.1:", "[::ffff:127.0.0.1]:")
        return [s for s in self.sockets() if not s[1].startswith(loopback)]

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Kill worker ``name``'s agent by pid (its Ray node dies with it); returns the pid."""
        proc = self.workers[name]
        family = descendants(proc.pid)
        for pid in sorted(family):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        proc.wait(timeout=30)
        return proc.pid

    def break_board(self, name: str) -> Path:
        """Make the next job on worker ``name`` fail like a board that stopped answering (once)."""
        path = self.fault_files[name]
        path.write_text("fail once\n")
        return path

    def stop(self) -> None:
        grace = 20.0 if self.head.poll() is None else 2.0  # without a head, a node's orderly stop only waits
        for proc in self.workers.values():
            _stop(proc, grace)
        _stop(self.head)


def start_head(root: Path, port: int) -> subprocess.Popen:
    from edgeq.farm.agent import ray_start

    env = {**os.environ, **RAY_ENV}
    cmd = [
        *ray_start(loopback=True),
        "--head",
        f"--port={port}",
        "--node-ip-address=127.0.0.1",
        "--include-dashboard=false",
        "--dashboard-host=127.0.0.1",
        "--num-cpus=0",
        f"--temp-dir={root / 'h'}",
        "--disable-usage-stats",
        "--block",
    ]
    log = open(root / "head.log", "wb")  # noqa: SIM115 - closed with the process
    return procs.popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)  # dies with pytest


def start_agent(root: Path, address: str, name: str, config: dict) -> tuple[subprocess.Popen, Path]:
    (root / name).mkdir(exist_ok=True)
    path = root / name / "farm.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    fault = root / name / "fault"
    env = {**os.environ, **RAY_ENV, "EDGEQ_FARM_FAULT_FILE": str(fault)}
    cmd = [
        str(BIN / "edgeq"),
        "farm",
        "agent",
        f"--address={address}",
        f"--config={path}",
        "--node-ip=127.0.0.1",
        f"--state-dir={root / name / 's'}",
        f"--ray-arg=--temp-dir={root / name / 't'}",
        f"--ray-arg=--dashboard-agent-listen-port={free_port()}",
    ]
    log = open(root / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return procs.popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), fault


def wait_for(address: str, expected: dict[str, float], started: list[subprocess.Popen], root: Path) -> None:
    """Wait until the cluster's total resources include ``expected`` (summed over the workers)."""
    from edgeq.farm.cluster import FarmError, connect

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in started):
            break
        try:
            with connect(address) as ray:
                while time.monotonic() < deadline:
                    total = ray.cluster_resources()
                    if all(total.get(k, 0) >= v for k, v in expected.items()):
                        return
                    time.sleep(0.5)
        except FarmError:
            time.sleep(1)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(root.glob("*.log")))
    raise RuntimeError(f"the farm did not come up in {START_TIMEOUT_S:g} s\n{logs}")


def expected_resources(workers: dict[str, dict]) -> dict[str, float]:
    from edgeq.farm.resources import target_resource

    total: dict[str, float] = {}
    for config in workers.values():
        for group in ("qemu", "host"):
            for target, count in config.get(group, {}).items():
                total[target_resource(target)] = total.get(target_resource(target), 0) + count
    return total


@pytest.fixture(scope="module")
def farm_cluster(request):
    """A head and worker agents on 127.0.0.1 for the whole test module; stopped by pid afterwards.

    Every process of the cluster, and this one as its driver, uses Ray's token
    authentication with a token made for the cluster.
    """
    pytest.importorskip("ray")
    if shutil.which("ss") is None:
        pytest.skip("needs ss (iproute2) to check the cluster's sockets")
    workers = getattr(request.module, "farm_workers", WORKERS)
    root = Path(tempfile.mkdtemp(prefix="eqf", dir="/tmp"))  # short: Ray's socket paths have a length limit
    (root / "token").write_text(secrets.token_hex(32))
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(root / "token")}
    saved = {k: os.environ.get(k) for k in auth}
    os.environ.update(auth)
    _reset_token_cache()
    port = free_port()
    address = f"127.0.0.1:{port}"
    head = start_head(root, port)
    cluster = FarmCluster(address, root, head)
    try:
        wait_for(address, {}, [head], root)
        for name, config in workers.items():
            cluster.workers[name], cluster.fault_files[name] = start_agent(root, address, name, config)
        wait_for(address, expected_resources(workers), [head, *cluster.workers.values()], root)
        outside = cluster.beyond_loopback()
        assert not outside, f"Ray sockets beyond 127.0.0.1 (state, address, pid): {outside}"
        yield cluster
    finally:
        cluster.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _reset_token_cache()
        shutil.rmtree(root, ignore_errors=True)


def _reset_token_cache() -> None:
    """Ray's token loader caches the token; make it read the environment again."""
    from ray._raylet import AuthenticationTokenLoader, Config

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()
