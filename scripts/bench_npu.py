"""The zoo's int8 models compiled by Arm's Vela for three Ethos-U configurations, beside edgeq's Cortex-M estimates.

For each model of tests/fixtures/zoo/*/int8.tflite and each of ethos-u55-128, ethos-u55-256 and
ethos-u65-256 (with Vela's default system configuration and memory mode for it, see
edgeq/npu/config.py), ``edgeq.npu.compile_model`` runs Vela 5.2 once and records the ops on the NPU and
the CPU, SRAM and flash (or DRAM) used, Vela's estimated cycles, latency and MACs per cycle. Every NPU
figure is Vela's estimate: no Ethos-U simulator or board ran.

Beside them, the compiled engine's estimated cycles on the Cortex-M4 and the Cortex-M55 that earlier
benchmarks recorded (nothing is re-run here):

- Cortex-M4: docs/cycles-bench.json, ``rows[].cycles["as shipped"]`` (scripts/bench_cycles.py: the engine
  firmware on QEMU mps2-an386, blocks counted by edgeq's plugin, costed with
  edgeq/boards/cores/cortex-m4.yaml as shipped).
- Cortex-M55: docs/cycles-bench.json has no Cortex-M55 column, so it comes from docs/benchmarks-mcu.json,
  the ``cycles`` of the ``qemu-m55`` rows (scripts/bench_mcu.py: the same method on QEMU mps3-an547, with
  the approximate Cortex-M55 core file).

The speed-up is a ratio of cycles (CPU cycles / NPU cycles): the NPU and CPU clocks of a real system may
differ, and the NPU figure leaves out the time of any op Vela keeps on the CPU.

Writes docs/benchmarks-npu.md and docs/benchmarks-npu.json.
Usage: ``python scripts/bench_npu.py [--models kws_dscnn,...]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "tests" / "fixtures" / "zoo"
ACCELERATORS = ("ethos-u55-128", "ethos-u55-256", "ethos-u65-256")
M4_SOURCE = 'docs/cycles-bench.json rows[].cycles["as shipped"] (engine on QEMU mps2-an386, cortex-m4.yaml)'
M55_SOURCE = "docs/benchmarks-mcu.json qemu-m55 rows' cycles (engine on QEMU mps3-an547, cortex-m55.yaml)"


def cpu_cycles() -> tuple[dict[str, float], dict[str, float]]:
    """(Cortex-M4, Cortex-M55) estimated engine cycles per model, from the earlier benchmarks' JSON."""
    m4 = {
        r["model"]: r["cycles"]["as shipped"]
        for r in json.loads((ROOT / "docs" / "cycles-bench.json").read_text())["rows"]
    }
    mcu = json.loads((ROOT / "docs" / "benchmarks-mcu.json").read_text())["rows"]
    m55 = {r["model"]: r["cycles"] for r in mcu if r["board"] == "qemu-m55" and r.get("cycles")}
    return m4, m55


def measure(model: Path, accelerator: str, m4: float | None, m55: float | None) -> dict:
    """One model on one accelerator: Vela's figures and the cycle ratios against the Cortex-M estimates."""
    from edgeq.npu import compile_model

    c = compile_model(model.read_bytes(), accelerator, name=str(model.relative_to(ROOT)))
    return {
        "model": model.parent.name,
        "accelerator": accelerator,
        "system_config": c.system_config,
        "memory_mode": c.memory_mode,
        "npu_clock_hz": c.npu_clock_hz,
        "ops": len(c.ops),
        "npu_ops": c.npu_count,
        "cpu_ops": [f"{op.index} {op.op}" for op in c.cpu_ops],
        "sram_bytes": c.sram_bytes,
        "flash_bytes": c.flash_bytes,
        "flash_area": c.flash_area,
        "npu_cycles": c.npu_cycles,
        "latency_ms": c.latency_s * 1e3,
        "macs": c.macs,
        "macs_per_cycle": c.macs_per_cycle,
        "m4_cycles": m4,
        "m55_cycles": m55,
        "m4_over_npu": None if m4 is None else m4 / c.npu_cycles,
        "m55_over_npu": None if m55 is None else m55 / c.npu_cycles,
        "vela": c.vela_version,
    }


