"""The board database schema: frozen dataclasses, each validated in ``__post_init__``.

A board file records what edgeq needs to build for, run on and estimate a board
(core and ISA flags, clock, flash, RAM, memory map, serial settings, flasher,
runtimes, QEMU timing, power figures, published reference results) and where
every number comes from. Each dataclass checks its fields in ``__post_init__``
against its ``RULES``, so a bad file fails on load naming the file and field.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from edgeq.boards.npu_schema import NpuSpec, npu_from_dict
from edgeq.boards.rules import Rules, check, validate
from edgeq.errors import UsageError

BENCHMARKS = {"ic": "ResNet-8", "kws": "DS-CNN", "vww": "MobileNetV1 0.25", "ad": "FC autoencoder"}
# tflm-ethos-u: TFLM built with the Ethos-U custom op (CO_PROCESSOR=ethos_u) and Arm's core driver.
RUNTIMES = ("tflm", "tflm-ethos-u", "edgeq-engine", "litert", "tflite-runtime", "edgetpu")
FLASHERS = ("openocd", "pyocd", "st-flash", "nrfjprog", "commander", "bossac", "picotool", "esptool", "qemu", "none")
# Board fields whose value, when present, must have an entry in Board.sources.
SOURCED = (
    "cpu",
    "clock_hz",
    "flash_bytes",
    "ram_bytes",
    "memory_map",
    "serial",
    "qemu",
    "edgetpu",
    "power_measurement",
    "usb_ids",
)


class BoardKind(str, Enum):
    """What a board is, which decides how edgeq reaches it."""

    MCU = "mcu"  # a real microcontroller: flashed, then driven over a serial port
    EMULATED_MCU = "emulated-mcu"  # a QEMU machine: ELF passed to -kernel, UART on -serial pty
    LINUX = "linux"  # a Linux board reached over SSH
    ACCELERATOR = "accelerator"  # a device attached to a host (Edge TPU)
    # an Arm Corstone reference design: an FPGA image on an MPS3 board or a Fixed Virtual Platform;
    # edgeq generates projects for it but does not drive it (clock and serial may be unknown)
    REFERENCE_DESIGN = "reference-design"


@dataclass(frozen=True)
class CpuSpec:
    """The compute core: name, count, architecture and the ISA features int8 kernels care about."""

    core: str  # e.g. cortex-m4f, cortex-a72, edge-tpu
    cores: int
    arch: str  # e.g. armv7e-m, armv8.1-m.main, armv8-a
    dsp: bool  # Arm M-profile DSP extension (SMLAD & co.)
    fpu: str
    simd: str
    RULES: ClassVar[Rules] = {"core": "text", "cores": "count", "arch": "text", "dsp": "bool"}
    RULES.update(fpu=("none", "sp", "dp"), simd=("none", "mve", "neon", "xtensa-pie"))

    def __post_init__(self) -> None:
        validate(self)
        check(self.simd != "mve" or self.arch.startswith("armv8.1-m"), "simd", "mve (Helium) needs arch armv8.1-m")


@dataclass(frozen=True)
class MemoryRegion:
    """One region of an emulated board's memory map; ``role`` is code, data or other."""

    name: str
    base: int
    size: int
    role: str
    RULES: ClassVar[Rules] = {"name": "text", "base": "address", "size": "count", "role": ("code", "data", "other")}

    def __post_init__(self) -> None:
        validate(self)
        check(self.base + self.size <= 2**32, "size", "region runs past the 32-bit address space")


@dataclass(frozen=True)
class SerialSpec:
    """How the firmware talks: UART settings and where the host finds the port."""

    port: str
    baud: int = 115200
    format: str = "8N1"
    uart: str | None = None
    uart_base: int | None = None
    energy_baud: int | None = None  # EEMBC energy mode, through the isolating IO manager
    RULES: ClassVar[Rules] = {
        "port": "text",
        "baud": "count",
        "uart": "text?",
        "uart_base": "address?",
        "energy_baud": "count?",
    }

    def __post_init__(self) -> None:
        validate(self)
        check(
            bool(re.fullmatch(r"[5-8][NEO][12]", str(self.format))),
            "format",
            f"must look like 8N1, got {self.format!r}",
        )


