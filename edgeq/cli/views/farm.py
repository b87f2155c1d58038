"""``edgeq farm``: an agent's plan and the farm's status, as text."""

from __future__ import annotations

from typing import Any

from edgeq.textfmt import format_table


def render_plan(summary: dict[str, Any]) -> str:
    """What ``edgeq farm agent`` found and will offer."""
    lines = [f"node address: {summary['node_ip']}", f"abilities: {', '.join(summary['abilities']) or 'none'}"]
    lines += [f"  {d['resource']}: {d['key']}" for d in summary["devices"]] or ["  no boards found"]
    lines += [f"warning: {w}" for w in summary["warnings"]]
    return "\n".join(lines)


def render_status(hosts: list[dict[str, Any]], cleared: int) -> str:
    """``edgeq farm status``: one row per host and board kind, then the unhealthy boards."""
    if not hosts:
        return "no hosts"
    rows = []
    for host in hosts:
        where = f"{host['address']}{' (head)' if host['head'] else ''} {host['node_id'][:8]}"
        abilities = ",".join(host["abilities"]) or "-"
        kinds = host["boards"] or {"-": {"total": 0, "free": 0, "busy": 0, "unhealthy": 0}}
        for kind, b in kinds.items():
            rows.append([where, kind, str(b["total"]), str(b["free"]), str(b["busy"]), str(b["unhealthy"]), abilities])
            where, abilities = "", ""
    text = format_table(["host", "boards", "total", "free", "busy", "unhealthy", "abilities"], rows)
    bad = [f"unhealthy: {m['where']} on {h['address']}: {m['reason']}" for h in hosts for m in h["unhealthy"]]
    if cleared:
        bad.append(f"cleared {cleared} unhealthy mark(s)")
    return "\n".join([text, *bad])
