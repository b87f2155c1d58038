"""The TFLM arena edgeq writes against what a real Cortex-M4 build needs; writes docs/benchmarks-arena.md/.json.

For each model (the zoo's four MLPerf Tiny architectures and the int8 test
fixtures): the arena the host tflite-micro interpreter needs (64-bit,
reference kernels, found by bisection), the constant edgeq wrote before it
modeled the target (host + 5 %), the modeled 32-bit figures (reference
kernels, CMSIS-NN) and the constant edgeq writes now, and, with
``--sources DIR``, the smallest arena with which TFLM really allocates and
invokes the model on the emulated Cortex-M4 (QEMU mps2-an386), built with its
reference kernels and with CMSIS-NN (scripts/tflm_m4.py). Last, the arena of
edgeq's compiled engine for the same model (``edgeq generate --format engine``).

Usage: ``python scripts/bench_arena.py [--sources DIR] [--cache DIR]`` (``--render``
rewrites the Markdown from the JSON); DIR
holds tflite-micro/, CMSIS-NN/, flatbuffers/ (the release TFLM's schema asks
for), gemmlowp/ and ruy/ (see docs/benchmarks-arena.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

FIXTURES = ROOT / "tests" / "fixtures"
MODELS = [FIXTURES / "zoo" / n / "int8.tflite" for n in ("kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder")]
MODELS += [FIXTURES / "tflite" / "conv_int8.tflite", FIXTURES / "tflite" / "two_input_int8.tflite"]
# Op fixtures that exercise each CMSIS-NN scratch rule (im2col, 1x1, depthwise 5x5 and with a
# multiplier, average pooling, per-tensor and rank-3 fully-connected) and a few other kernels.
OP_FIXTURES = (
    "conv_k5_s1_same_relu6 conv_k1_s1_valid conv_k3_dil2_same_relu dw_k5_m1_s1_valid_relu dw_k3_m2_s1_same "
    "avgpool_k3_s1_same fc_b3_per_tensor_relu fc_rank3_keep_dims add_broadcast_row concat_conv_skip mean_gap"
).split()
MODELS += [FIXTURES / "ops" / f"{name}.tflite" for name in OP_FIXTURES]
OLD_MARGIN = 0.05


def _name(model: Path) -> str:
    return model.parent.name if model.name == "int8.tflite" else model.stem


def bench(model: Path, work: Path, sources: Path | None, cache: Path) -> dict:
    from edgeq.codegen import generate
    from edgeq.codegen.arena import measure_arena

    start = time.perf_counter()
    arena = measure_arena(model.read_bytes())
    seconds = time.perf_counter() - start
    engine = generate(model, "engine", work / _name(model), name="net")
    row = {
        "model": _name(model),
        "host_bytes": arena.host_bytes,
        "old_constant_bytes": arena.host_bytes + -(-int(arena.host_bytes * OLD_MARGIN) // 16) * 16,
        "model_reference_bytes": arena.target.reference_bytes,
        "model_cmsis_nn_bytes": arena.target.cmsis_nn_bytes,
        "constant_bytes": arena.arena_bytes,
        "engine_arena_bytes": engine.arena_bytes,
        "seconds_to_measure": round(seconds, 1),
    }
    if sources is not None:
        import tflm_m4

        for kernels in ("reference", "cmsis-nn"):
            row[f"m4_{kernels.replace('-', '_')}_bytes"] = tflm_m4.measure(model, sources, cache, kernels)
    return row


def _ratio(a: int | None, b: int | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def _cell(v: int | None) -> str:
    return f"{v:,}" if v else "-"


def markdown(rows: list[dict], measured_on: str) -> str:
    lines = [
        "# TFLM arena: edgeq's constant against a real Cortex-M4 build",
        "",
        "Produced by `python scripts/bench_arena.py --sources DIR` (see the end for how). Bytes; "
        "`host` is the smallest arena with which the tflite-micro interpreter (64-bit, reference kernels) "
        "allocates and invokes; `before` is the constant edgeq wrote when it used that figure (+5 %); "
        "`model ref` and `model CMSIS-NN` are edgeq's 32-bit figures; `written` is the constant edgeq writes "
        "now (the larger model figure + 2 %); `M4 ref` and `M4 CMSIS-NN` are the smallest arenas with which "
        f"TFLM really allocates and invokes on the emulated Cortex-M4 ({measured_on}); `engine` is the arena "
        "of edgeq's compiled engine for the same model.",
        "",
        "| model | host | before | model ref | model CMSIS-NN | written | M4 ref | M4 CMSIS-NN "
        "| written / M4 CMSIS-NN | before / M4 CMSIS-NN | engine | engine / written |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        m4_ref, m4_cmsis = r.get("m4_reference_bytes"), r.get("m4_cmsis_nn_bytes")
        cells = [r["host_bytes"], r["old_constant_bytes"], r["model_reference_bytes"], r["model_cmsis_nn_bytes"]]
        cells += [r["constant_bytes"], m4_ref, m4_cmsis]
        lines.append(
            f"| {r['model']} | "
            + " | ".join(_cell(c) for c in cells)
            + f" | {_ratio(r['constant_bytes'], m4_cmsis)} | {_ratio(r['old_constant_bytes'], m4_cmsis)} "
            f"| {_cell(r['engine_arena_bytes'])} | {_ratio(r['engine_arena_bytes'], r['constant_bytes'])} |"
        )
    return "\n".join(lines) + "\n" + _summary(rows) + EXPLANATION


def _engine_summary(measured: list[dict]) -> str:
    """The engine's arena against the real Cortex-M4 CMSIS-NN need: the MLPerf models, then the rest."""
    ratio = {r["model"]: r["engine_arena_bytes"] / r["m4_cmsis_nn_bytes"] for r in measured}
    mlperf = [m for m in ("kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder") if m in ratio]
    rest = [m for m in ratio if m not in mlperf]
    text = "The engine's arena is " + ", ".join(f"{ratio[m]:.2f}x ({m})" for m in mlperf)
    if rest:
        worst = max(rest, key=ratio.__getitem__)
        text += f" of TFLM's real need with CMSIS-NN, and at most {ratio[worst]:.2f}x ({worst}) on the other models"
    return text + ".\n\n"


