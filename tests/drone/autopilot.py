"""A simulated autopilot for tests: pymavlink on loopback UDP only, heartbeat at 1 Hz, every message it receives kept.

It listens on ``udpin:127.0.0.1:PORT`` (bound to 127.0.0.1 explicitly), so
edgeq connects with ``udpout:127.0.0.1:PORT``; like an ArduPilot UDP port it
answers the addresses it has heard from. It sends HEARTBEAT as a quadrotor
running ArduPilot (MAV_TYPE_QUADROTOR, MAV_AUTOPILOT_ARDUPILOTMEGA), at 1 Hz
and once at once when a new peer first speaks.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

os.environ["MAVLINK20"] = "1"  # before pymavlink is imported: DEBUG_FLOAT_ARRAY needs MAVLink 2
from pymavlink import mavutil  # noqa: E402


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    type: str
    fields: dict[str, Any]
    sysid: int
    compid: int
    at: float  # time.monotonic() on arrival


@dataclass
class Autopilot:
    """Run with ``start()``, end with ``stop()`` (socket closed, heartbeat stopped); ``received`` holds messages."""

    port: int
    sysid: int = 1
    compid: int = 1
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.conn: Any = None

    def start(self) -> Autopilot:
        self.conn = mavutil.mavlink_connection(
            f"udpin:127.0.0.1:{self.port}", source_system=self.sysid, source_component=self.compid
        )
        self._thread = threading.Thread(target=self._run, name=f"autopilot-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.conn is not None:
            self.conn.close()

    def __enter__(self) -> Autopilot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _heartbeat(self) -> None:
        self.conn.mav.heartbeat_send(
            mavutil.mavlink.MAV_TYPE_QUADROTOR,
            mavutil.mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
            0,
            0,
            mavutil.mavlink.MAV_STATE_STANDBY,
        )

    def _run(self) -> None:
        next_beat, peers = 0.0, 0
        while not self._stop.is_set():
            now = time.monotonic()
            if self.conn.clients and (now >= next_beat or len(self.conn.clients) != peers):
                peers = len(self.conn.clients)
                self._heartbeat()
                next_beat = now + 1.0
            msg = self.conn.recv_msg()
            if msg is None:
                self.conn.select(0.01)
                continue
            if msg.get_type() == "BAD_DATA":
                continue
            item = Received(
                msg.get_type(), msg.to_dict(), msg.get_srcSystem(), msg.get_srcComponent(), time.monotonic()
            )
            with self._lock:
                self.received.append(item)

    def messages(self, kind: str) -> list[Received]:
        with self._lock:
            return [m for m in self.received if m.type == kind]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """The messages of ``kind`` once at least ``count`` arrived (AssertionError after ``timeout``)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = self.messages(kind)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{count} {kind} messages expected within {timeout} s, got {len(self.messages(kind))}")
