"""RESULTS_DIR/report.html: the sweep's answer in one self-contained file (inline CSS and SVG, no scripts).

The pick per target under the budgets, the Pareto plots (accuracy against p99
latency, RAM and flash), every configuration, and the jobs that failed or were
skipped. The cells are shared with the terminal table (:func:`cells`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from edgeq import __version__
from edgeq.outputs import atomic_write
from edgeq.sweep.analysis import AXES, Budgets, best_by_target, configurations, pareto
from edgeq.sweep.charts import describe, pareto_chart

REPORT = "report.html"
HEADERS = (
    "model",
    "options",
    "target",
    "status",
    "size B",
    "accuracy %",
    "drop pts",
    "p50 ms",
    "p99 ms",
    "instructions",
    "cycles",
    "RAM B",
    "flash B",
    "energy uJ",
)


def options_text(options: dict[str, Any] | None) -> str:
    if options is None:
        return "as given"
    return " ".join(f"{k}={v}" for k, v in options.items()) or "defaults"


def _num(value: Any, spec: str = ",", prefix: str = "") -> str:
    if value is None:
        return "-"
    return prefix + format(value, spec)


def cells(row: dict[str, Any]) -> list[str]:
    """One configuration as table cells; ``~`` marks estimated latencies."""
    est = "~" if row["estimated"] else ""
    accuracy = None if row["accuracy"] is None else 100 * row["accuracy"]
    return [
        row["model"],
        options_text(row["options"]),
        row["target"],
        row["status"],
        _num(row["size_bytes"]),
        _num(accuracy, ".2f"),
        _num(row["accuracy_drop"], "+.2f"),
        _num(row["p50_ms"], ".4g", est),
        _num(row["p99_ms"], ".4g", est),
        _num(row["instructions"]),
        _num(None if row["cycles"] is None else round(row["cycles"]), ",", "~"),
        _num(row["ram_bytes"]),
        _num(row["flash_bytes"]),
        _num(row["energy_uj"], ".4g", "~"),
    ]


def budgets_text(budgets: Budgets) -> str:
    parts = [
        f"accuracy drop <= {budgets.max_drop:g} points" if budgets.max_drop is not None else "",
        f"p99 <= {budgets.deadline_ms:g} ms" if budgets.deadline_ms is not None else "",
        f"RAM <= {budgets.max_ram:,} B" if budgets.max_ram is not None else "",
        f"flash <= {budgets.max_flash:,} B" if budgets.max_flash is not None else "",
    ]
    return ", ".join(p for p in parts if p) or "no budgets"


def picks(rows: list[dict[str, Any]], budgets: Budgets) -> list[dict[str, Any]]:
    """Per target: the pick's description and cells, or why there is none."""
    out = []
    for target, found in best_by_target(rows, budgets).items():
        pick = found["pick"]
        out.append(
            {
                "target": target,
                "checked": found["checked"],
                "pick": None if pick is None else describe(pick),
                "cells": None if pick is None else cells(pick),
                "why_none": found["why_none"],
            }
        )
    return out


def render_html(doc: dict[str, Any], budgets: Budgets) -> str:
    records = doc["records"]
    rows = configurations(records)
    charts = []
    for metric, unit in AXES.items():
        charts.append({"metric": metric, "unit": unit, "svg": pareto_chart(rows, pareto(rows, metric), metric, unit)})
    counts: dict[str, int] = {}
    for r in records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=f"edgeq sweep: {doc.get('name', '')}",
            version=__version__,
            generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            counts=counts,
            budgets=budgets_text(budgets),
            picks=picks(rows, budgets),
            charts=charts,
            headers=HEADERS,
            rows=[cells(r) for r in rows],
            problems=[r for r in records if r["status"] in ("failed", "skipped")],
            labelled=any(r["accuracy"] is not None for r in rows),
        )
    )


def write_report(folder: str | Path, doc: dict[str, Any], budgets: Budgets) -> Path:
    """Write ``report.html`` into the results folder, atomically; returns its path."""
    path = Path(folder) / REPORT
    atomic_write(path, render_html(doc, budgets).encode())
    return path


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("edgeq.sweep", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
