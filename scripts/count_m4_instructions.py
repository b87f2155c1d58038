"""Instructions per inference of the edgeq engine on an emulated Cortex-M4, and its bytes vs host-c.

For each model: generate the engine, build it with ``arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb
-mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2`` together with a main, a vector table and a linker script of
this script's own (QEMU's mps2-an386 map: code at 0x00000000, data at 0x20000000, 4 MB each), run it
on ``qemu-system-arm -M mps2-an386 -icount shift=0`` and read over semihosting:
- SysTick ticks around one invoke after a warm-up invoke (CLKSOURCE=1, the 25 MHz system clock; with
  ``-icount shift=0`` one instruction takes 1 ns, so one tick is 40 instructions, +-40);
- the output bytes, which must equal the host-c engine's for the same seeded input (the SIMD32
  path on a real M-profile core against the portable C on the host).
Usage: ``python scripts/count_m4_instructions.py [MODEL.tflite ...] [--cpu cortex-m4] [--no-simd]``
(default: the zoo's int8 models, compared with the targets below).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "tests" / "fixtures" / "zoo"
# instructions per inference the next issue asks for on Cortex-M4
TARGETS = {"ic_resnet8": 25.7e6, "kws_dscnn": 7.5e6, "vww_mobilenet": 14.2e6, "ad_autoencoder": 0.82e6}
INSTRUCTIONS_PER_TICK = 40  # 1 GHz virtual instruction clock (-icount shift=0) / 25 MHz SysTick
# hard-float builds: the FPU per core (None: the core's default, which for the M55 brings Helium too)
FPU = {"cortex-m4": "fpv4-sp-d16", "cortex-m7": "fpv5-d16", "cortex-m33": "fpv5-sp-d16", "cortex-m55": None}
# core -> (QEMU machine, instructions per SysTick tick, size of each memory region the harness links to)
MACHINES = {"cortex-m55": ("mps3-an547", 31.25, "512K")}  # an547: 32 MHz, 512 KB ITCM and DTCM
DEFAULT_MACHINE = ("mps2-an386", INSTRUCTIONS_PER_TICK, "4M")

LINKER_SCRIPT = """
MEMORY {
    CODE (rx) : ORIGIN = 0x00000000, LENGTH = 4M
    RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 4M
}
ENTRY(reset_handler)
SECTIONS {
    .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > CODE
    .ARM.exidx : { *(.ARM.exidx*) } > CODE
    .data : { *(.data*) . = ALIGN(4); } > RAM
    .bss (NOLOAD) : { __bss_start__ = .; *(.bss*) *(COMMON) . = ALIGN(4); __bss_end__ = .; } > RAM
    end = .;
    __stack_top = ORIGIN(RAM) + LENGTH(RAM);
}
"""

STARTUP = r"""
#include <stdint.h>
extern uint32_t __bss_start__, __bss_end__, __stack_top;
int main(void);
void semihost_exit(int code);
void reset_handler(void);
static void default_handler(void) { semihost_exit(3); }
__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top, reset_handler, default_handler, default_handler, default_handler,
    default_handler, default_handler, 0, 0, 0, 0, default_handler, default_handler, 0, default_handler,
    default_handler};
