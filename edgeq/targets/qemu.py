"""``qemu-m4``, ``qemu-m7``, ``qemu-m55``: the compiled engine as firmware on an emulated Cortex-M board.

The model is generated, built with arm-none-eabi-gcc for the board (cached by
model and sources under ``$EDGEQ_CACHE``), started in QEMU with ``-icount
shift=0`` and driven over the UART's pty by the same code as a real board.
Under icount, virtual time advances 2**shift ns per instruction, so the
board's microsecond laps are instruction counts; the board file's CPI
assumption and its ``estimate_for`` board turn them into an estimated latency
and energy on real silicon.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeq import procs
from edgeq.boards import Board, load_board
from edgeq.cache import cache_dir, cached_folder
from edgeq.codegen import generate
from edgeq.codegen.engine.hooks import engine_calls
from edgeq.codegen.engine.sources import generator_fingerprint
from edgeq.errors import DeviceError, EdgeqError, UsageError
from edgeq.firmware.counts import plugin_args, plugin_library, read_counts
from edgeq.firmware.project import ENGINE_SUBDIR
from edgeq.measurements import Cycles, Energy, Memory, OpTime, Timing
from edgeq.model import read_model
from edgeq.serialdut.link import DeviceStoppedError
from edgeq.serialdut.parse import lap_delta_us
from edgeq.targets.base import Capabilities
from edgeq.targets.qemu_cycles import estimate_cycles
from edgeq.targets.serial import SerialSession, SerialTarget, check_board

log = logging.getLogger(__name__)

BOARDS = {"qemu-m4": "qemu-mps2-an386", "qemu-m7": "qemu-mps2-an500", "qemu-m55": "qemu-mps3-an547"}
BUILD_RECORD = "build.json"
COMMAND_S = 10.0  # seconds a command may take before the emulated firmware counts as hung
PER_INFERENCE_S = 10.0  # emulated inferences are slow; a silent board still fails, just later
UART_LINES = 4  # last UART lines an error about a crashed or hung firmware shows
QEMU_EXIT_S = 1.0  # how long a closed pty may take to become an exited QEMU
_PC = re.compile(r"pc=(0x[0-9a-f]+)")
CAPABILITIES = Capabilities(
    summary="the compiled engine as firmware on an emulated Cortex-M board (QEMU, instruction-counted)",
    op_times=True,
)


@dataclass(frozen=True)
class Estimate:
    """Instructions per inference turned into time (and energy) on a real board."""

    instructions: int
    latency_ms: float
    latency_source: str
    energy: Energy | None


class QemuTarget:
    """The engine firmware on one emulated board."""

    capabilities = CAPABILITIES

    def __init__(self, name: str, board_id: str) -> None:
        self.name = name
        self.board = load_board(board_id)

    def firmware(self, model: bytes):
        """Build (or reuse) the firmware for ``model``; returns the BuildResult.

        The build is a cache entry (:mod:`edgeq.cache`): made once, whatever number of edgeq processes ask at once.
        """
        from edgeq.firmware.build import firmware_fingerprint

        key = hashlib.sha256(model + generator_fingerprint() + firmware_fingerprint()).hexdigest()[:20]
        folder = cached_folder(cache_dir() / "qemu" / self.board.id / key, lambda stage: self._build(model, stage))
        return _load_build(folder)

    def _build(self, model: bytes, folder: Path) -> None:
        from edgeq.firmware.build import build_firmware

        (folder / "model.tflite").write_bytes(model)
        generate(folder / "model.tflite", "engine", folder / "engine", name="net")
        result = build_firmware(folder / "engine", self.board, folder / "firmware")
        record = dict(result.to_dict(), elf=str(result.elf.resolve().relative_to(folder.resolve())))
        (folder / BUILD_RECORD).write_text(json.dumps(record))

    def _serial(self, port: str | None) -> SerialTarget:
        if port is None:
            raise DeviceError(f"QEMU for {self.board.id} started without a UART pty")
        return SerialTarget(port, 115200, timeout=COMMAND_S, per_inference_s=PER_INFERENCE_S)

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Every sample through the firmware under QEMU; raw output bytes via the ``raw%`` command."""
        from edgeq.firmware.qemu import Emulator

        build = self.firmware(model)
        with Emulator(build.elf, self.board) as emu, self._watched(emu, build.elf):
            return self._serial(emu.port).run(model, inputs)

    @contextlib.contextmanager
    def session(self, model: bytes) -> Iterator[SerialSession]:
        """The firmware started in QEMU and checked; each sample's instructions estimated as time on the real board.

        QEMU is stopped when the context ends, whatever ends it.
        """
        from edgeq.firmware.qemu import Emulator

        build = self.firmware(model)
        graph = read_model(model)
        shift = self.board.qemu.icount_shift if self.board.qemu else 0

        def to_ms(t0_us: int, t1_us: int) -> tuple[float, bool]:
            return estimate_time(self.board, lap_delta_us(t0_us, t1_us) * 1000.0).latency_ms, True

        with (
            Emulator(build.elf, self.board) as emu,
            self._watched(emu, build.elf),
            self._serial(emu.port).connect() as dut,
        ):
            check_board(dut, graph)
            real = self.real_board
            source = (
                f"instructions counted under QEMU -icount shift={shift} x the board file's CPI / {_clock_name(real)}"
            )
            yield SerialSession(dut, graph, "auto", to_ms, source)

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Instructions per inference from one window of ``runs`` inferences; cycles and per-op figures
        from the QEMU plugin's counts of the same session; turned into estimates for the real board."""
        from edgeq.serialdut.outputs import sample_bytes

        build = self.firmware(model)
        graph = read_model(model)
        calls = engine_calls((build.elf.parent / ENGINE_SUBDIR / "net.c").read_text())  # the project's copy
        with tempfile.TemporaryDirectory(prefix="edgeq-counts-") as tmp:
            counts_path = Path(tmp) / "counts.txt"
            plugin = self._plugin(build.elf, len(calls), counts_path) if calls else []
            result = self._session(build.elf, graph, sample_bytes(graph.input_tensors, sample)[0], runs, warmup, plugin)
            counts = read_counts(counts_path) if plugin else None
        if result.t0_us is None or result.t1_us is None:
            raise DeviceError(f"the firmware on {self.board.id} printed no m-lap-us timestamps")
        shift = self.board.qemu.icount_shift if self.board.qemu else 0
        virtual_ns = lap_delta_us(result.t0_us, result.t1_us) * 1000.0 / runs
        counted = None
        if counts is not None:
            real = self.real_board
            counted = estimate_cycles(
                counts,
                build.elf,
                calls,
                graph,
                self.board.cpu.core,
                round(virtual_ns / 2**shift),
                real.clock_hz or 1.0,
                _clock_name(real),
            )
        estimate = estimate_time(self.board, virtual_ns, None if counted is None else counted.cycles)
        return Timing(
            (estimate.latency_ms,) * runs,
            latency_kind="estimated",
            latency_source=estimate.latency_source,
            instructions=estimate.instructions,
            memory=Memory(ram_bytes=build.ram_bytes, flash_bytes=build.flash_bytes),
            energy=estimate.energy,
            notes=(
                "deterministic under -icount: every run takes the same instruction count, so the spread is 0",
                f"firmware: text {build.text:,} B, data {build.data:,} B, bss {build.bss:,} B",
            ),
            cycles=None if counted is None else counted.cycles,
            ops=(None if calls else ()) if counted is None else counted.ops,
        )

    def op_times(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int) -> list[OpTime]:
        """Instructions, estimated cycles and time of every kernel call (one profiling session)."""
        return list(self.profile(model, sample, runs, warmup).ops or ())

    @property
    def real_board(self) -> Board:
        """The board the emulated one stands in for (itself when it names none)."""
        return stand_in(self.board)

    def _plugin(self, elf: Path, calls: int, out: Path) -> list[str]:
        """The ``-plugin`` option that counts instructions per kernel call; [] (with a warning) when unavailable."""
        try:
            return plugin_args(plugin_library(), elf, calls, out)
        except EdgeqError as exc:
            log.warning("no cycle estimate or per-op figures on %s: %s", self.board.id, exc)
            return []

    def _session(self, elf: Path, graph, data: bytes, runs: int, warmup: int, plugin: list[str]):
        """Start the board, load the sample, run ``warmup`` + ``runs`` inferences; QEMU has ended on return."""
        from edgeq.firmware.qemu import Emulator

        with (
            Emulator(elf, self.board, extra=plugin) as emu,
            self._watched(emu, elf),
            self._serial(emu.port).connect() as dut,
        ):
            check_board(dut, graph)
            dut.load_input(data)
            return dut.infer(runs, warmup)

    @contextlib.contextmanager
    def _watched(self, emu, elf: Path) -> Iterator[None]:
        """Say what became of the emulated firmware when it stops answering: crashed, hung, or QEMU ended."""
        try:
            yield
        except DeviceStoppedError as exc:
            raise DeviceError(self._stopped(emu, elf, exc)) from exc

    def _stopped(self, emu, elf: Path, exc: DeviceStoppedError) -> str:
        where = f"the emulated firmware on {self.board.id} ({self.name})"
        shown = [line[:80] for line in exc.received if line != exc.fault][-UART_LINES:]
        lines = f"; last UART lines: {' | '.join(shown)}" if shown else "; it printed nothing"
        deadline = time.monotonic() + QEMU_EXIT_S  # a closed pty usually means QEMU is on its way out
        while exc.lost and emu.running and time.monotonic() < deadline:
            time.sleep(0.05)
        if not emu.running:
            verb, how = _qemu_end(emu)
            return f"{where} {verb} during {exc.command}: {how}{lines}"
        if exc.fault:
            pc = _PC.search(exc.fault)
            fix = f"; find the faulting code with arm-none-eabi-addr2line -f -e {elf} {pc[1]}" if pc else ""
            return f"{where} crashed during {exc.command}: {exc.fault}{lines}{fix}"
        if exc.lost:
            return f"{where} lost its UART during {exc.command}{lines}"
        waited = f"{exc.waited:g} s" if exc.waited is not None else "the timeout"
        fix = "; run the model on host-c to check the engine"
        return f"{where} hung during {exc.command}: no reply within {waited} and no fault report{lines}{fix}"


