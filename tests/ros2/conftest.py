"""Real ROS 2 (rclpy, Fast DDS) on this machine only: every socket on 127.0.0.1, one DDS domain per test.

Fast DDS reads the loopback profile (UDPv4 on 127.0.0.1, no shared-memory
transport, so a killed process leaves no /dev/shm segments) once per process,
so it is set here for the test process and passed to every node started.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rclpy
import rclpy.executors

from edgeq.resources import package_dir

PROFILE = str(package_dir("edgeq", "ros2") / "fastdds_loopback.xml")
os.environ["FASTRTPS_DEFAULT_PROFILES_FILE"] = PROFILE
os.environ.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
_domains = itertools.count((os.getpid() * 7) % 60 + 100)  # 100..~200: away from the default domain 0


@pytest.fixture
def ros_env(tmp_path: Path) -> dict[str, str]:
    """The environment of one test's ROS processes: its own domain, the loopback profile, logs in tmp_path."""
    return dict(
        os.environ,
        ROS_DOMAIN_ID=str(next(_domains) % 232),
        FASTRTPS_DEFAULT_PROFILES_FILE=PROFILE,
        ROS_LOG_DIR=str(tmp_path / "ros-log"),
        PYTHONUNBUFFERED="1",
    )


class Peer:
    """The test's own rclpy node in the test's domain: publishes inputs, collects what arrives."""

    def __init__(self, domain: int) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node("edgeq_test_peer", context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received: dict[str, list[Any]] = {}

    def listen(self, msg_type: Any, topic: str, qos: Any = 100) -> list[Any]:
        got = self.received.setdefault(topic, [])
        self.node.create_subscription(msg_type, topic, got.append, qos)
        return got

    def publisher(self, msg_type: Any, topic: str, qos: Any = 100) -> Any:
        return self.node.create_publisher(msg_type, topic, qos)

    def spin_until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            self.executor.spin_once(timeout_sec=0.05)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()


@pytest.fixture
def peer(ros_env: dict[str, str]) -> Iterator[Peer]:
    p = Peer(int(ros_env["ROS_DOMAIN_ID"]))
    yield p
    p.close()


def start_node(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``edgeq ros2 run ARGS`` as a child process of the test (stopped by :func:`stop`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "edgeq", "ros2", "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT, timeout: float = 30) -> tuple[str, str]:
    """Signal exactly this process, wait for it (kill it after ``timeout``); its stdout and stderr."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the node ignored {signal.Signals(sig).name}; stderr: {err[-500:]}") from None
