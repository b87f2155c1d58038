"""The terminal text of ``edgeq sweep``: every configuration, the pick per target, what failed."""

from __future__ import annotations

from typing import Any

from edgeq.sweep.analysis import Budgets, configurations
from edgeq.sweep.report import HEADERS, budgets_text, cells, picks
from edgeq.textfmt import format_table


def render_sweep(doc: dict[str, Any], budgets: Budgets, folder: str, report: str) -> str:
    """One row per configuration (model, option set, target), then the pick per target and the problems."""
    records = doc["records"]
    rows = configurations(records)
    lines = [format_table(list(HEADERS), [cells(r) for r in rows], "llll" + "r" * (len(HEADERS) - 4))]
    lines.append("")
    lines.append(f"best per target ({budgets_text(budgets)}; highest accuracy, then lowest p99):")
    for p in picks(rows, budgets):
        what = p["pick"] if p["pick"] else f"none of {p['checked']}: {p['why_none']}"
        lines.append(f"  {p['target']}: {what}")
    problems = [r for r in records if r["status"] in ("failed", "skipped")]
    for r in problems:
        where = f" on {r['target']}" if r["target"] else ""
        lines.append(f"{r['status']}: {r['kind']} {r['model']}{where} [{r['id']}]: {r['error']}")
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    lines.append(f"{len(records)} jobs ({summary}); results in {folder}/results.json, report {report}")
    return "\n".join(lines)