def _summary(rows: list[dict]) -> str:
    measured = [r for r in rows if r.get("m4_cmsis_nn_bytes")]
    if not measured:
        return ""
    now = [r["constant_bytes"] / r["m4_cmsis_nn_bytes"] for r in measured]
    before = [r["old_constant_bytes"] / r["m4_cmsis_nn_bytes"] for r in measured]
    short = _checks(rows)
    verdict = "never below" if not short else "BELOW for " + "; ".join(short)
    return (
        f"\nOn these {len(measured)} models the written constant is {min(now):.2f}x to {max(now):.2f}x what "
        f"TFLM with CMSIS-NN really needs on the Cortex-M4 (before: {min(before):.2f}x to {max(before):.2f}x), "
        f"and {verdict} it or the reference-kernel build's need; each modeled figure is at least the real "
        "figure of its kernel library. All figures come from one run of the script.\n\n"
        + _engine_summary(measured)
        + "Where the model is loose: on tiny models the kernels' own op data, which the model leaves at its "
        "64-bit size, is a large share of the arena (up to about 1.6x); and the largest CMSIS-NN scratch "
        "buffer is added whole, while TFLM's planner often fits much of it beside tensors that are dead at "
        "that operator (so for a model like conv_k5_s1_same_relu6 the constant can exceed the old host "
        "figure + 5 %, which was itself only 7 % above the real need).\n"
    )


