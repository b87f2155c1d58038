"""From job records to answers: one row per configuration, the Pareto front, and the best pick under budgets.

A *configuration* is a model, an option set and a target: its profile, with
the accuracy of its evaluation and the size of its conversion. The terminal
table, the HTML report and ``--json`` all read these rows, so they agree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

# Pareto plots: accuracy against each of these (lower is better), and their titles
AXES = {"p99_ms": "p99 latency, ms", "ram_bytes": "RAM, bytes", "flash_bytes": "flash, bytes"}


@dataclass(frozen=True)
class Budgets:
    """Limits a shipped configuration must meet; None: no limit."""

    max_drop: float | None = None
    deadline_ms: float | None = None
    max_ram: int | None = None
    max_flash: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def misses(self, row: dict[str, Any]) -> str | None:
        """The first budget ``row`` misses (an unknown figure misses a given budget), or None."""
        checks = (
            ("accuracy drop", self.max_drop, row.get("accuracy_drop"), "points"),
            ("p99", self.deadline_ms, row.get("p99_ms"), "ms"),
            ("RAM", self.max_ram, row.get("ram_bytes"), "B"),
            ("flash", self.max_flash, row.get("flash_bytes"), "B"),
        )
        for name, limit, value, unit in checks:
            if limit is None:
                continue
            if value is None:
                return f"{name} unknown"
            if value > limit:
                return f"{name} {value:.4g} {unit} > {limit:.4g}"
        return None


def options_key(model: str, options: Any) -> str:
    return json.dumps([model, options], sort_keys=True)


def configurations(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per profile job, with its configuration's accuracy; in the order of the records."""
    evaluations = {options_key(r["model"], r["options"]): r for r in records if r["kind"] == "evaluate"}
    rows = []
    for r in records:
        if r["kind"] != "profile":
            continue
        ev = evaluations.get(options_key(r["model"], r["options"]), {})
        latency = r.get("latency_ms") or {}
        rows.append(
            {
                "id": r["id"],
                "model": r["model"],
                "options": r["options"],
                "target": r["target"],
                "status": r["status"],
                "error": r["error"],
                "size_bytes": r["size_bytes"],
                "accuracy": ev.get("accuracy"),
                "accuracy_drop": ev.get("accuracy_drop"),
                "p50_ms": latency.get("p50"),
                "p99_ms": latency.get("p99"),
                "mean_ms": latency.get("mean"),
                "estimated": r.get("latency_kind") == "estimated",
                "instructions": r["instructions"],
                "cycles": r["cycles"],
                "ram_bytes": r["ram_bytes"],
                "flash_bytes": r["flash_bytes"],
                "energy_uj": r["energy_uj"],
            }
        )
    return rows


def pareto(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """The rows no other row beats: at least as accurate and at most as costly in ``metric``, better in one.

    Only finished rows with an accuracy and a ``metric`` figure take part.
    """
    points = [r for r in rows if r["status"] == "ok" and r["accuracy"] is not None and r.get(metric) is not None]

    def beaten(r: dict[str, Any]) -> bool:
        return any(
            o["accuracy"] >= r["accuracy"]
            and o[metric] <= r[metric]
            and (o["accuracy"] > r["accuracy"] or o[metric] < r[metric])
            for o in points
        )

    return [r for r in points if not beaten(r)]


def best_by_target(rows: list[dict[str, Any]], budgets: Budgets) -> dict[str, dict[str, Any]]:
    """Per target: the configuration to ship (highest accuracy, then lowest p99) among those within budgets.

    Each value is ``{"pick": row or None, "checked": n, "why_none": str}``.
    """
    out: dict[str, dict[str, Any]] = {}
    for target in dict.fromkeys(r["target"] for r in rows):
        done = [r for r in rows if r["target"] == target and r["status"] == "ok"]
        within = [r for r in done if budgets.misses(r) is None]
        pick = min(within, key=_rank, default=None)
        why = ""
        if pick is None:
            misses = sorted({str(budgets.misses(r)) for r in done})
            why = "no finished profile" if not done else "every configuration misses a budget: " + "; ".join(misses)
        out[target] = {"pick": pick, "checked": len(done), "why_none": why}
    return out


def _rank(row: dict[str, Any]) -> tuple[float, float]:
    accuracy = row["accuracy"] if row["accuracy"] is not None else float("-inf")
    p99 = row["p99_ms"] if row["p99_ms"] is not None else float("inf")
    return (-accuracy, p99)


def summary(doc: dict[str, Any], budgets: Budgets) -> dict[str, Any]:
    """What ``edgeq sweep --json`` prints: counts by status, configurations, Pareto ids, picks."""
    records = doc["records"]
    rows = configurations(records)
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {
        "name": doc.get("name"),
        "jobs": len(records),
        "status": counts,
        "failed": [{"id": r["id"], "kind": r["kind"], "error": r["error"]} for r in records if r["status"] == "failed"],
        "configurations": rows,
        "pareto": {metric: [r["id"] for r in pareto(rows, metric)] for metric in AXES},
        "budgets": budgets.to_dict(),
        "best": {t: (v["pick"] or {}).get("id") for t, v in best_by_target(rows, budgets).items()},
    }
