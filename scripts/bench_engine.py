"""The edgeq compiled engine vs TFLM on the model zoo; writes docs/benchmarks-engine.md and .json.

Per zoo int8 model, in one run:
- RAM: the engine's planned arena vs the TFLM arena measured with the tflite-micro
  interpreter (target <= 0.70x), and vs the engine's own lower bound (target <= 1.05x);
- flash: weights, parameters and kernel code of the engine built for a Cortex-M4
  (``arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -O2``, ``arm-none-eabi-size`` text + data)
  vs the .tflite size;
- host speed: time per invoke of the engine (a C loop around NAME_invoke, -O3 -flto) vs the
  tflite-micro interpreter's invoke on the same input (target >= 3x faster).
Usage: ``python scripts/bench_engine.py [--runs 200]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "tests" / "fixtures" / "zoo"
NAMES = ["kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder"]
TIMING_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "net.h"
int main(int argc, char **argv) {
    long runs = argc > 1 ? atol(argv[1]) : 100, i;
    struct timespec a, b;
    memset(net_input(0), 1, NET_INPUT0_BYTES);
    net_invoke();
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < runs; ++i) net_invoke();
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)runs);
    return 0;
}
"""


def engine_figures(model: Path, work: Path, runs: int) -> dict:
    from edgeq.codegen import generate

    report = generate(model, "engine", work, name="net")
    (work / "timing.c").write_text("#define _POSIX_C_SOURCE 199309L\n#include <stdlib.h>\n" + TIMING_MAIN)
    sources = sorted(str(p) for p in work.glob("*.c"))
    exe = work / "timing"
    subprocess.run(["gcc", "-std=c99", "-O3", "-flto", "-o", str(exe), *sources], check=True)
    ns = float(subprocess.run([str(exe), str(runs)], check=True, capture_output=True, text=True).stdout)
    return {
        "arena": report.arena_bytes,
        "lower_bound": report.arena_lower_bound_bytes,
        "flash_m4": m4_flash(work),
        "engine_ns": ns,
    }


def m4_flash(work: Path) -> int | None:
    """text + data of the engine's objects for a Cortex-M4 (None without the Arm toolchain)."""
    gcc, size = shutil.which("arm-none-eabi-gcc"), shutil.which("arm-none-eabi-size")
    if not gcc or not size:
        return None
    objects = []
    for source in sorted(work.glob("*.c")):
        if source.name == "timing.c":
            continue
        obj = work / (source.stem + ".o")
        subprocess.run(
            [gcc, "-std=c99", "-mcpu=cortex-m4", "-mthumb", "-O2", "-c", "-o", str(obj), str(source)], check=True
        )
        objects.append(str(obj))
    out = subprocess.run([size, "-t", *objects], check=True, capture_output=True, text=True).stdout
    text, data = out.strip().splitlines()[-1].split()[:2]
    return int(text) + int(data)


def tflm_ns(model: Path, runs: int) -> float:
    """Time per invoke of the tflite-micro interpreter (in a child process)."""
    code = (
        "import sys, time, numpy as np\n"
        "from tflite_micro.python.tflite_micro import runtime\n"
        "data = open(sys.argv[1], 'rb').read(); runs = int(sys.argv[2])\n"
        "it = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 1 << 21))\n"
        "d = it.get_input_details(0); it.set_input(np.ones(d['shape'], d['dtype']), 0); it.invoke()\n"
        "t = time.perf_counter_ns()\n"
        "for _ in range(runs): it.invoke()\n"
        "print((time.perf_counter_ns() - t) / runs)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(model), str(runs)], check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def bench(name: str, runs: int) -> dict:
    from edgeq.codegen.arena import measure_arena

    model = ZOO / name / "int8.tflite"
    with tempfile.TemporaryDirectory() as tmp:
        eng = engine_figures(model, Path(tmp), runs)
    tflm_arena = measure_arena(model.read_bytes()).measured_bytes
    t_ns = tflm_ns(model, max(10, runs // 4))
    return {
        "model": name,
        "tflite_bytes": model.stat().st_size,
        "engine_arena_bytes": eng["arena"],
        "engine_arena_lower_bound_bytes": eng["lower_bound"],
        "tflm_arena_bytes": tflm_arena,
        "arena_ratio_vs_tflm": eng["arena"] / tflm_arena,
        "arena_ratio_vs_lower_bound": eng["arena"] / eng["lower_bound"] if eng["lower_bound"] else 1.0,
        "engine_flash_m4_bytes": eng["flash_m4"],
        "flash_ratio_vs_tflite": eng["flash_m4"] / model.stat().st_size if eng["flash_m4"] else None,
        "engine_invoke_us": eng["engine_ns"] / 1000,
        "tflm_invoke_us": t_ns / 1000,
        "speedup_vs_tflm": t_ns / eng["engine_ns"],
    }


def markdown(rows: list[dict], meta: dict) -> str:
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    lines = [
        "# The edgeq engine vs TensorFlow Lite Micro",
        "",
        f"`scripts/bench_engine.py`, {meta['date']}, one run on a 2-core x86-64 host. Engine outputs are "
        "bit-identical to TFLM's (tests/codegen/test_engine.py). TFLM arena: the smallest arena with which the "
        "tflite-micro interpreter allocates and invokes (64-bit host structures; a 32-bit target needs a little "
        "less). Engine arena: every tensor and the kernels' scratch regions (int16 input columns of CONV_2D and "
        "FULLY_CONNECTED), planned offline as buffers; the lower bound counts the scratch too. Flash: "
        "`arm-none-eabi-size` text + data of the engine's objects for Cortex-M4 (-O2): weights (in the kernels' "
        "layouts), per-channel requantization tables, parameters and kernel code, no interpreter. Host time: one "
        "invoke, engine C loop vs the "
        "tflite-micro interpreter's invoke, same input.",
        "",
        "| model | engine arena | lower bound | TFLM arena | arena vs TFLM (<= 0.70) | vs bound (<= 1.05) | engine flash (M4) | .tflite | flash / .tflite | engine us | TFLM us | speed-up (>= 3) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        flash = "-" if r["engine_flash_m4_bytes"] is None else f"{r['engine_flash_m4_bytes']:,}"
        fr = "-" if r["flash_ratio_vs_tflite"] is None else f"{r['flash_ratio_vs_tflite']:.2f}"
        lines.append(
            f"| {r['model']} | {r['engine_arena_bytes']:,} | {r['engine_arena_lower_bound_bytes']:,} | "
            f"{r['tflm_arena_bytes']:,} | {r['arena_ratio_vs_tflm']:.2f} {ok(r['arena_ratio_vs_tflm'] <= 0.70)} | "
            f"{r['arena_ratio_vs_lower_bound']:.2f} {ok(r['arena_ratio_vs_lower_bound'] <= 1.05)} | {flash} | "
            f"{r['tflite_bytes']:,} | {fr} | {r['engine_invoke_us']:.1f} | {r['tflm_invoke_us']:.1f} | "
            f"{r['speedup_vs_tflm']:.1f}x {ok(r['speedup_vs_tflm'] >= 3)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    rows = [bench(name, args.runs) for name in NAMES]
    meta = {"date": time.strftime("%Y-%m-%d"), "runs": args.runs}
    docs = ROOT / "docs"
    (docs / "benchmarks-engine.json").write_text(json.dumps({"meta": meta, "engine": rows}, indent=2) + "\n")
    (docs / "benchmarks-engine.md").write_text(markdown(rows, meta))
    print(markdown(rows, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
