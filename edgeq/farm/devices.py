"""The boards of one host and which of them a job holds.

The agent writes the host's devices to ``devices.json`` in its state folder
and passes that folder to Ray's processes in ``$EDGEQ_FARM_STATE``, so a job
that Ray places on the host reads them there. Ray's resources guarantee how
many jobs hold a board of a kind at once; an exclusive ``fcntl`` lock on
``locks/<device>.lock`` decides which board each of them gets.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from edgeq.errors import DeviceError

ENV_STATE = "EDGEQ_FARM_STATE"
DEVICES_FILE = "devices.json"
BUSY_PAUSE_S = 1.0  # before giving a job back to Ray when no healthy board is free here


@dataclass(frozen=True)
class Device:
    """One board (or emulator slot) of a host.

    ``key`` is unique on the host; ``resource`` is the Ray resource one unit of
    which is this device; ``target`` is what a job runs on it (``qemu-m4``,
    ``host-c``, ``serial`` for a flashed board on ``port``, ``ssh://...``).
    """

    key: str
    resource: str
    target: str
    board: str | None = None
    port: str | None = None
    serial_number: str | None = None
    fingerprint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Device:
        values: dict[str, Any] = {f.name: data.get(f.name) for f in fields(cls)}
        return cls(**values)

    @property
    def where(self) -> str:
        """How a person finds the device: its port, address or slot."""
        return self.port or self.key


def write_devices(folder: Path, devices: list[Device]) -> Path:
    """Record ``devices`` in ``folder`` (created) for the jobs of this host; returns the file."""
    (folder / "locks").mkdir(parents=True, exist_ok=True)
    path = folder / DEVICES_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([d.to_dict() for d in devices], indent=1))
    tmp.replace(path)
    return path


def host_devices(folder: Path | None = None) -> list[Device] | None:
    """The devices the agent of this host recorded, or None on a host without an agent."""
    folder = folder or state_folder()
    if folder is None or not (folder / DEVICES_FILE).is_file():
        return None
    return [Device.from_dict(d) for d in json.loads((folder / DEVICES_FILE).read_text())]


def state_folder() -> Path | None:
    """The agent's state folder named by ``$EDGEQ_FARM_STATE`` (None when unset)."""
    value = os.environ.get(ENV_STATE)
    return Path(value) if value else None


def _lock_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", key) + ".lock"


@contextlib.contextmanager
def acquire(resource: str, unhealthy: set[str], folder: Path | None = None) -> Iterator[Device | None]:
    """Hold one free device of ``resource`` on this host (not in ``unhealthy``) for the block.

    Yields None on a host without an agent (a local Ray instance), or whose
    agent recorded no device of that resource (nothing to choose between).
    DeviceError when every healthy device of the kind is held or none is
    healthy: Ray retries the job, on this host or another.
    """
    folder = folder or state_folder()
    devices = host_devices(folder)
    mine = [d for d in devices or () if d.resource == resource]
    if folder is None or not mine:
        yield None
        return
    for device in (d for d in mine if d.key not in unhealthy):
        with _try_lock(folder / "locks" / _lock_name(device.key)) as held:
            if held:
                yield device
                return
    time.sleep(BUSY_PAUSE_S)  # let the hold on an unhealthy board take its unit before Ray retries
    healthy = len([d for d in mine if d.key not in unhealthy])
    raise DeviceError(f"no free healthy {resource} on this host ({healthy} of {len(mine)} healthy, all busy)")


@contextlib.contextmanager
def _try_lock(path: Path) -> Iterator[bool]:
    """An exclusive non-blocking lock on ``path`` for the block; yields whether it was taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