@dataclass(frozen=True)
class QemuSpec:
    """How an emulated board is run, and timed under ``-icount shift=N`` (2**N ns per instruction)."""

    machine: str
    cpu: str
    systick_clock_hz: int
    instructions_per_systick: float
    cpi_assumption: float  # cycles per instruction, to turn instruction counts into time on real silicon
    cpi_source: str
    icount_shift: int = 0
    binary: str = "qemu-system-arm"
    estimate_for: str | None = None  # id of the real board (same core) whose clock and power turn counts into estimates
    RULES: ClassVar[Rules] = {"machine": "text", "cpu": "text", "systick_clock_hz": "count", "cpi_source": "text"}
    RULES.update(
        instructions_per_systick="number",
        cpi_assumption="number",
        icount_shift=tuple(range(11)),
        binary="text",
        estimate_for="text?",
    )

    def __post_init__(self) -> None:
        validate(self)
        expected = 1e9 / 2**self.icount_shift / self.systick_clock_hz
        ok = math.isclose(self.instructions_per_systick, expected, rel_tol=1e-9)
        check(
            ok,
            "instructions_per_systick",
            f"is {self.instructions_per_systick}; 1e9 / 2**shift / SysTick Hz = {expected:g}",
        )


@dataclass(frozen=True)
class PowerFigure:
    """Average power during inference, with its source; ``derived_from`` names a reference submission."""

    value_mw: float
    kind: str
    source: str
    derived_from: str | None = None  # "<suite> <version>" of this board's reference results
    range_mw: tuple[float, float] | None = None  # the spread of the figures the value summarises
    preferred: bool = False
    note: str | None = None
    RULES: ClassVar[Rules] = {"value_mw": "number", "kind": ("derived", "datasheet"), "source": "text"}
    RULES.update(derived_from="text?", preferred="bool", note="text?")

    def __post_init__(self) -> None:
        validate(self)
        check(self.kind != "derived" or self.derived_from is not None, "derived_from", "a derived figure must name it")
        if self.range_mw is not None:
            rng = self.range_mw
            ok = isinstance(rng, (list, tuple)) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng)
            check(
                ok and rng[0] <= self.value_mw <= rng[1],
                "range_mw",
                f"must be [low, high] around value_mw, got {rng!r}",
            )
            object.__setattr__(self, "range_mw", (float(rng[0]), float(rng[1])))


@dataclass(frozen=True)
class ReferenceResult:
    """One published benchmark result on a board (MLPerf Tiny: ms and uJ per inference)."""

    suite: str
    version: str
    system: str
    framework: str
    benchmark: str
    latency_ms: float
    source: str
    energy_uj: float | None = None
    quality: float | None = None  # top-1 accuracy in %, or AUC for anomaly detection ("ad")
    clock_hz: int | None = None
    RULES: ClassVar[Rules] = {
        name: "text" for name in ("suite", "version", "system", "framework", "benchmark", "source")
    }
    RULES.update(latency_ms="number", energy_uj="number?", quality="number?", clock_hz="count?")

    def __post_init__(self) -> None:
        validate(self)
        check(
            self.suite != "mlperf-tiny" or self.benchmark in BENCHMARKS,
            "benchmark",
            f"must be one of {list(BENCHMARKS)}",
        )
        top = 1.0 if self.benchmark == "ad" else 100.0
        check(self.quality is None or self.quality <= top, "quality", f"must be at most {top}, got {self.quality}")

    @property
    def submission(self) -> str:
        """``"<suite> <version>"``, the label power figures use in ``derived_from``."""
        return f"{self.suite} {self.version}"

    @property
    def power_mw(self) -> float | None:
        """Average power during inference, energy / latency (uJ / ms = mW), if energy was published."""
        return None if self.energy_uj is None else self.energy_uj / self.latency_ms


