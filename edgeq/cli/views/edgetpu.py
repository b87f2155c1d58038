"""``edgeq edgetpu-check``: the Edge TPU check as text, laid out like the ``edgetpu_compiler`` summary and log."""

from __future__ import annotations

from edgeq.edgetpu.types import EdgeTpuReport
from edgeq.textfmt import format_table

SHOWN_REASONS = 10  # CPU ops explained one by one before "... and N more"


def summary_lines(report: EdgeTpuReport) -> list[str]:
    """The two lines the compiler prints: operations on the Edge TPU and on the CPU."""
    return [
        f"Number of operations that will run on Edge TPU: {report.edgetpu_count}",
        f"Number of operations that will run on CPU: {report.cpu_count}",
    ]


def render_report(report: EdgeTpuReport) -> str:
    """The whole report: header, the compiler-style summary and table, why ops stay on the CPU, notes."""
    lines = [f"Edge TPU check: {report.model} ({len(report.ops)} operations)", ""]
    lines += summary_lines(report)
    lines += ["", _table(report)]
    lines += _reasons(report)
    lines += [f"note: {note}" for note in report.notes]
    lines += [
        "",
        "This is edgeq's prediction from Coral's published rules; edgetpu_compiler decides the final placement.",
    ]
    return "\n".join(lines)


def _table(report: EdgeTpuReport) -> str:
    rows = [[row.op, row.count, row.status.value] for row in report.table()]
    return format_table(["Operator", "Count", "Status"], rows, align="lrl")


def _reasons(report: EdgeTpuReport) -> list[str]:
    """One line per distinct reason, naming the ops it applies to (stranded ops share one line)."""
    groups: dict[str, list[str]] = {}
    for op in report.ops:
        if not op.on_edgetpu and op.reason:
            groups.setdefault(op.reason, []).append(f"{op.index} {op.op}")
    if not groups:
        return []
    lines = ["", "Why operations run on the CPU:"]
    for reason, ops in list(groups.items())[:SHOWN_REASONS]:
        shown = ", ".join(ops[:4]) + (f", ... ({len(ops)} ops)" if len(ops) > 4 else "")
        lines.append(f"  op{'s' if len(ops) > 1 else ''} {shown}: {reason}")
    if len(groups) > SHOWN_REASONS:
        lines.append(f"  ... and {len(groups) - SHOWN_REASONS} more reasons (--json lists every op)")
    return lines
