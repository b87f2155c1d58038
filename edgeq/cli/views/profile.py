"""The terminal table of ``edgeq profile``: one row per target, then where each figure comes from."""

from __future__ import annotations

from edgeq.profiling.report import cycles_cell, op_rows
from edgeq.profiling.types import ProfileResult
from edgeq.textfmt import format_table


def render_text(results: list[ProfileResult]) -> str:
    """One row per target: latency percentiles, instructions, memory, energy; then the notes."""
    headers = [
        "target",
        "mean ms",
        "p50",
        "p90",
        "p99",
        "max",
        "std",
        "instructions",
        "cycles",
        "RAM B",
        "flash B",
        "peak RSS",
        "energy uJ",
    ]
    rows = [_row(r) for r in results]
    lines = [format_table(headers, rows, "l" + "r" * (len(headers) - 1))]
    for r in results:
        t = r.timing
        lines.append(
            f"{r.target}: {r.runs} runs after {r.warmup} warm-up; latency {t.latency_kind}: {t.latency_source}"
        )
        if t.energy is not None:
            lines.append(f"{r.target}: energy {t.energy.kind}: {t.energy.source}")
        if t.cycles is not None:
            lines.append(f"{r.target}: cycles {t.cycles.kind}: {t.cycles.source}")
        lines.extend(f"{r.target}: {note}" for note in t.notes)
    return "\n".join(lines)


def render_ops(results: list[ProfileResult]) -> str:
    """Per target, the table of its ops (``--ops``), or why it has none."""
    blocks = []
    for r in results:
        if not r.op_times:
            why = r.no_op_times or ("the model has no kernel calls" if r.op_times is not None else "not collected")
            blocks.append(f"{r.target}: no per-op figures: {why}")
            continue
        headers, rows = op_rows(r.op_times)
        align = "rrl" + "r" * (len(headers) - 3)
        blocks.append(f"{r.target}: per op ({r.op_times[0].source})\n{format_table(list(headers), rows, align)}")
    return "\n\n".join(blocks)


def _row(r: ProfileResult) -> list[str]:
    lat, mem, energy = r.latency, r.timing.memory, r.timing.energy
    est = "~" if r.timing.latency_kind == "estimated" else ""
    cells = [f"{est}{v:.3f}" for v in (lat.mean, lat.p50, lat.p90, lat.p99, lat.max)] + [f"{lat.std:.3f}"]
    return [
        r.target,
        *cells,
        _num(r.timing.instructions),
        cycles_cell(r),
        _num(mem.ram_bytes),
        _num(mem.flash_bytes),
        _num(mem.peak_rss_bytes),
        "-" if energy is None else f"{'~' if energy.kind == 'estimated' else ''}{energy.value:.2f}",
    ]


def _num(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def render_deadline_misses(results: list[ProfileResult]) -> list[str]:
    """One line per target whose p99 latency is over its deadline, saying by how much."""
    return [
        f"{r.target}: p99 {r.latency.p99:.3f} ms is {r.deadline_missed_by_ms:.3f} ms over the "
        f"{r.deadline_ms:g} ms deadline"
        for r in results
        if r.deadline_missed_by_ms is not None and r.deadline_ms is not None
    ]