@dataclass(frozen=True)
class PublishedLatency:
    """A vendor-published time per inference for one model and configuration."""

    model: str
    config: str
    latency_ms: float
    RULES: ClassVar[Rules] = {"model": "text", "config": "text", "latency_ms": "number"}

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class EdgeTpuSpec:
    """Edge TPU facts: peak throughput, efficiency, toolchain and published latencies (all from ``source``)."""

    tops_int8: float
    tops_per_watt: float
    compiler: str
    runtime_library: str
    source: str
    latencies: tuple[PublishedLatency, ...] = ()
    RULES: ClassVar[Rules] = {"tops_int8": "number", "tops_per_watt": "number", "compiler": "text"}
    RULES.update(runtime_library="text", source="text")

    def __post_init__(self) -> None:
        validate(self)
        object.__setattr__(self, "latencies", tuple(self.latencies))


@dataclass(frozen=True)
class Board:
    """One board of the database. ``sources`` maps a field name to where its numbers come from.

    ``flash_bytes`` is the capacity for code and read-only data, ``ram_bytes``
    for data, stack and tensor arena (the code and data regions of an
    emulated board's memory map); None where unknown or not applicable.
    """

    id: str
    name: str
    kind: BoardKind
    vendor: str
    cpu: CpuSpec
    clock_hz: int | None
    flash_bytes: int | None
    ram_bytes: int | None
    flasher: str
    runtimes: tuple[str, ...]
    sources: dict[str, str] = field(hash=False)
    flash_external: bool = False
    memory_map: tuple[MemoryRegion, ...] = ()
    serial: SerialSpec | None = None
    qemu: QemuSpec | None = None
    power: tuple[PowerFigure, ...] = ()
    power_measurement: str | None = None  # how the board measures its own power, if it can
    reference_results: tuple[ReferenceResult, ...] = ()
    edgetpu: EdgeTpuSpec | None = None
    npu: NpuSpec | None = None  # an Arm Ethos-U NPU beside the CPU (runtimes: tflm-ethos-u)
    notes: tuple[str, ...] = ()
    usb_ids: tuple[str, ...] = ()  # "vvvv:pppp" (hex) of the USB device the host sees: probe, USB-serial bridge
    path: Path | None = field(default=None, compare=False)
    RULES: ClassVar[Rules] = {
        "name": "text",
        "kind": tuple(k.value for k in BoardKind),
        "vendor": "text",
        "flasher": FLASHERS,
    }
    RULES.update(clock_hz="count?", flash_bytes="count?", ram_bytes="count?", flash_external="bool")
    RULES.update(power_measurement="text?")

    def __post_init__(self) -> None:
        for name in ("runtimes", "memory_map", "power", "reference_results", "notes", "usb_ids"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.npu is not None and not isinstance(self.npu, NpuSpec):
            object.__setattr__(self, "npu", npu_from_dict(self.npu))
        check(
            bool(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", str(self.id))),
            "id",
            f"must be lowercase-with-dashes: {self.id!r}",
        )
        validate(self)
        object.__setattr__(self, "kind", BoardKind(self.kind))
        check(
            self.clock_hz is None or 1e6 <= self.clock_hz <= 5e9, "clock_hz", f"{self.clock_hz} is not 1 MHz to 5 GHz"
        )
        check(
            bool(self.runtimes) and set(self.runtimes) <= set(RUNTIMES),
            "runtimes",
            f"must be some of: {', '.join(RUNTIMES)}",
        )
        check(
            ("edgetpu" in self.runtimes) == (self.edgetpu is not None), "edgetpu", "block goes with the edgetpu runtime"
        )
        check(
            ("tflm-ethos-u" in self.runtimes) == (self.npu is not None),
            "npu",
            "block goes with the tflm-ethos-u runtime",
        )
        self._check_kind()
        bad_ids = [u for u in self.usb_ids if not re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{4}", str(u))]
        check(not bad_ids, "usb_ids", f"must be lowercase hex vvvv:pppp, got {bad_ids}")
        self._check_power()
        self._check_sources()

    def _check_kind(self) -> None:
        emulated = self.kind is BoardKind.EMULATED_MCU
        check((self.qemu is not None) == emulated, "qemu", "block is required on emulated boards and only there")
        check((self.flasher == "qemu") == emulated, "flasher", "is qemu exactly on emulated boards")
        if self.kind in (BoardKind.MCU, BoardKind.EMULATED_MCU):
            check(self.serial is not None, "serial", "is required on microcontroller boards")
            check(None not in (self.clock_hz, self.ram_bytes), "clock_hz", "and ram_bytes are required on MCUs")
        else:
            check(self.flasher == "none", "flasher", f"must be none on {self.kind.value} boards")
        for role, size in (("code", self.flash_bytes), ("data", self.ram_bytes)):
            sizes = [r.size for r in self.memory_map if r.role == role]
            check(not emulated or sizes == [size], "memory_map", f"needs one {role} region of the board's size {size}")

    def _check_power(self) -> None:
        check(sum(p.preferred for p in self.power) <= 1, "power", "at most one figure may be preferred")
        for n, figure in enumerate(self.power):
            if figure.derived_from is None:
                continue
            ratios = [r.power_mw for r in self.reference_results if r.submission == figure.derived_from]
            check(bool(ratios), f"power[{n}].derived_from", f"{figure.derived_from!r} is no reference submission")
            low, high = figure.range_mw or (figure.value_mw, figure.value_mw)
            bad = [round(x, 2) for x in ratios if x is not None and not low <= x <= high]
            check(not bad, f"power[{n}].range_mw", f"[{low}, {high}] misses energy / latency = {bad} mW")

    def _check_sources(self) -> None:
        check(isinstance(self.sources, dict), "sources", "must map field names to text")
        known = {f.name for f in fields(self)}
        for key, text in self.sources.items():
            check(key in known, "sources", f"{key!r} is not a board field")
            check(isinstance(text, str) and bool(text.strip()), f"sources.{key}", "must be non-empty text")
        missing = [name for name in SOURCED if getattr(self, name) not in (None, ()) and name not in self.sources]
        check(not missing, "sources", f"no source for {', '.join(missing)}")

    def source(self, name: str) -> str | None:
        """Where the value of field ``name`` comes from, if the board file says."""
        return self.sources.get(name)

    def fits(self, flash_bytes: int, ram_bytes: int) -> list[str]:
        """Human-readable problems with an image needing ``flash_bytes`` and ``ram_bytes``; [] if it fits.

        A capacity the board leaves unknown (external flash, Linux boards) is not checked.
        """
        problems = []
        for what, need, have in (("flash", flash_bytes, self.flash_bytes), ("RAM", ram_bytes, self.ram_bytes)):
            if isinstance(need, bool) or not isinstance(need, int) or need < 0:
                raise UsageError(f"{what} use must be a non-negative number of bytes, got {need!r}")
            if have is not None and need > have:
                problems.append(f"{what}: {need:,} B needed exceeds the {have:,} B of {self.id} by {need - have:,} B")
        return problems

    def power_mw(self) -> PowerFigure | None:
        """The figure to estimate energy with: the preferred one, else the first derived, else the first listed."""
        ranked = sorted(self.power, key=lambda p: (not p.preferred, p.kind != "derived"))
        return ranked[0] if ranked else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field (reference results flat, one per benchmark)."""
        data = asdict(self)
        data.pop("path")
        data["kind"] = self.kind.value
        return data
