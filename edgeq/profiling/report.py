"""Compare profiled targets in one file: self-contained HTML (inline CSS and SVG plots) or a Markdown table.

The HTML needs nothing at view time: no scripts, fonts or images from the
network. Estimated figures carry a ``~`` in tables and are drawn orange with a
dashed outline in plots; every figure's provenance is listed beside it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

from edgeq import __version__
from edgeq.errors import UsageError
from edgeq.measurements import OpTime
from edgeq.outputs import atomic_write
from edgeq.profiling import charts
from edgeq.profiling.types import ProfileResult

FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}
HEADERS = (
    "target",
    "latency",
    "mean ms",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "max ms",
    "std ms",
    "instructions",
    "cycles",
    "RAM B",
    "flash B",
    "peak RSS B",
    "energy uJ",
    "energy",
)
PROVENANCE_HEADERS = ("target", "runs", "latency source", "energy source")


def report_format(path: str | Path) -> str:
    """``html`` or ``md`` from the file extension; UsageError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"report file {path}: unknown extension {suffix or '(none)'!r}; allowed: .html, .md")
    return FORMATS[suffix]


def write_report(results: list[ProfileResult], path: Path) -> None:
    """Write the comparison of ``results`` to ``path`` (.html or .md), atomically.

    Args:
        results: One profile per target, in the order to show them (with per-op times where collected).
        path: ``*.html`` for the self-contained report with plots, ``*.md`` for the tables and notes.

    Raises:
        UsageError: An unknown extension, a folder or no results.
    """
    kind = report_format(path)
    if not results:
        raise UsageError("no profile results to report; give at least one --target")
    if Path(path).is_dir():
        raise UsageError(f"report file {path} is a folder; give a file name such as {Path(path) / f'report.{kind}'}")
    text = render_html(results) if kind == "html" else render_markdown(results)
    atomic_write(Path(path), text.encode())


def table_rows(results: list[ProfileResult]) -> list[list[str]]:
    """One row per target under :data:`HEADERS`; estimated figures start with ``~``, missing ones are ``-``."""
    return [_row(r) for r in results]


def _row(r: ProfileResult) -> list[str]:
    lat, mem, energy = r.latency, r.timing.memory, r.timing.energy
    est = "~" if r.timing.latency_kind == "estimated" else ""
    cells = [f"{est}{_ms(v)}" for v in (lat.mean, lat.p50, lat.p90, lat.p99, lat.max)]
    return [
        r.target,
        r.timing.latency_kind,
        *cells,
        _ms(lat.std),
        _int(r.timing.instructions),
        cycles_cell(r),
        _int(mem.ram_bytes),
        _int(mem.flash_bytes),
        _int(mem.peak_rss_bytes),
        "-" if energy is None else f"{'~' if energy.kind == 'estimated' else ''}{energy.value:.4g}",
        "-" if energy is None else energy.kind,
    ]


def cycles_cell(r: ProfileResult) -> str:
    """Cycles per inference, ``~`` for an estimate, ``-`` when the target has none."""
    c = r.timing.cycles
    return "-" if c is None else f"{'~' if c.kind == 'estimated' else ''}{c.value:,.0f}"


def op_rows(ops: tuple[OpTime, ...]) -> tuple[tuple[str, ...], list[list[str]]]:
    """Headers and rows of a per-op table; instruction, cycle and MAC columns where the target counts them."""
    counted = any(o.cycles is not None for o in ops)
    headers: tuple[str, ...] = ("step", "op", "name", "mean us", "p50 us")
    if counted:
        headers += ("instructions", "cycles", "MACs", "MACs / cycle")
    rows = []
    for o in ops:
        est = "~" if o.cycles is not None else ""
        row = [str(o.position), str(o.op_index), o.detail or o.name, f"{est}{o.mean_us:.2f}", f"{est}{o.p50_us:.2f}"]
        if counted:
            per = "-" if not o.macs or not o.cycles else f"{o.macs / o.cycles:.3f}"
            row += [_int(o.instructions), "-" if o.cycles is None else f"~{o.cycles:,.0f}", _int(o.macs), per]
        rows.append(row)
    return headers, rows


def _ms(value: float) -> str:
    return f"{value:.4f}" if value < 10 else f"{value:.2f}"


