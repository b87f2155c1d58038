"""``edgeq generate``: what was generated and what it costs on the target, as text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgeq.codegen.report import GenerationReport


def render_generation(report: GenerationReport) -> str:
    """The folder, the flash and RAM it needs, its ops, the board fit and the files."""
    lines = [f"{report.out_dir}: {report.format} for {report.model} (name {report.name})"]
    if report.format == "engine":
        lines.append(f"  flash {report.flash_bytes:,} bytes ({report.flash_how})")
        lines.append(
            f"  tensor arena {report.arena_bytes:,} bytes (RAM, {report.arena_how}; "
            f"lower bound {report.arena_lower_bound_bytes:,})"
        )
    else:
        lines.append(f"  model array {report.flash_bytes:,} bytes (flash)")
    if report.format != "engine" and report.arena_bytes is not None:
        lines.append(
            f"  tensor arena {report.arena_bytes:,} bytes (RAM; {report.arena_measured_bytes:,} measured + margin)"
        )
    lines.append(f"  ops: {', '.join(report.ops)}")
    if report.board_check:
        lines.append(f"  {_board_check(report.board_check)}")
    lines += [f"  does not fit {report.board}: {problem}" for problem in report.fit_problems]
    lines.append("  files: " + ", ".join(report.files))
    return "\n".join(lines)


def _board_check(check: dict[str, Any]) -> str:
    """One line: the totals checked against the board, its limits, and what they leave out."""
    use = []
    for what, key in (("flash", "flash"), ("RAM", "ram")):
        limit = check[f"{key}_limit"]
        use.append(f"{what} {check[f'{key}_bytes']:,} / {'?' if limit is None else f'{limit:,}'} B")
    missing = f"; not counted: {check['not_counted']}" if check["not_counted"] else ""
    return f"{check['board']} ({check['covers']}): {', '.join(use)}{missing}"
