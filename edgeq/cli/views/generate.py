"""``edgeq generate``: what was generated and what it costs on the target, as text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgeq.codegen.report import GenerationReport
    from edgeq.codegen.tflm import NpuProjectReport


def render_generation(report: GenerationReport) -> str:
    """The folder, the flash and RAM it needs, its ops, the board fit and the files."""
    lines = [f"{report.out_dir}: {report.format} for {report.model} (name {report.name})"]
    if report.format == "engine":
        lines.append(f"  flash {report.flash_bytes:,} bytes ({report.flash_how})")
        lines.append(
            f"  tensor arena {report.arena_bytes:,} bytes (RAM, {report.arena_how}; "
            f"lower bound {report.arena_lower_bound_bytes:,})"
        )
        if report.schedule is not None:
            lines.append(f"  {_schedule(report.schedule, report.scratch_bytes or 0)}")
    else:
        lines.append(f"  model array {report.flash_bytes:,} bytes (flash)")
    if report.format != "engine" and report.arena_bytes is not None:
        lines.append(
            f"  tensor arena {report.arena_bytes:,} bytes (RAM; {report.arena_measured_bytes:,} modeled for a "
            "32-bit target from the host measurement + margin)"
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


def _schedule(schedule: dict[str, Any], scratch: int) -> str:
    """One line: the --optimize mode, the budget, the largest scratch and how many ops run each kernel variant."""
    counts: dict[str, int] = {}
    for k in schedule["kernels"]:
        key = f"{k['builtin']} {k['kernel']}"
        counts[key] = counts.get(key, 0) + 1
    budget = f", --ram-budget {schedule['ram_budget']:,}" if schedule["ram_budget"] is not None else ""
    kinds = ", ".join(f"{key} x{n}" for key, n in counts.items()) or "no kernel needs scratch"
    return (
        f"kernels (--optimize {schedule['optimize']}{budget}; largest scratch {scratch:,} B, smallest possible "
        f"arena {schedule['smallest_arena_bytes']:,} B): {kinds}"
    )


def render_npu_project(report: NpuProjectReport) -> str:
    """The NPU project: accelerator and board, the model and arena, the ops on each side, what is left to define."""
    on = f" on {report.board}" if report.board else ""
    lines = [
        f"{report.out_dir}: tflm for {report.model} (name {report.name}), Vela output for {report.accelerator}{on}"
    ]
    lines.append(f"  model array {report.flash_bytes:,} bytes (flash the NPU reads)")
    arena = report.arena
    lines.append(
        f"  tensor arena {arena.arena_bytes:,} bytes (SRAM the NPU reaches; estimated: {arena.planned_bytes:,} "
        f"planned by Vela + {arena.tflm_bytes:,} for TFLM + {arena.margin_bytes:,} margin)"
    )
    cpu = ", ".join(report.cpu_ops) if report.cpu_ops else "none"
    lines.append(f"  ops: {report.npu_ops} ethos-u on the NPU; on the CPU: {cpu}")
    lines.append(f"  resolver: {', '.join(report.resolver_methods)}")
    if report.placeholders:
        lines.append(f"  edgeq_npu_platform.c stops at #error until defined: {', '.join(report.placeholders)}")
    lines += [f"  does not fit {report.board}: {problem}" for problem in report.problems]
    lines.append("  files: " + ", ".join(report.files))
    return "\n".join(lines)
