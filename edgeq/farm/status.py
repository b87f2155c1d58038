"""``edgeq farm status``: every host of the farm, its boards (total, free, busy, unhealthy) and abilities.

Free and busy come from Ray's available resources per node: a board held by
a job, or by the hold on an unhealthy board, is not available. Unhealthy
boards are counted apart from busy ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgeq.farm.cluster import import_ray
from edgeq.farm.health import clear, marks
from edgeq.farm.resources import CAPABILITIES, PREFIX

KIND_PREFIXES = (f"{PREFIX}target_", f"{PREFIX}board_")


@dataclass(frozen=True)
class Boards:
    """One kind of board on one host."""

    resource: str
    total: int
    free: int
    unhealthy: int

    @property
    def busy(self) -> int:
        return max(self.total - self.free - self.unhealthy, 0)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "free": self.free, "busy": self.busy, "unhealthy": self.unhealthy}


@dataclass(frozen=True)
class Host:
    """One live node of the farm."""

    node_id: str
    address: str
    head: bool
    abilities: tuple[str, ...]
    boards: tuple[Boards, ...]
    unhealthy: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "address": self.address,
            "head": self.head,
            "abilities": list(self.abilities),
            "boards": {kind_name(b.resource): b.to_dict() for b in self.boards},
            "unhealthy": list(self.unhealthy),
        }


def kind_name(resource: str) -> str:
    """``edgeq_target_qemu_m4`` -> ``target:qemu_m4``; ``edgeq_board_nucleo_l4r5zi`` -> ``board:nucleo_l4r5zi``."""
    for prefix in KIND_PREFIXES:
        if resource.startswith(prefix):
            return f"{prefix[len(PREFIX) : -1]}:{resource[len(prefix) :]}"
    return resource


def farm_status() -> list[Host]:
    """The live hosts of the connected cluster (call inside :func:`edgeq.farm.cluster.connect`)."""
    ray = import_ray()
    from ray._private import state

    available = state.available_resources_per_node()
    by_node: dict[str, list[dict[str, Any]]] = {}
    for mark in marks():
        by_node.setdefault(mark["node_id"], []).append(mark)
    hosts = []
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        node_id = node["NodeID"]
        hosts.append(_host(node, available.get(node_id, {}), by_node.get(node_id, [])))
    return sorted(hosts, key=lambda h: (not h.head, h.address, h.node_id))


def _host(node: dict[str, Any], available: dict[str, float], marks: list[dict[str, Any]]) -> Host:
    total: dict[str, float] = node.get("Resources", {})
    abilities = tuple(name for name, res in CAPABILITIES.items() if total.get(res))
    boards = []
    for resource in sorted(r for r in total if r.startswith(KIND_PREFIXES)):
        bad = sum(1 for m in marks if m["device"]["resource"] == resource)
        free = int(available.get(resource, 0))
        boards.append(Boards(resource, int(total[resource]), free, bad))
    head = any(r.startswith("node:__internal_head__") for r in total)
    unhealthy = tuple(
        {"device": m["device"]["key"], "where": m["device"].get("port") or m["device"]["key"], "reason": m["reason"]}
        for m in marks
    )
    return Host(node["NodeID"], node.get("NodeManagerAddress", ""), head, abilities, tuple(boards), unhealthy)


def forget_dead_nodes() -> int:
    """Drop the unhealthy marks of nodes that are gone (their agent stopped); returns how many."""
    ray = import_ray()
    dead = {n["NodeID"] for n in ray.nodes() if not n.get("Alive")}
    return clear(dead) if dead else 0