def _int(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def provenance_rows(results: list[ProfileResult]) -> list[list[str]]:
    """Where every target's figures come from: runs, latency kind and source, energy kind and source."""
    rows = []
    for r in results:
        t = r.timing
        energy = "no energy figure" if t.energy is None else f"{t.energy.kind}: {t.energy.source}"
        rows.append([r.target, f"{r.runs} after {r.warmup} warm-up", f"{t.latency_kind}: {t.latency_source}", energy])
    return rows


def notes(results: list[ProfileResult]) -> list[str]:
    """Each target's notes and deadline verdict, prefixed with the target."""
    out = []
    for r in results:
        if r.deadline_ms is not None:
            missed = r.deadline_missed_by_ms
            verdict = "held" if missed is None else f"missed: p99 is {missed:.4g} ms over"
            out.append(f"{r.target}: deadline {r.deadline_ms:g} ms {verdict}")
        out.extend(f"{r.target}: {note}" for note in r.timing.notes)
    return out


def render_markdown(results: list[ProfileResult]) -> str:
    """The comparison table, the provenance table, per-op tables where given, and the notes."""
    lines = [f"# edgeq profile: {_models(results)}", "", _md_table(HEADERS, table_rows(results)), ""]
    lines += ["`~` marks an estimate (see the sources below).", "", "## Sources", ""]
    lines += [_md_table(PROVENANCE_HEADERS, provenance_rows(results)), ""]
    for target, ops in _op_times(results).items():
        if ops:
            headers, rows = op_rows(ops)
            lines += [f"## Time per op: {target}", "", f"Source: {ops[0].source}.", ""]
            lines += [_md_table(headers, rows), ""]
    found = notes(results)
    if found:
        lines += ["## Notes", "", *(f"- {n}" for n in found), ""]
    return "\n".join(lines)


def _md_table(headers: tuple[str, ...], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    align = ["---" if k == 0 or not rows or not _numeric(rows[0][k]) else "---:" for k in range(len(headers))]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _numeric(text: str) -> bool:
    return text.lstrip("~").replace(",", "").replace(".", "", 1).isdigit() or text == "-"


def _models(results: list[ProfileResult]) -> str:
    return ", ".join(dict.fromkeys(Path(r.model).name for r in results))


def render_html(results: list[ProfileResult]) -> str:
    """The self-contained HTML report (see the module docstring)."""
    deadline = next((r.deadline_ms for r in results if r.deadline_ms is not None), None)
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=f"edgeq profile: {_models(results)}",
        version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        headers=HEADERS,
        rows=table_rows(results),
        provenance_headers=PROVENANCE_HEADERS,
        provenance=provenance_rows(results),
        comparison=charts.latency_comparison(results, deadline),
        targets=[_target_section(r, deadline) for r in results],
        energy=charts.energy_chart(results),
        notes=notes(results),
    )


def _op_times(results: list[ProfileResult]) -> dict[str, tuple[OpTime, ...]]:
    """Per-op times by target, for the profiles that hold them (first profile of a target wins)."""
    found: dict[str, tuple[OpTime, ...]] = {}
    for r in results:
        if r.op_times is not None:
            found.setdefault(r.target, r.op_times)
    return found


def _target_section(r: ProfileResult, deadline: float | None) -> dict[str, Any]:
    ops = r.op_times
    section: dict[str, Any] = {"name": r.target, "estimated": charts.is_estimated(r), "ops": None}
    section["histogram"] = charts.latency_histogram(r, deadline)
    section["why_no_ops"] = r.no_op_times or (
        "the model has no kernel calls" if ops is not None else "per-op times were not collected"
    )
    if ops:
        total_us = sum(o.mean_us for o in ops)
        section["ops"] = charts.op_chart(r.target, ops)
        section["ops_source"] = ops[0].source
        how = "counted in the same runs" if r.timing.ops is not None else "timed in a separate build and run"
        section["ops_cover"] = (
            f"sum of the ops {total_us:.4g} us; mean invoke {1e3 * r.latency.mean:.4g} us "
            f"({100 * total_us / (1e3 * r.latency.mean):.0f}%, {how})"
        )
    return section


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("edgeq.profiling", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


__all__ = ["render_html", "render_markdown", "report_format", "table_rows", "write_report"]
