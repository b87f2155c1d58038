"""How far the cycle estimate can be off: the zoo's models on the emulated Cortex-M4 under other assumptions.

For each model the engine firmware runs once on QEMU mps2-an386 with edgeq's counting plugin; the same
counts are then costed with the Cortex-M4 core file as shipped and with each assumption moved to the
end of its range in the manual (pipeline refill P = 1 and 3, divides 2 and 12 cycles, no load
pipelining), and with every instruction at 1 cycle (the old CPI 1 estimate). Writes docs/cycles-bench.md
and .json.

With ``--tflm-sources DIR`` (the TFLM, CMSIS-NN, flatbuffers, gemmlowp and ruy checkouts that
scripts/bench_arena.py takes; ``--tflm-cache`` keeps their objects) it also builds TFLM with CMSIS-NN
for the same emulated Cortex-M4 (scripts/tflm_m4.py), counts one ``MicroInterpreter::Invoke`` of each
MLPerf Tiny model with the same plugin and costs it with the same core file: edgeq and TFLM side by side.
Without it that table is skipped, with a message.

Usage: ``python scripts/bench_cycles.py [--models kws_dscnn,...] [--tflm-sources DIR --tflm-cache DIR]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
ZOO = ROOT / "tests" / "fixtures" / "zoo"
MODELS = ("ic_resnet8", "kws_dscnn", "vww_mobilenet", "ad_autoencoder", "seg_unet", "imu_lstm")
# X-CUBE-AI 10.2 on NUCLEO-L4R5ZI (MLPerf Tiny v1.3), ms x 120 MHz
PUBLISHED = {"ic_resnet8": 19.9e6, "kws_dscnn": 5.21e6, "vww_mobilenet": 10.7e6, "ad_autoencoder": 0.575e6}
VARIANTS = {
    "as shipped": {},
    "P = 1": {"refill": 1.0},
    "P = 3": {"refill": 3.0},
    "divide 2": {"div": 2.0},
    "divide 12": {"div": 12.0},
    "no load pipelining": {"load_pipelined": 2.0},
    "CPI 1": "cpi1",
}


def counted(model: Path) -> tuple[object, Path, list, int, object]:
    """(counts, elf, calls, instructions per invoke, graph) of one profiling session of ``model`` on qemu-m4."""
    from edgeq.codegen.engine.hooks import engine_calls
    from edgeq.firmware.counts import read_counts
    from edgeq.model import read_model
    from edgeq.profiling.profile import random_sample
    from edgeq.serialdut.outputs import sample_bytes
    from edgeq.serialdut.parse import lap_delta_us
    from edgeq.targets.qemu import make_target

    target, data = make_target("qemu-m4"), model.read_bytes()
    build, graph = target.firmware(data), read_model(data)
    calls = engine_calls((build.elf.parent / "engine" / "net.c").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "counts.txt"
        sample = sample_bytes(graph.input_tensors, random_sample(graph))[0]
        result = target._session(build.elf, graph, sample, 3, 1, target._plugin(build.elf, len(calls), out))
        counts = read_counts(out)
    return counts, build.elf, calls, round(lap_delta_us(result.t0_us, result.t1_us) * 1000.0 / 3), graph


def costed(counts, elf: Path, calls: list, instructions: int, graph, variant) -> float:
    """Estimated cycles per invoke with the Cortex-M4 costs changed by ``variant`` (or "cpi1")."""
    from edgeq.boards.cores import load_core_timing
    from edgeq.targets.qemu_cycles import estimate_cycles

    if variant == "cpi1":
        return float(instructions)
    m4 = load_core_timing("cortex-m4")
    timing = dataclasses.replace(m4, cycles={**m4.cycles, **variant})
    found = estimate_cycles(counts, elf, calls, graph, "cortex-m4", instructions, 120e6, "-", timing)
    return found.cycles.value


def tflm_counted(model: Path, sources: Path, cache: Path) -> tuple[int, float]:
    """(instructions, estimated cycles) of one Invoke of TFLM + CMSIS-NN on the emulated Cortex-M4."""
    import subprocess

    import tflm_m4

    from edgeq.boards.cores import load_core_timing
    from edgeq.firmware.counts import plugin_library, read_counts, window_args
    from edgeq.firmware.cycles import bucket_costs
    from edgeq.firmware.thumb import disassemble

    lib = tflm_m4.build_library(sources, cache, "cmsis-nn")
    elf = tflm_m4.build_firmware(
        model, lib, sources, cache / "fw" / "cmsis-nn" / model.parent.name / model.stem, "cmsis-nn"
    )
    listing = subprocess.run(
        ["arm-none-eabi-objdump", "-d", "--no-show-raw-insn", str(elf)], capture_output=True, text=True
    ).stdout
    invoke = "_ZN6tflite16MicroInterpreter6InvokeEv"
    begin = next(int(line.split()[0], 16) for line in listing.splitlines() if line.endswith(f"<{invoke}>:"))
    ends = [
        int(line.split(":")[0], 16) + 4
        for line in listing.splitlines()
        if line.rstrip().endswith(f"<{invoke}>") and "\tbl\t" in line
    ]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "counts.txt"
        cmd = ["qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-icount", "shift=0", "-nographic"]
        cmd += [
            "-monitor",
            "none",
            "-serial",
            "none",
            "-semihosting-config",
            "enable=on,target=native,arg=arena,arg=1048576",
        ]
        cmd += [*window_args(plugin_library(), out, begin, ends), "-kernel", str(elf)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        counts = read_counts(out)
    if counts.calls != 1:
        raise RuntimeError(f"{elf}: {counts.calls} invokes counted, expected 1")
    cost = bucket_costs(counts, disassemble(elf), load_core_timing("cortex-m4"))[0]
    return cost.instructions, cost.cycles


def side_by_side(rows: list[dict], sources: Path, cache: Path) -> str:
    """edgeq against TFLM + CMSIS-NN on the same emulated M4 with the same cost model."""
    arena = {r["model"]: r for r in json.loads((ROOT / "docs" / "benchmarks-arena.json").read_text())["rows"]}
    lines = [
        "| model | edgeq instructions | TFLM + CMSIS-NN instructions | edgeq est. cycles | TFLM + CMSIS-NN est. cycles "
        "| cycles edgeq / TFLM | edgeq arena B | TFLM + CMSIS-NN arena B (M4) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        if r["model"] not in PUBLISHED:
            continue
        instructions, cycles = tflm_counted(ZOO / r["model"] / "int8.tflite", sources, cache)
        r["tflm_cmsis_nn"] = {"instructions": instructions, "cycles": cycles}
        a = arena.get(r["model"], {})
        mine = r["cycles"]["as shipped"]
        lines.append(
            f"| {r['model']} | {r['instructions']:,} | {instructions:,} | {mine:,.0f} | {cycles:,.0f} | "
            f"{mine / cycles:.2f} | {a.get('engine_arena_bytes', '-'):,} | {a.get('m4_cmsis_nn_bytes', '-'):,} |"
        )
        print(r["model"], "TFLM + CMSIS-NN", f"{instructions:,} instructions, {cycles:,.0f} cycles", file=sys.stderr)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--tflm-sources", type=Path, help="folder of the TFLM, CMSIS-NN, ... checkouts")
    parser.add_argument("--tflm-cache", type=Path, default=Path(tempfile.gettempdir()) / "edgeq-tflm-m4")
    args = parser.parse_args(argv)
    rows = []
    for name in args.models.split(","):
        counts, elf, calls, instructions, graph = counted(ZOO / name / "int8.tflite")
        row = {"model": name, "instructions": instructions, "published": PUBLISHED.get(name)}
        row["cycles"] = {v: costed(counts, elf, calls, instructions, graph, spec) for v, spec in VARIANTS.items()}
        print(name, {k: f"{v / 1e6:.3f} M" for k, v in row["cycles"].items()}, file=sys.stderr)
        rows.append(row)
    if args.tflm_sources:
        tflm = side_by_side(rows, args.tflm_sources, args.tflm_cache)
        tflm = (
            "\n## edgeq and TFLM with CMSIS-NN, side by side\n\n"
            "The same emulated Cortex-M4, the same plugin and core file: TFLM with CMSIS-NN built with the flags "
            "of TFLM's Makefile for a Cortex-M4 with FPU (scripts/tflm_m4.py), one `MicroInterpreter::Invoke` "
            "counted (zero inputs; CMSIS-NN's kernels do not branch on data). Arenas from "
            "docs/benchmarks-arena.json (the engine's, and what TFLM + CMSIS-NN needs on the M4).\n\n" + tflm
        )
    else:
        tflm = ""
        print("no --tflm-sources: the side-by-side table with TFLM + CMSIS-NN is skipped", file=sys.stderr)
    (ROOT / "docs" / "cycles-bench.json").write_text(json.dumps({"date": str(date.today()), "rows": rows}, indent=2))
    head = "| model | instructions | " + " | ".join(VARIANTS) + " | X-CUBE-AI 10.2 published | shipped / published |"
    lines = [head, "| --- |" + " ---: |" * (len(VARIANTS) + 3)]
    for r in rows:
        c, pub = r["cycles"], r["published"]
        ratio = "-" if pub is None else f"{c['as shipped'] / pub:.2f}"
        cells = " | ".join(f"{c[v] / 1e6:.3f} M" for v in VARIANTS)
        lines.append(
            f"| {r['model']} | {r['instructions'] / 1e6:.3f} M | {cells} | "
            f"{'-' if pub is None else f'{pub / 1e6:.3f} M'} | {ratio} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    (ROOT / "docs" / "cycles-bench.md").write_text(
        "# Estimated Cortex-M4 cycles under the manual's ranges\n\n"
        f"`scripts/bench_cycles.py`, {date.today()}, one run. The engine firmware of each zoo model ran on QEMU "
        "mps2-an386 with edgeq's counting plugin; the same counts are costed with "
        "`edgeq/boards/cores/cortex-m4.yaml` as shipped and with one assumption moved to an end of the range "
        "the Cortex-M4 manual gives (pipeline refill P 1 to 3; SDIV/UDIV 2 to 12 cycles; loads not pipelined). "
        "CPI 1: the instruction count, the estimate edgeq gave before the model. Published: ST X-CUBE-AI 10.2 on "
        "the NUCLEO-L4R5ZI, MLPerf Tiny v1.3 (ms x 120 MHz), which includes the flash wait states the model "
        "leaves out. See docs/cycles.md.\n\n" + table + tflm
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
