"""``edgeq boards``: the board database as a table; ``edgeq boards show``: one board with its sources."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from edgeq.textfmt import format_table

if TYPE_CHECKING:
    from edgeq.boards import Board, SerialSpec
    from edgeq.boards.npu_schema import NpuSpec

_WIDTH = 100
HEADERS = ["id", "name", "core", "clock MHz", "flash", "RAM", "kind", "runtimes", "npu"]


def render_boards(boards: list[Board]) -> str:
    """One row per board: core, clock, flash, RAM, kind, runtimes and NPU (Vela accelerator config)."""
    return format_table(HEADERS, [_row(board) for board in boards], align="lllrrrlll")


def _row(board: Board) -> list[object]:
    clock = None if board.clock_hz is None else f"{board.clock_hz / 1e6:g}"
    flash = "ext" if board.flash_bytes is None and board.flash_external else _size(board.flash_bytes)
    if board.flash_external and board.flash_bytes is not None:
        flash += " ext"
    row = [board.id, board.name, _core(board), clock, flash, _size(board.ram_bytes), board.kind.value]
    return [*row, ", ".join(board.runtimes), board.npu.accelerator if board.npu else None]


def _core(board: Board) -> str:
    return board.cpu.core if board.cpu.cores == 1 else f"{board.cpu.cores}x {board.cpu.core}"


def _size(n: int | None) -> str:
    """2097152 -> "2 MiB", 655360 -> "640 KiB"; None -> "-"."""
    if n is None:
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % (scale // 16) == 0:
            return f"{n / scale:g} {unit}"
    return f"{n:,} B"


def render_board(board: Board) -> str:
    """Every fact of ``board`` as text, each followed by its source."""
    lines = [f"{board.id}: {board.name} ({board.kind.value}, {board.vendor})"]
    for label, value, name in _facts(board):
        lines.append(f"  {label:<10} {value}")
        lines += _source(board.source(name), indent=13)
    sections = (_memory_map, _qemu, _npu, _power, _results, _edgetpu)
    for section in sections:
        lines += section(board)
    if board.notes:
        lines.append("notes")
        lines += [textwrap.fill(note, _WIDTH, initial_indent="  - ", subsequent_indent="    ") for note in board.notes]
    return "\n".join(lines)


def _facts(board: Board) -> list[tuple[str, str, str]]:
    cpu = board.cpu
    features = f"DSP {'yes' if cpu.dsp else 'no'}, FPU {cpu.fpu}, SIMD {cpu.simd}"
    facts = [("core", f"{_core(board)} ({cpu.arch}; {features})", "cpu")]
    clock = "unknown" if board.clock_hz is None else f"{board.clock_hz / 1e6:g} MHz"
    facts.append(("clock", clock, "clock_hz"))
    for label, n, name in (("flash", board.flash_bytes, "flash_bytes"), ("RAM", board.ram_bytes, "ram_bytes")):
        value = "unknown" if n is None else f"{n:,} B ({_size(n)})"
        external = board.flash_external and label == "flash"
        facts.append((label, value + (", external" if external else ""), name))
    if board.serial is not None:
        facts.append(("serial", _serial(board.serial), "serial"))
    facts.append(("flasher", board.flasher, "flasher"))
    facts.append(("runtimes", ", ".join(board.runtimes), "runtimes"))
    if board.power_measurement:
        facts.append(("power", f"measured with {board.power_measurement}", "power_measurement"))
    return facts


def _serial(s: SerialSpec) -> str:
    text = f"{s.baud} baud {s.format} on {s.port}"
    if s.uart:
        text += f"; {s.uart}" + (f" at {s.uart_base:#010x}" if s.uart_base is not None else "")
    if s.energy_baud:
        text += f"; energy mode {s.energy_baud} baud"
    return text


def _source(text: str | None, indent: int) -> list[str]:
    if not text:
        return []
    pad = " " * indent
    return textwrap.wrap(text, _WIDTH, initial_indent=f"{pad}source: ", subsequent_indent=f"{pad}        ")


def _memory_map(board: Board) -> list[str]:
    if not board.memory_map:
        return []
    rows = [[r.role, r.name, f"{r.base:#010x}", _size(r.size)] for r in board.memory_map]
    table = format_table(["role", "region", "base", "size"], rows, align="lllr")
    return ["memory map", *textwrap.indent(table, "  ").splitlines(), *_source(board.source("memory_map"), 2)]


def _qemu(board: Board) -> list[str]:
    q = board.qemu
    if q is None:
        return []
    return [
        "qemu",
        f"  {q.binary} -M {q.machine} -cpu {q.cpu} -icount shift={q.icount_shift} -serial pty",
        f"  SysTick clock {q.systick_clock_hz / 1e6:g} MHz: 1 tick = {q.instructions_per_systick:g} instructions",
        *_source(board.source("qemu"), 2),
        f"  assumed cycles per instruction {q.cpi_assumption:g}",
        *_source(q.cpi_source, 2),
    ]


def _power(board: Board) -> list[str]:
    if not board.power:
        return []
    lines = ["power during inference"]
    for p in board.power:
        spread = f" (range {p.range_mw[0]:g}-{p.range_mw[1]:g})" if p.range_mw else ""
        origin = f" from {p.derived_from}" if p.derived_from else ""
        lines.append(f"  {p.value_mw:g} mW{spread}, {p.kind}{origin}{' [preferred]' if p.preferred else ''}")
        lines += _source(p.source, 4)
        if p.note:
            lines += textwrap.wrap(p.note, _WIDTH, initial_indent="    note: ", subsequent_indent="          ")
    return lines


def _results(board: Board) -> list[str]:
    if not board.reference_results:
        return []
    rows = [
        [r.submission, r.framework, r.benchmark, r.latency_ms, r.energy_uj, r.power_mw, r.quality]
        for r in board.reference_results
    ]
    headers = ["submission", "framework", "benchmark", "ms", "uJ", "mW", "quality"]
    table = format_table(headers, rows, align="lllrrrr")
    sources = dict.fromkeys(f"{r.submission}: {r.source}" for r in board.reference_results)
    lines = ["reference results (per inference)", *textwrap.indent(table, "  ").splitlines()]
    return lines + [line for text in sources for line in _source(text, 2)]


def _edgetpu(board: Board) -> list[str]:
    tpu = board.edgetpu
    if tpu is None:
        return []
    lines = ["edge tpu", f"  {tpu.tops_int8:g} TOPS int8, {tpu.tops_per_watt:g} TOPS/W"]
    lines.append(f"  compiler {tpu.compiler}, runtime {tpu.runtime_library}")
    rows = [[lat.model, lat.config, lat.latency_ms] for lat in tpu.latencies]
    if rows:
        table = format_table(["model", "configuration", "ms"], rows, align="llr")
        lines += textwrap.indent(table, "  ").splitlines()
    return lines + _source(tpu.source, 2)


def _npu(board: Board) -> list[str]:
    """The NPU: Vela's configuration, the driver's register base and IRQ, its memories; each with its source."""
    npu = board.npu
    if npu is None:
        return []
    lines = ["npu"]
    for label, value, name in _npu_facts(npu):
        lines.append(f"  {label:<14} {value}")
        lines += _source(npu.sources.get(name), indent=17)
    for m in npu.memories:
        base = "base unknown" if m.base is None else f"at {m.base:#010x}"
        lines.append(f"  memory         {m.name} {base}, {_size(m.size)}: {m.holds}")
    lines += _source(npu.sources.get("memories"), indent=17)
    return lines


def _npu_facts(npu: NpuSpec) -> list[tuple[str, str, str]]:
    unknown = "unknown (see notes)"
    clock = unknown if npu.clock_hz is None else f"{npu.clock_hz / 1e6:g} MHz"
    facts = [
        ("model", f"{npu.model}, Vela --accelerator-config {npu.accelerator}", "accelerator"),
        ("clock", clock, "clock_hz"),
    ]
    facts.append(("base address", unknown if npu.base_address is None else f"{npu.base_address:#010x}", "base_address"))
    facts.append(("IRQ", unknown if npu.irq is None else str(npu.irq), "irq"))
    if npu.irq_vector:
        facts.append(("IRQ handler", npu.irq_vector, "irq_vector"))
    for label, value, name in (
        ("system config", npu.system_config, "system_config"),
        ("memory mode", npu.memory_mode, "memory_mode"),
    ):
        facts.append((label, value or unknown, name))
    if npu.vela_config_file:
        facts.append(("Vela config", npu.vela_config_file, "vela_config_file"))
    return facts
