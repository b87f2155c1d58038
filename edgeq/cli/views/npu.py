"""``edgeq compile --npu``: Vela's compilation as text: configuration, op placement, memory, the estimate."""

from __future__ import annotations

from pathlib import Path

from edgeq.npu.types import NpuCompilation
from edgeq.textfmt import format_table

KIB = 1024


def render_compilation(c: NpuCompilation, model: str, output: Path | None = None) -> str:
    """The whole report: header, one row per op (NPU or CPU and why), memory, Vela's estimate, notes."""
    lines = [
        f"{model} compiled by Vela {c.vela_version} for {c.accelerator}".replace("  ", " "),
        f"system config {c.system_config}, memory mode {c.memory_mode}, NPU clock {c.npu_clock_hz / 1e6:g} MHz",
        "",
        f"ops on the NPU: {c.npu_count} of {len(c.ops)}; on the CPU: {len(c.cpu_ops)}",
        "",
        _ops_table(c),
        "",
        *render_figures(c),
    ]
    lines += [f"note: {note}" for note in c.notes]
    lines += [
        "",
        "Estimated by Vela's performance model, not measured: no Ethos-U simulator or board was run"
        + (", and the CPU ops' time is not included." if c.cpu_ops else "."),
    ]
    if output is not None:
        lines.append(f"wrote {output} and {output.with_suffix('.json')}")
    return "\n".join(lines)


def _ops_table(c: NpuCompilation) -> str:
    rows = [[op.index, op.op, op.placement.upper(), op.reason or ""] for op in c.ops]
    return format_table(["#", "op", "runs on", "why not on the NPU"], rows, align="rlll")


def render_figures(c: NpuCompilation) -> list[str]:
    """Memory, cycles, latency, MACs per cycle and bytes moved per memory area, one line each."""
    moved = ", ".join(f"{area} {_kib(n)}" for area, n in c.bandwidth.items()) or "-"
    return [
        f"SRAM used            {_bytes(c.sram_bytes)}",
        f"{c.flash_area + ' used':<20} {_bytes(c.flash_bytes)}",
        f"NPU cycles           {c.npu_cycles:,} (estimated)",
        f"latency              {c.latency_s * 1e3:.4g} ms (estimated, at {c.npu_clock_hz / 1e6:g} MHz)",
        f"MACs                 {c.macs:,} ({c.macs_per_cycle:.3g} per cycle)",
        f"moved per inference  {moved} (estimated)",
    ]


def _kib(n: float) -> str:
    return f"{n / KIB:,.2f} KiB"


def _bytes(n: int) -> str:
    return f"{n:,} B ({n / KIB:,.2f} KiB)"