def _qemu_end(emu) -> tuple[str, str]:
    """("crashed" or "stopped", how QEMU ended and its last output); SIGABRT is QEMU's answer to a locked-up CPU."""
    name, code = Path(emu.command[0]).name, emu.proc.returncode if emu.proc is not None else None
    last = f"its last output: {emu.last_output()}"
    if code is None or code >= 0:
        return "stopped", f"{name} exited with code {code}; {last}"
    how = f"{name} was killed by {procs.signal_name(code)}"
    if code == -signal.SIGABRT:
        how += " (QEMU aborts when the CPU locks up: a fault while handling a fault, or a broken stack pointer)"
        return "crashed", f"{how}; {last}"
    return "stopped", f"{how}; {last}"


def estimate_time(board: Board, virtual_ns: float, cycles: Cycles | None = None) -> Estimate:
    """Virtual nanoseconds per inference -> instructions -> estimated latency and energy on a real board.

    With ``cycles`` (the plugin's estimate) latency is cycles / clock; without, instructions x the board
    file's CPI assumption.
    """
    spec = board.qemu
    if spec is None:
        raise UsageError(f"board {board.id} is not emulated")
    instructions = round(virtual_ns / 2**spec.icount_shift)
    real = stand_in(board)
    if real.clock_hz is None:
        raise UsageError(f"board {real.id} has no clock_hz, so {board.id}'s instructions cannot become a latency")
    counted = f"{instructions:,} instructions (QEMU {spec.machine}, -icount shift={spec.icount_shift})"
    if cycles is not None:
        latency_ms = cycles.value / real.clock_hz * 1e3
        source = f"{cycles.value:,.0f} estimated cycles ({counted}) / {_clock_name(real)}"
    else:
        latency_ms = instructions * spec.cpi_assumption / real.clock_hz * 1e3
        source = f"{counted} x CPI {spec.cpi_assumption:g} (assumed; board file) / {_clock_name(real)}"
    figure = real.power_mw() if spec.estimate_for else None
    energy = None
    if figure is not None:
        energy = Energy(
            figure.value_mw * latency_ms,
            "estimated",
            f"{real.id} power {figure.value_mw:g} mW ({figure.kind}) x the estimated latency",
        )
    return Estimate(instructions, latency_ms, source, energy)


def stand_in(board: Board) -> Board:
    """The real board an emulated one stands in for (its ``estimate_for``), or the board itself."""
    spec = board.qemu
    return load_board(spec.estimate_for) if spec is not None and spec.estimate_for else board


def _clock_name(board: Board) -> str:
    return f"{(board.clock_hz or 0) / 1e6:g} MHz of {board.id}"


def _load_build(folder: Path):
    """The BuildResult a cache entry recorded, its image path made absolute again."""
    from edgeq.firmware.build import BuildResult

    record = json.loads((folder / BUILD_RECORD).read_text())
    fields = {k: record[k] for k in BuildResult.__dataclass_fields__}
    return BuildResult(**dict(fields, elf=folder / fields["elf"]))


def make_target(name: str) -> QemuTarget:
    """The emulated board behind ``name`` (qemu-m4, qemu-m7, qemu-m55); no options."""
    return QemuTarget(name, BOARDS[name])
