"""The compiled engine as firmware on emulated Cortex-M boards; writes docs/benchmarks-mcu.md and .json.

Per zoo int8 model and emulated board (QEMU mps2-an386 Cortex-M4, mps2-an500
Cortex-M7, mps3-an547 Cortex-M55, all under ``-icount shift=0``): instructions
per inference (deterministic), MACs per instruction, the firmware's flash
(text + data) and RAM (data + bss, with stack and arena), and on the M4 the
instruction targets: the cycle counts of the fastest published MLPerf Tiny
results on a Cortex-M4 (X-CUBE-AI 8.1 on the 120 MHz NUCLEO-L4R5ZI, latency x
120 MHz). Outputs are also checked byte for byte against the tflite-micro
interpreter on a few inputs.

Usage: ``python scripts/bench_mcu.py [--runs 5] [--boards qemu-m4,qemu-m7,qemu-m55]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "tests" / "fixtures" / "zoo"
NAMES = {
    "ic_resnet8": "ic",
    "kws_dscnn": "kws",
    "vww_mobilenet": "vww",
    "ad_autoencoder": "ad",
    "seg_unet": "seg",
    "imu_lstm": "imu",
}
PUBLISHED = ("nucleo-l4r5zi", "v1.3")  # X-CUBE-AI 10.2, MLPerf Tiny v1.3: the fastest published Cortex-M4 results


def m4_targets() -> dict[str, float]:
    """Cycles of the published results (ms x the board's 120 MHz), by MLPerf Tiny benchmark, from the board file."""
    from edgeq.boards import load_board

    board = load_board(PUBLISHED[0])
    return {
        r.benchmark: r.latency_ms * 1e-3 * (r.clock_hz or board.clock_hz)
        for r in board.reference_results
        if r.version == PUBLISHED[1]
    }


def measure(model: Path, target: str, runs: int) -> dict:
    from edgeq.profiling import profile

    result = profile(model, target, runs=runs, warmup=1)
    t = result.timing
    return {
        "instructions": t.instructions,
        "cycles": None if t.cycles is None else t.cycles.value,
        "flash": t.memory.flash_bytes,
        "ram": t.memory.ram_bytes,
        "estimated_ms": result.latency.mean,
        "estimate": t.latency_source,
        "energy_uj": None if t.energy is None else t.energy.value,
    }


def bit_exact(model: Path, target: str, samples: int = 3) -> bool:
    from edgeq.batch_run import run
    from edgeq.model import read_model
    from edgeq.profiling.profile import random_sample

    graph = read_model(model.read_bytes())
    rng = np.random.default_rng(11)
    batch = [np.concatenate([random_sample(graph)[k] for _ in range(samples)]) for k in range(len(graph.inputs))]
    batch = [rng.permutation(x.reshape(-1)).reshape(x.shape) for x in batch]  # different samples
    got = run(model, target, batch).outputs
    want = run(model, "host-tflm", batch).outputs
    return all(g.tobytes() == w.tobytes() for g, w in zip(got, want))


def table(rows: list[dict]) -> str:
    head = (
        "| model | board | instructions | est. cycles | CPI | MACs / cycle | flash B | RAM B | est. ms (real board) "
        "| published M4 cycles | est. cycles / published | M55 / M4 instr. | bytes = TFLM |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
    )
    m4 = {r["model"]: r["instructions"] for r in rows if r["board"] == "qemu-m4"}
    lines = []
    for r in rows:
        target, cycles = r.get("m4_target"), r.get("cycles")
        verdict = "-" if target is None or cycles is None else f"{cycles / target:.2f}"
        m55 = f"{r['instructions'] / m4[r['model']]:.2f}" if r["board"] == "qemu-m55" and r["model"] in m4 else "-"
        cpi = "-" if cycles is None else f"{cycles / r['instructions']:.2f}"
        per_cycle = "-" if not cycles else f"{r['macs'] / cycles:.3f}"
        lines.append(
            f"| {r['model']} | {r['board']} | {r['instructions']:,} | {_cycles(cycles)} "
            f"| {cpi} | {per_cycle} "
            f"| {r['flash']:,} | {r['ram']:,} | {r['estimated_ms']:.2f} | "
            f"{'-' if target is None else f'{target:,.0f}'} | {verdict} | {m55} | {'yes' if r['exact'] else 'NO'} |"
        )
    return head + "\n".join(lines) + "\n"


def _cycles(value: float | None) -> str:
    return "-" if value is None else f"~{value:,.0f}"


def merged(path: Path, rows: list[dict]) -> tuple[list[dict], str]:
    """``rows`` plus the rows of other models already in ``path`` (in NAMES order), and the dates they span."""
    measured = {r["model"] for r in rows}
    old = json.loads(path.read_text()) if path.exists() else {"rows": []}
    kept = [{"date": old.get("date"), **r} for r in old["rows"] if r["model"] not in measured]
    order = list(NAMES)
    rows = sorted(kept + rows, key=lambda r: order.index(r["model"]) if r["model"] in order else len(order))
    return rows, ", ".join(sorted({str(r["date"]) for r in rows}))


def written_sections(path: Path) -> str:
    """The sections written by hand below the table (from the first ``## `` heading on), kept across runs."""
    text = path.read_text() if path.exists() else ""
    start = text.find("\n## ")
    return "" if start < 0 else text[start:]


def main(argv: list[str] | None = None) -> int:
    from edgeq.model.analysis import inspect_model
    from edgeq.model.reader import read_bytes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--boards", default="qemu-m4,qemu-m7,qemu-m55")
    parser.add_argument("--models", default=",".join(NAMES), help="measure only these; keep the other rows of the JSON")
    args = parser.parse_args(argv)
    rows, targets = [], m4_targets()
    for name, bench in ((n, NAMES[n]) for n in args.models.split(",")):
        model = ZOO / name / "int8.tflite"
        macs = inspect_model(read_bytes(model)).total_macs
        for target in args.boards.split(","):
            row = {"model": name, "board": target, "macs": macs, **measure(model, target, args.runs)}
            row["m4_target"] = targets.get(bench) if target == "qemu-m4" else None  # seg_unet: none published
            row["date"] = str(date.today())
            row["exact"] = bit_exact(model, target)
            print(f"{name} {target}: {row['instructions']:,} instructions", file=sys.stderr)
            rows.append(row)
    out = ROOT / "docs"
    rows, dates = merged(out / "benchmarks-mcu.json", rows)
    (out / "benchmarks-mcu.json").write_text(json.dumps({"date": dates, "rows": rows}, indent=2) + "\n")
    notes = written_sections(out / "benchmarks-mcu.md")
    (out / "benchmarks-mcu.md").write_text(
        "# The edgeq engine as firmware on emulated Cortex-M boards\n\n"
        f"`scripts/bench_mcu.py`, {dates}, one run per model. Instructions per inference are exact and repeatable "
        "(QEMU `-icount shift=0`: 1 ns of virtual time per instruction; the firmware's SysTick laps over "
        f"{args.runs} inferences). Estimated cycles: the same session's instructions, counted per translated block "
        "by edgeq's QEMU plugin and costed with the core file (`edgeq/boards/cores/`; Cortex-M4 from its manual, "
        "M7 and M55 approximations; zero wait states; see docs/cycles.md). Estimated ms: estimated cycles / the "
        "clock of the real board the emulated one stands in for (M4: NUCLEO-L4R5ZI 120 MHz, M7: NUCLEO-H7A3ZI-Q "
        "280 MHz; M55: the emulated 32 MHz clock). Published M4 cycles: the fastest published MLPerf Tiny results "
        "on a Cortex-M4 (X-CUBE-AI 10.2, NUCLEO-L4R5ZI, v1.3: ms x 120 MHz), measured on silicon with its flash "
        "wait states. M55 / M4: instructions of the M55 build over the M4 build. Flash: text + data of the whole firmware "
        "(engine, kernels, DUT protocol, start-up); RAM: data + bss (arena, stack, protocol buffers). "
        "bytes = TFLM: outputs on 3 random inputs equal the tflite-micro interpreter's byte for byte.\n\n"
        + table(rows)
        + notes
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