EXPLANATION = """
## How edgeq sizes the arena of `--format tflm`

1. **Host measurement.** The tflite-micro Python package runs TFLM with its
   reference kernels on the (64-bit) host. edgeq bisects, in steps of 16 bytes
   and each try in its own process, for the smallest arena with which it
   allocates and invokes the model (`host`).
2. **32-bit model** (`edgeq/codegen/arena32.py`). TFLM's arena is a head of
   planned tensors and kernel scratch buffers, the same on every build with the
   same kernels, and a tail of persistent structures, several of which hold
   pointers. From the host figure edgeq subtracts what 32-bit pointers save on
   the structures every build allocates before any kernel runs: the
   allocator's own objects (the host's recording allocator, arena and planner,
   424 bytes, against 116 for the target's plain ones), one
   `TfLiteEvalTensor` per tensor (24 -> 12 bytes), one node-and-registration
   record per operator (64 -> 32), the `TfLiteTensor` kept for each model input
   and output (64 -> 40), its quantization record (24 -> 12) and pointer
   (8 -> 4), every 32-bit figure rounded up to 16 bytes (the sizes are
   `sizeof` of TFLM's types with g++ for x86-64 and arm-none-eabi-g++ for the
   Cortex-M4). The test suite checks against the host interpreter's own
   allocation record that these structures are in its tail with exactly these
   64-bit sizes for every fixture (`tests/codegen/test_arena_target.py`).
   That gives `model ref`. Kernel
   op data and the allocator's own objects also shrink on 32 bits; the model
   leaves them at their host size, so it errs on the large side.
3. **CMSIS-NN.** Cortex-M builds of TFLM normally use CMSIS-NN, whose kernels
   request scratch buffers the reference kernels do not (on a core with the DSP
   extension: convolution im2col `4 * roundup4(kh * kw * cin)`, depthwise
   convolution other than 3x3 `2 * kh * kw * c`, average pooling `4 * c`,
   per-tensor fully-connected layers with an output of rank 3 or more
   `8 * outputs`). A scratch buffer lives only while its operator runs, so edgeq
   adds the largest one, plus 16 bytes per operator for CMSIS-NN's larger op
   data. That gives `model CMSIS-NN`.
4. **Constant.** `NAME_ARENA_BYTES` is the larger model figure plus 2 %
   (rounded up to 16 bytes). The header picks the host figure plus the same
   margin instead when it is compiled with 64-bit pointers (trying the project
   on a PC), and defining `NAME_ARENA_BYTES` yourself overrides both. The
   header and the README say which figures it came from; `--json` reports the
   constant as `arena_bytes` and the modeled need before the margin as
   `arena_measured_bytes`.

Not covered by the model: ESP-NN (ESP32) and Helium (Cortex-M55, MVE) scratch
sizes, which differ from the DSP ones, and other TFLM releases; the margin is
for small differences, the override for large ones.

## How the Cortex-M4 figures were measured

`scripts/tflm_m4.py` compiles TFLM's interpreter and the kernels of these
models from the sources in `--sources DIR` (`tflite-micro/`, `CMSIS-NN/`,
`flatbuffers/` at the release TFLM's schema header asserts, `gemmlowp/`,
`ruy/`) with arm-none-eabi-gcc for a Cortex-M4 with its FPU and DSP extension,
with the defines TFLM's own Makefile uses (`TF_LITE_STATIC_MEMORY`,
`KERNELS_OPTIMIZED_FOR_SPEED`, `CMSIS_NN` for the CMSIS-NN build), one
compiler at a time (about 5 minutes per kernel library on 2 cores; objects are
cached). It links one firmware per model and kernel library
(`scripts/bench_arena_fw/`): the model array, a resolver with exactly its ops,
and a loop that bisects, on the target itself, for the smallest arena with which
a fresh `MicroInterpreter` allocates and invokes the model on zero inputs; the
arena sits at the end of a static buffer, as a static array of that size would.
QEMU (`mps2-an386`, Cortex-M4) runs it and prints the figure over semihosting.
The figure is then checked with one run each at N bytes (must work) and N - 16
(must fail); should a try near the limit fault, the bisection is redone with
one QEMU run per try (the size on the semihosting command line).
Needs: `arm-none-eabi-gcc` with its C++ library (Debian:
`gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib`) and `qemu-system-arm`.
"""


def _checks(rows: list[dict]) -> list[str]:
    """Where the constant or a model figure is below what the real build needed."""
    problems = []
    for r in rows:
        for key, model_key in (
            ("m4_reference_bytes", "model_reference_bytes"),
            ("m4_cmsis_nn_bytes", "model_cmsis_nn_bytes"),
        ):
            real = r.get(key)
            if real and (r["constant_bytes"] < real or r[model_key] < real):
                problems.append(f"{r['model']}: {key} {real} above the model ({r[model_key]}) or the constant")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, help="folder with tflite-micro/, CMSIS-NN/, flatbuffers/, ...")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "edgeq-bench-arena")
    parser.add_argument("--render", action="store_true", help="only rewrite the .md from the .json")
    args = parser.parse_args()
    docs = ROOT / "docs"
    if args.render:
        saved = json.loads((docs / "benchmarks-arena.json").read_text())
        (docs / "benchmarks-arena.md").write_text(markdown(saved["rows"], saved["m4_build"]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(m, Path(tmp), args.sources, args.cache) for m in MODELS]
    measured_on = "not measured: run with --sources" if args.sources is None else _sources_text(args.sources)
    (docs / "benchmarks-arena.json").write_text(json.dumps({"m4_build": measured_on, "rows": rows}, indent=2) + "\n")
    text = markdown(rows, measured_on)
    (docs / "benchmarks-arena.md").write_text(text)
    print(text)
    problems = _checks(rows)
    for p in problems:
        print("TOO SMALL:", p, file=sys.stderr)
    return 1 if problems else 0


def _sources_text(src: Path) -> str:
    """The sources' versions: SOURCES.txt in the folder when present (one line), else the folder's name."""
    label = src / "SOURCES.txt"
    what = label.read_text().strip() if label.is_file() else str(src)
    return f"{what}; arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16"


if __name__ == "__main__":
    sys.exit(main())