void reset_handler(void)
{
    uint32_t *p;
    for (p = &__bss_start__; p < &__bss_end__; ++p) *p = 0;
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: the FPU, for -mfloat-abi=hard code */
    __asm__ volatile("dsb\n isb" ::: "memory");
    semihost_exit(main());
}
"""

MAIN = r"""
#include <stdint.h>
#include <string.h>
#include "net.h"
@INPUTS@
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
void semihost_exit(int code)
{
    semihost(0x18, (const void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20024u)); /* SYS_EXIT */
    for (;;) {}
}
static void put(const char *s) { semihost(0x04, s); } /* SYS_WRITE0 */
uint32_t eq_marks[256];
void eq_mark(int op);
void eq_mark(int op) { eq_marks[op & 255] = SYST_CVR; }
static void put_hex(const uint8_t *data, uint32_t n, const char *label)
{
    static const char digits[] = "0123456789abcdef";
    char line[72];
    uint32_t i = 0, k;
    put(label);
    while (i < n) {
        for (k = 0; k < 32 && i < n; ++k, ++i) {
            line[2 * k] = digits[data[i] >> 4];
            line[2 * k + 1] = digits[data[i] & 15u];
        }
        line[2 * k] = 0;
        put(line);
    }
    put("\n");
}
static void put_uint(uint32_t v, const char *label)
{
    char text[12];
    int i = 11;
    text[i] = 0;
    do { text[--i] = (char)('0' + v % 10u); v /= 10u; } while (v);
    put(label);
    put(text + i);
    put("\n");
}
static void load(uint32_t s)
{
    @LOAD@
}
int main(void)
{
    uint32_t start, stop, s;
    load(0);
    net_invoke(); /* warm-up */
    load(0);
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0u;
    SYST_CSR = 5u; /* enable, processor clock, no interrupt */
    start = SYST_CVR;
    net_invoke();
    stop = SYST_CVR;
    put_uint((start - stop) & 0xFFFFFFu, "ticks ");
    @MARKS@
    for (s = 0; s < @SAMPLES@; ++s) {
        load(s);
        net_invoke();
        @OUTPUTS@
    }
    return 0;
}
"""


def tools() -> tuple[str, str] | None:
    """(arm-none-eabi-gcc, qemu-system-arm), or None when either is missing."""
    gcc, qemu = shutil.which("arm-none-eabi-gcc"), shutil.which("qemu-system-arm")
    return (gcc, qemu) if gcc and qemu else None


def seeded_inputs(model: Path, samples: int = 1, seed: int = 0) -> list[np.ndarray]:
    """``samples`` samples per model input (a leading sample axis): seeded random int8, or floats in
    [-1, 1]; with more than one, the first two int8 samples are all -128 and all 127."""
    from edgeq.model import read_model
    from edgeq.model.io import sample_shape

    rng = np.random.default_rng(seed)
    arrays = []
    for t in read_model(model).input_tensors:
        shape = (samples, *sample_shape(t.shape))
        if t.dtype == "float32":
            arrays.append(rng.uniform(-1, 1, shape).astype(np.float32))
            continue
        x = rng.integers(-128, 128, shape).astype(t.dtype)
        if samples > 1:
            x[0], x[1] = -128, 127
        arrays.append(x)
    return arrays


def _c_bytes(name: str, data: bytes) -> str:
    body = ",".join(str(b) for b in data)
    return f"static const uint8_t {name}[{max(len(data), 1)}] __attribute__((aligned(16))) = {{{body}}};"


def main_source(inputs: list[np.ndarray], n_outputs: int, per_op: list[int] | None = None) -> str:
    arrays = "\n".join(_c_bytes(f"input{i}", a.tobytes()) for i, a in enumerate(inputs))
    load = " ".join(
        f"memcpy(net_input({i}), input{i} + s * NET_INPUT{i}_BYTES, NET_INPUT{i}_BYTES);" for i in range(len(inputs))
    )
    outputs = " ".join(
        f'put_hex((const uint8_t *)net_output({i}), NET_OUTPUT{i}_BYTES, "out{i} ");' for i in range(n_outputs)
    )
    marks = " ".join(f'put_uint((start - eq_marks[{op}]) & 0xFFFFFFu, "mark {op} ");' for op in (per_op or []))
    source = MAIN.replace("@INPUTS@", arrays).replace("@LOAD@", load).replace("@OUTPUTS@", outputs)
    return source.replace("@MARKS@", marks).replace("@SAMPLES@", f"{len(inputs[0]) if inputs else 1}u")


def mark_ops(net_c: Path) -> list[int]:
    """Record SysTick after every op of the generated invoke (for --per-op); returns the op indices."""
    lines, ops = [], []
    for line in net_c.read_text().splitlines():
        lines.append(line)
        if line.startswith("    /* op ") and line.rstrip().endswith("*/"):
            ops.append(int(line.split()[2].rstrip(":")))
        elif ops and line.startswith("    eq_") and line.rstrip().endswith(";"):
            lines.append(f"    eq_mark({ops[-1]});")
    text = "\n".join(lines).replace("int net_invoke(void) {", "void eq_mark(int op);\nint net_invoke(void) {")
    net_c.write_text(text + "\n")
    return ops


def build_elf(
    model: Path, work: Path, inputs: list[np.ndarray], cpu: str = "cortex-m4", simd: bool = True, per_op: bool = False
) -> Path:
    """Generate the engine for ``model`` in ``work`` and link it with the harness for ``cpu``."""
    from edgeq.codegen import generate
    from edgeq.model import read_model

    generate(model, "engine", work, name="net")
    ops = mark_ops(work / "net.c") if per_op else None
    (work / "main.c").write_text(main_source(inputs, len(read_model(model).outputs), ops))
    (work / "startup.c").write_text(STARTUP)
    (work / "mps2.ld").write_text(LINKER_SCRIPT.replace("4M", MACHINES.get(cpu, DEFAULT_MACHINE)[2]))
    fpu = FPU.get(cpu, "")
    float_flags = ["-mfloat-abi=hard", *([f"-mfpu={fpu}"] if fpu else [])] if cpu in FPU else ["-mfloat-abi=soft"]
    flags = ["-std=c99", f"-mcpu={cpu}", "-mthumb", *float_flags, "-O2", "--specs=rdimon.specs", "-nostartfiles"]
    if not simd:
        flags.append("-DEDGEQ_NO_SIMD")
    elf = work / "engine.elf"
    sources = sorted(str(p) for p in work.glob("*.c"))
    cmd = ["arm-none-eabi-gcc", *flags, "-T", str(work / "mps2.ld"), "-o", str(elf), *sources]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"arm-none-eabi-gcc failed:\n{done.stderr}")
    return elf


def run_elf(elf: Path, machine: str | None = None, cpu: str = "cortex-m4", timeout: float = 300) -> dict:
    """Run on QEMU (the core's machine by default); returns {"instructions": int, "outputs": [bytes, ...]}."""
    default, per_tick, _ = MACHINES.get(cpu, DEFAULT_MACHINE)
    machine = machine or default
    cmd = ["qemu-system-arm", "-M", machine, "-cpu", cpu, "-icount", "shift=0", "-nographic", "-monitor", "none"]
    cmd += ["-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = (done.stdout + done.stderr).splitlines()  # QEMU writes semihosting output to stderr
    ticks = [int(line.split()[1]) for line in lines if line.startswith("ticks ")]
    if done.returncode != 0 or not ticks:
        raise RuntimeError(f"qemu-system-arm exited {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    outputs = [bytes.fromhex(line.split(maxsplit=1)[1]) for line in lines if line.startswith("out")]
    marks = [(int(line.split()[1]), round(int(line.split()[2]) * per_tick)) for line in lines if line[:5] == "mark "]
    return {"instructions": round(ticks[0] * per_tick), "outputs": outputs, "marks": marks}


def host_outputs(model: Path, inputs: list[np.ndarray]) -> list[bytes]:
    """The host-c engine's output bytes for the same inputs, sample after sample, output after output."""
    from edgeq.batch_run import run

    outputs = [np.ascontiguousarray(o) for o in run(model, "host-c", inputs).outputs]
    return [o[s].tobytes() for s in range(len(inputs[0])) for o in outputs]


def measure(model: Path, cpu: str = "cortex-m4", simd: bool = True, per_op: bool = False, samples: int = 1) -> dict:
    """Instructions per invoke on the emulated core and whether its outputs equal host-c's.

    ``per_op``: also "ops", (op index, instructions) of every op (the marks cost a few each).
    ``samples``: inputs compared with host-c (instructions are counted on the first).
    """
    inputs = seeded_inputs(model, samples)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_elf(build_elf(model, Path(tmp), inputs, cpu, simd, per_op), cpu=cpu)
    ends = result.pop("marks")
    result["ops"] = [(op, end - before) for (op, end), before in zip(ends, [0] + [e for _, e in ends])]
    result["matches_host"] = result.pop("outputs") == host_outputs(model, inputs)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--cpu", default="cortex-m4")
    parser.add_argument("--no-simd", action="store_true", help="build the portable C path (-DEDGEQ_NO_SIMD)")
    parser.add_argument("--per-op", action="store_true", help="also print the instructions of every op")
    args = parser.parse_args(argv)
    if tools() is None:
        print("needs arm-none-eabi-gcc and qemu-system-arm", file=sys.stderr)
        return 2
    models = args.models or [ZOO / name / "int8.tflite" for name in TARGETS]
    print(f"| model | instructions / invoke ({args.cpu}) | target | bytes equal host-c |")
    print("| --- | ---: | ---: | --- |")
    ok = True
    for model in models:
        name = model.parent.name if model.name == "int8.tflite" else model.stem
        r = measure(model, args.cpu, not args.no_simd, args.per_op)
        target = TARGETS.get(name)
        met = target is None or r["instructions"] <= target
        ok = ok and r["matches_host"]
        shown = "-" if target is None else f"{target / 1e6:.2f} M {'ok' if met else 'MISSED'}"
        print(f"| {name} | {r['instructions'] / 1e6:.2f} M | {shown} | {'yes' if r['matches_host'] else 'NO'} |")
        for op, count in r["ops"]:
            print(f"|   op {op} | {count / 1e6:.3f} M | | |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
