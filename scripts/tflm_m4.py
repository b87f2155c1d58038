"""Build TensorFlow Lite Micro for the emulated Cortex-M4 and find a model's smallest arena there.

Used by scripts/bench_arena.py. Needs the sources of TFLM, CMSIS-NN,
flatbuffers (the version TFLM's schema asks for), gemmlowp and ruy in one
folder (``--sources``; see docs/benchmarks-arena.md), arm-none-eabi-gcc and
qemu-system-arm. TFLM's own Makefile downloads these; this script compiles
the same files with the flags TFLM's Makefile uses for a Cortex-M4 with an
FPU (``TARGET=cortex_m_generic TARGET_ARCH=cortex-m4+fp``), one compiler at a
time, into a cache folder, then links one small firmware per model and kernel
library (scripts/bench_arena_fw/main.cc) that bisects the arena on the target.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edgeq.codegen.carray import carray_files  # noqa: E402
from edgeq.codegen.context import model_context  # noqa: E402
from edgeq.codegen.tflm import tflm_methods  # noqa: E402
from edgeq.model import read_model  # noqa: E402

FW = ROOT / "scripts" / "bench_arena_fw"
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
DEFINES = [
    "-DTF_LITE_STATIC_MEMORY",
    "-DTF_LITE_MCU_DEBUG_LOG",
    "-DTF_LITE_USE_CTIME",
    "-DKERNELS_OPTIMIZED_FOR_SPEED",
    "-DFLATBUFFERS_LOCALE_INDEPENDENT=0",
    "-DARM_MATH_DSP",
    "-DCPU_M4=1",
]
CXXFLAGS = ["-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics", "-fno-use-cxa-atexit"]
COMMON = ["-O2", "-ffunction-sections", "-fdata-sections", "-fmessage-length=0", "-Wno-psabi"]
QEMU_TIMEOUT_S = 300  # the firmware's own bisection
TRY_TIMEOUT_S = 60  # one try
MAX_ARENA = 1024 * 1024  # kMaxArena of main.cc
# The kernels of the benchmark's models (and their shared helpers); TFLM has ~150, compiling all takes long.
KERNELS = (
    "add activations conv depthwise_conv fully_connected pooling softmax reshape shape strided_slice pack "
    "quantize dequantize mul reduce concatenation pad kernel_util micro_tensor_utils"
).split()
CMSIS_NN_DIRS = "Activation BasicMath Convolution FullyConnected NNSupport Pooling Softmax".split()


def include_dirs(src: Path) -> list[str]:
    dirs = [
        src / "tflite-micro",
        src / "flatbuffers" / "include",
        src / "gemmlowp",
        src / "ruy",
        src / "CMSIS-NN",
        src / "CMSIS-NN" / "Include",
    ]
    return [f"-I{d}" for d in dirs]


def _sources(src: Path, kernels: str) -> list[Path]:
    tf = src / "tflite-micro" / "tensorflow"
    micro = tf / "lite" / "micro"
    skip = {"debug_log", "micro_time", "system_setup"}
    files = [p for p in micro.glob("*.cc") if p.stem not in skip]
    for sub in ("memory_planner", "arena_allocator", "tflite_bridge"):
        files += micro.joinpath(sub).glob("*.cc")
    files += (tf / "lite" / "kernels" / "internal").glob("*.cc")
    files += [tf / "lite" / "core" / "c" / "common.cc", tf / "lite" / "core" / "api" / "flatbuffer_conversions.cc"]
    files += [tf / "lite" / "core" / "api" / "tensor_utils.cc"]
    files += [tf / "compiler" / "mlir" / "lite" / "core" / "api" / "error_reporter.cc"]
    files += [
        tf / "compiler" / "mlir" / "lite" / "schema" / "schema_utils.cc",
        tf / "lite" / "kernels" / "kernel_util.cc",
    ]
    optimized = {p.stem: p for p in micro.joinpath("kernels", "cmsis_nn").glob("*.cc")} if kernels == "cmsis-nn" else {}
    for kernel in micro.joinpath("kernels").glob("*.cc"):
        if kernel.stem.removesuffix("_common") in KERNELS:
            files.append(optimized.pop(kernel.stem, kernel))
    files += [p for p in optimized.values() if p.stem in KERNELS]
    files = [p for p in files if not p.stem.endswith("_test") and "test" not in p.stem.split("_")[:1]]
    if kernels == "cmsis-nn":
        for folder in CMSIS_NN_DIRS:
            files += sorted((src / "CMSIS-NN" / "Source" / f"{folder}Functions").glob("*.c"))
    files += [FW / "debug_log.cc"]
    return sorted(set(files))


def _compile(source: Path, obj: Path, src: Path, kernels: str) -> bool:
    cmd = ["arm-none-eabi-gcc" if source.suffix == ".c" else "arm-none-eabi-g++", *CPU, *COMMON, *DEFINES]
    cmd += ["-DCMSIS_NN"] if kernels == "cmsis-nn" else []
    cmd += ([] if source.suffix == ".c" else CXXFLAGS) + include_dirs(src) + ["-c", str(source), "-o", str(obj)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        print(f"skipped {source.name}: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    return done.returncode == 0


def build_library(src: Path, cache: Path, kernels: str) -> Path:
    """TFLM with ``kernels`` ("reference" or "cmsis-nn") as a static library in ``cache`` (built once)."""
    out = cache / kernels
    lib = out / "libtflm.a"
    if lib.is_file() and lib.stat().st_mtime > Path(__file__).stat().st_mtime:
        return lib
    out.mkdir(parents=True, exist_ok=True)
    objects = []
    for i, source in enumerate(_sources(src, kernels)):
        folder = ("lite_" if source.parent.parent.name == "lite" else "") + source.parent.name  # two kernel_util.cc
        obj = out / f"{folder}__{source.stem}.o"
        shared = cache / "reference" / obj.name  # the interpreter itself does not depend on the kernels
        if kernels != "reference" and "kernels" not in source.parts and shared.is_file():
            obj = shared
        if obj.is_file() or _compile(source, obj, src, kernels):
            objects.append(obj)
        if i % 25 == 0:
            print(f"  {kernels}: {i} files compiled", file=sys.stderr)
    lib.unlink(missing_ok=True)
    subprocess.run(["arm-none-eabi-ar", "rcs", str(lib), *map(str, objects)], check=True)
    return lib


def _model_sources(model: Path, folder: Path) -> None:
    data = model.read_bytes()
    graph = read_model(data, name=str(model))
    ctx = model_context(graph, model, "bench")
    for name, text in carray_files(ctx, data, "cpp", None).items():
        folder.joinpath(name).write_text(text if isinstance(text, str) else text.decode())
    methods = tflm_methods(graph)
    lines = [
        '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"',
        f"typedef tflite::MicroMutableOpResolver<{len(methods)}> bench_OpResolver;",
        "inline bench_OpResolver bench_op_resolver() {",
        "  bench_OpResolver r;",
        *[f"  r.{m}();" for m in methods],
        "  return r;",
        "}",
    ]
    folder.joinpath("ops.h").write_text("#pragma once\n" + "\n".join(lines) + "\n")


def build_firmware(model: Path, lib: Path, src: Path, folder: Path, kernels: str) -> Path:
    """The bisecting firmware for ``model`` linked against ``lib``."""
    folder.mkdir(parents=True, exist_ok=True)
    _model_sources(model, folder)
    elf, startup = folder / "arena.elf", folder / "startup.o"
    subprocess.run(["arm-none-eabi-gcc", *CPU, "-O2", "-c", str(FW / "startup.c"), "-o", str(startup)], check=True)
    cmd = ["arm-none-eabi-g++", *CPU, *COMMON, *DEFINES, *CXXFLAGS, *(["-DCMSIS_NN"] if kernels == "cmsis-nn" else [])]
    cmd += [*include_dirs(src), f"-I{folder}", "-nostartfiles", f"-T{FW / 'linker.ld'}", "-Wl,--gc-sections"]
    cmd += ["--specs=nano.specs", "--specs=nosys.specs", str(FW / "main.cc"), str(startup)]
    cmd += [str(folder / "bench_model_data.cc"), str(lib), "-lm", "-o", str(elf)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return elf


def _qemu(elf: Path, arg: int | None, timeout: float) -> str:
    """The semihosting console of one run of ``elf`` (with ``arena ARG`` on its command line when given)."""
    config = "enable=on,target=native" + (f",arg=arena,arg={arg}" if arg is not None else "")
    cmd = ["qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none"]
    cmd += ["-serial", "none", "-semihosting-config", config, "-kernel", str(elf)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    return done.stdout + done.stderr


def runs_with(elf: Path, size: int) -> bool:
    """One run: does TFLM allocate and invoke with ``size`` bytes? (A fault or a hang counts as no.)"""
    return f"ok {size}" in _qemu(elf, size, TRY_TIMEOUT_S)


def smallest_arena(elf: Path) -> int:
    """The smallest arena with which the firmware's model runs on the emulated Cortex-M4 (mps2-an386).

    The firmware bisects by itself in one run; its answer is checked with one run each at N and N - 16.
    When a try near the limit faults (a kernel failing badly), the bisection is redone one run per try.
    """
    found = re.search(r"arena (\d+)", _qemu(elf, None, QEMU_TIMEOUT_S))
    if found and runs_with(elf, int(found.group(1))) and not runs_with(elf, int(found.group(1)) - 16):
        return int(found.group(1))
    if not runs_with(elf, MAX_ARENA):
        raise RuntimeError(f"{elf}: the model does not run with {MAX_ARENA} bytes")
    low, high = 0, MAX_ARENA // 16  # in units of 16 bytes: low fails, high works
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if runs_with(elf, mid * 16) else (mid, high)
    return high * 16


def measure(model: Path, src: Path, cache: Path, kernels: str) -> int:
    """The smallest arena ``model`` needs with TFLM + ``kernels`` on the emulated Cortex-M4."""
    lib = build_library(src, cache, kernels)
    folder = cache / "fw" / kernels / model.parent.name / model.stem
    return smallest_arena(build_firmware(model, lib, src, folder, kernels))
