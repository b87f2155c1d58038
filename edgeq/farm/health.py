"""Boards marked unhealthy, and keeping them out of Ray's offer until cleared.

A job whose board fails (:class:`edgeq.errors.DeviceError`) records a mark in
Ray's internal key-value store (``unhealthy:<node id>:<device key>``) and
starts a detached actor on that node holding the board's resource unit, so
Ray's count of free boards no longer includes it and later jobs go to other
boards. The marks and holds last until the node's agent restarts (its node
goes, and with it the hold; a new agent is a new node) or ``edgeq farm status
--clear`` removes them.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from edgeq.farm.cluster import NAMESPACE, import_ray
from edgeq.farm.devices import Device

PREFIX = "unhealthy:"


def _kv() -> Any:
    import_ray()
    from ray.experimental import internal_kv

    return internal_kv


def _key(node_id: str, device_key: str) -> str:
    return f"{PREFIX}{node_id}:{device_key}"


def mark_unhealthy(device: Device, reason: str) -> None:
    """Record ``device`` of this node as unhealthy and hold its resource unit (call from a job on the node)."""
    ray = import_ray()
    node_id = ray.get_runtime_context().get_node_id()
    mark = {"node_id": node_id, "device": device.to_dict(), "reason": reason, "time": time.time()}
    _kv()._internal_kv_put(_key(node_id, device.key), json.dumps(mark), overwrite=True, namespace=NAMESPACE)
    _hold(ray, node_id, device)


def _hold(ray: Any, node_id: str, device: Device) -> None:
    """A detached actor on ``node_id`` that keeps one unit of the device's resource while the mark stands."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    holder = ray.remote(_Hold).options(
        name=_key(node_id, device.key),
        namespace=NAMESPACE,
        lifetime="detached",
        num_cpus=0,
        resources={device.resource: 1},
        max_restarts=0,
        get_if_exists=True,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
    )
    holder.remote(device.key)


class _Hold:
    """Holds an unhealthy board's resource unit; does nothing else."""

    def __init__(self, key: str) -> None:
        self.key = key

    def device(self) -> str:
        return self.key


def unhealthy_keys(node_id: str) -> set[str]:
    """Keys of the devices of node ``node_id`` marked unhealthy."""
    return {m["device"]["key"] for m in marks() if m["node_id"] == node_id}


def marks() -> list[dict[str, Any]]:
    """Every unhealthy mark of the cluster: node_id, device (a Device dict), reason, time."""
    kv = _kv()
    found = []
    for key in kv._internal_kv_list(PREFIX, namespace=NAMESPACE):
        value = kv._internal_kv_get(key, namespace=NAMESPACE)
        if value is not None:
            found.append(json.loads(value))
    return found


def clear(node_ids: set[str] | None = None) -> int:
    """Remove the marks (of ``node_ids``, or all) and end their holds; returns how many were removed."""
    ray = import_ray()
    kv = _kv()
    removed = 0
    for mark in marks():
        if node_ids is not None and mark["node_id"] not in node_ids:
            continue
        name = _key(mark["node_id"], mark["device"]["key"])
        kv._internal_kv_del(name, namespace=NAMESPACE)
        with contextlib.suppress(ValueError):  # its node went away, and the hold with it
            ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
        removed += 1
    return removed
