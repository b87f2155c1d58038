"""TFLM project figures for the model zoo; writes docs/benchmarks-codegen.md and .json.

For each zoo int8 model: the model array (flash), the arena edgeq measures with
the tflite-micro interpreter on the host, the 32-bit figure it models from that
(docs/benchmarks-arena.md), the arena constant it writes (2 % margin), the
arena TFLM's recording allocator reports, and the arena the MLPerf Tiny
reference firmware reserves for the same benchmark (docs/specs/boards.md),
plus the time `edgeq generate --format tflm` takes. Usage:
``python scripts/bench_codegen.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "tests" / "fixtures" / "zoo"
# TFLM arena sizes used by the MLPerf Tiny reference firmware (docs/specs/boards.md).
REFERENCE_ARENA = {
    "ic_resnet8": 100 * 1024,
    "kws_dscnn": 200 * 1024,
    "vww_mobilenet": 200 * 1024,
    "ad_autoencoder": 10 * 1024,
}


def bench(name: str, work: Path) -> dict:
    from edgeq.codegen import generate
    from edgeq.codegen.arena import measure_arena

    model = ZOO / name / "int8.tflite"
    start = time.perf_counter()
    report = generate(model, "tflm", work / name, name=name, board="nucleo-l4r5zi", force=True)
    seconds = time.perf_counter() - start
    recorded = measure_arena(model.read_bytes()).recorded_bytes
    figures = report.arena_figures or {}
    return {
        "model": name,
        "flash_bytes": report.flash_bytes,
        "arena_host_bytes": figures.get("arena_host_bytes"),
        "arena_measured_bytes": report.arena_measured_bytes,
        "arena_bytes": report.arena_bytes,
        "arena_recorded_bytes": recorded,
        "reference_firmware_arena_bytes": REFERENCE_ARENA[name],
        "ops": len(report.ops),
        "fits_nucleo_l4r5zi": not report.fit_problems,
        "generate_seconds": round(seconds, 2),
    }


def markdown(rows: list[dict]) -> str:
    lines = [
        "# TFLM project figures",
        "",
        "`scripts/bench_codegen.py`: `edgeq generate --format tflm` on the zoo's int8 models. The host arena "
        "is the smallest with which the tflite-micro interpreter (reference kernels, 64-bit host) allocates and "
        "invokes; the 32-bit figure is what edgeq models from it for a Cortex-M build (the larger of reference "
        "kernels and CMSIS-NN, docs/benchmarks-arena.md); the written constant adds 2 %. The recording allocator's own report is shown beside it: for "
        "per-channel FULLY_CONNECTED layers TFLM needs more than it reports, which is why edgeq bisects. The "
        "MLPerf Tiny reference firmware reserves a fixed arena per benchmark (boards.md).",
        "",
        "| model | model array (flash) | arena on host | arena 32-bit (modeled) | arena written | recorder reported | reference firmware arena | written / reference | ops | generate s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['flash_bytes']:,} | {r['arena_host_bytes']:,} | {r['arena_measured_bytes']:,} | {r['arena_bytes']:,} | "
            f"{r['arena_recorded_bytes']:,} | {r['reference_firmware_arena_bytes']:,} | "
            f"{r['arena_bytes'] / r['reference_firmware_arena_bytes']:.2f} | {r['ops']} | {r['generate_seconds']} |"
        )
    over = [r["model"] for r in rows if r["arena_bytes"] > r["reference_firmware_arena_bytes"]]
    if over:
        lines += [
            "",
            f"Above the reference firmware's arena: {', '.join(over)}. The converter here quantizes "
            "FULLY_CONNECTED weights per channel (the reference model is per tensor), and TFLM then keeps "
            "per-channel multipliers and shifts for every dense layer in the arena; the host's 64-bit structures "
            "add to it.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    names = ["kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder"]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(name, Path(tmp)) for name in names]
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "benchmarks-codegen.json").write_text(json.dumps(rows, indent=2) + "\n")
    (docs / "benchmarks-codegen.md").write_text(markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