def table(rows: list[dict]) -> list[str]:
    """The Markdown table, one row per model and accelerator."""
    head = (
        "| model | NPU | system config, memory mode | ops NPU / CPU | CPU ops | SRAM B | flash B | "
        "est. NPU cycles | est. ms | MACs / cycle | M4 est. cycles | M4 / NPU | M55 est. cycles | M55 / NPU |"
    )
    lines = [head, "| --- | --- | --- | ---: | --- |" + " ---: |" * 9]
    for r in rows:
        ratio = {k: _ratio(r[k]) for k in ("m4_over_npu", "m55_over_npu")}
        cycles = {k: "-" if r[k] is None else f"{r[k]:,.0f}" for k in ("m4_cycles", "m55_cycles")}
        lines.append(
            f"| {r['model']} | {r['accelerator']} | {r['system_config']}, {r['memory_mode']} "
            f"({r['npu_clock_hz'] / 1e6:g} MHz) | {r['npu_ops']} / {len(r['cpu_ops'])} | "
            f"{', '.join(r['cpu_ops']) or '-'} | {r['sram_bytes']:,} | {r['flash_bytes']:,} ({r['flash_area']}) | "
            f"~{r['npu_cycles']:,} | ~{r['latency_ms']:.4f} | {r['macs_per_cycle']:.1f} | {cycles['m4_cycles']} | "
            f"{ratio['m4_over_npu']} | {cycles['m55_cycles']} | {ratio['m55_over_npu']} |"
        )
    return lines


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}x" if value < 10 else f"{value:,.0f}x"


def markdown(rows: list[dict]) -> str:
    vela = rows[0]["vela"] if rows else "?"
    intro = (
        f"`scripts/bench_npu.py`, {date.today()}, Vela {vela}. Each zoo int8 model compiled by Arm's Vela "
        "(`edgeq compile --npu`) for three Ethos-U configurations with Vela's default system configuration and "
        "memory mode for each. **Every NPU figure (cycles, ms, MACs per cycle, SRAM, flash) is Vela's "
        "performance estimate: no Ethos-U simulator or board was run.** Vela estimates the NPU's work only: the "
        "time of ops it leaves on the CPU (column CPU ops) is not in its cycles. SRAM and flash are Vela's "
        '"Total SRAM used" and "Total Off-chip Flash used" (DRAM for the Ethos-U65\'s Dedicated_Sram_384KB '
        "mode, where SRAM is a 384 KB cache in front of DRAM).\n\n"
        f"Cortex-M columns (not re-run): M4 from {M4_SOURCE}; M55 from {M55_SOURCE}, since "
        "docs/cycles-bench.json has no Cortex-M55 column. Both are edgeq's own estimates (instructions counted "
        "under QEMU and costed with a core file; see docs/cycles.md), not measurements. M4 / NPU and "
        "M55 / NPU divide cycles by cycles: the speed-up at equal clocks. In a real system the NPU and CPU "
        "clocks may differ, so the time ratio is this one times (CPU clock / NPU clock).\n\n"
        "There is no MLPerf Tiny result for an Ethos-U system that edgeq could compare these estimates "
        "against (the published MLPerf Tiny figures edgeq cites, docs/cycles-bench.md, are Cortex-M4 "
        "results): nothing here is checked against silicon. How to read the table: docs/npu.md."
    )
    return "# The zoo on Arm Ethos-U NPUs: Vela's estimates\n\n" + intro + "\n\n" + "\n".join(table(rows)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated zoo names (default: every tests/fixtures/zoo/*/int8.tflite)")
    args = parser.parse_args(argv)
    models = (
        [ZOO / n / "int8.tflite" for n in args.models.split(",")] if args.models else sorted(ZOO.glob("*/int8.tflite"))
    )
    m4, m55 = cpu_cycles()
    rows = []
    for model in models:
        for accelerator in ACCELERATORS:
            name = model.parent.name
            row = measure(model, accelerator, m4.get(name), m55.get(name))
            print(f"{name} {accelerator}: {row['npu_cycles']:,} cycles, CPU ops {row['cpu_ops']}", file=sys.stderr)
            rows.append(row)
    sources = {"m4_cycles": M4_SOURCE, "m55_cycles": M55_SOURCE}
    payload = {"date": str(date.today()), "estimated": True, "sources": sources, "rows": rows}
    (ROOT / "docs" / "benchmarks-npu.json").write_text(json.dumps(payload, indent=2) + "\n")
    (ROOT / "docs" / "benchmarks-npu.md").write_text(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
