"""Measure the TFLM tensor arena a model needs, with the tflite-micro interpreter.

The ``tflite-micro`` package runs TFLM's reference kernels on the host. Its
recording allocator reports the arena bytes used (head: tensors planned
offline; tail: persistent structures), but for some models (per-channel
FULLY_CONNECTED, for one) a kernel needs more than that report while preparing.
edgeq therefore takes the smallest arena with which the interpreter really
allocates *and* invokes, found by bisection from the reported total, each try
in its own process (the interpreter can abort near the limit). That number is
exact for this host build: 16 bytes less fails. 32-bit targets need somewhat
less (smaller pointers and structs); optimized kernel libraries (CMSIS-NN,
ESP-NN) may ask for scratch buffers the reference kernels do not, which the
margin is for.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.errors import DependencyError, UnsupportedError
from edgeq.log import logger
from edgeq.tflm_errors import reason
from edgeq.worker import worker_command

MARGIN_FRACTION = 0.05
ALIGN = 16
PROBE_TIMEOUT_S = 120


@dataclass(frozen=True)
class ArenaMeasurement:
    """The arena a model needs in TFLM, and the constant to write."""

    measured_bytes: int
    recorded_bytes: int
    head_bytes: int
    tail_bytes: int
    margin_bytes: int

    @property
    def arena_bytes(self) -> int:
        return self.measured_bytes + self.margin_bytes

    @property
    def how(self) -> str:
        extra = (
            f"; its recording allocator reported {self.recorded_bytes} (head {self.head_bytes} + tail "
            f"{self.tail_bytes}), kernels needed {self.measured_bytes - self.recorded_bytes} more while preparing"
            if self.measured_bytes > self.recorded_bytes
            else f" (head {self.head_bytes} + tail {self.tail_bytes})"
        )
        return (
            f"smallest arena with which the tflite-micro interpreter (reference kernels, 64-bit host) allocates "
            f"and invokes: {self.measured_bytes} bytes{extra}; plus a margin of {self.margin_bytes} bytes "
            f"({MARGIN_FRACTION:.0%}, rounded up to {ALIGN})"
        )


def probe(model_path: Path, arena: int, record: bool = False) -> dict | None:
    """Run the model with ``arena`` bytes in a child process; the probe's JSON, or None if it crashed."""
    cmd = worker_command("probe", str(model_path), str(arena))
    try:
        done = procs.run(
            [*cmd, *(["--record"] if record else [])], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return None
    if "No module named 'tflite_micro'" in done.stderr:
        raise DependencyError("the tflite-micro package is missing; pip install tflite-micro")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode < 0 or not lines:
        logger.debug("tflm probe with %d bytes ended with %d: %s", arena, done.returncode, done.stderr[-500:])
        return None
    result = json.loads(lines[-1])
    if not result["ok"]:
        result["log"] = done.stderr
    return result


def runs_with(model_path: Path, arena: int) -> bool:
    """True when TFLM allocates and invokes the model with exactly ``arena`` bytes."""
    result = probe(model_path, arena)
    return bool(result and result["ok"])


def measure_arena(model: bytes) -> ArenaMeasurement:
    """Measure the arena of ``model`` (validated .tflite bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(model)
        generous = max(len(model) * 10, 1 << 20)
        first = probe(path, generous, record=True)
        if not first or not first["ok"] or "total" not in first:
            raise UnsupportedError(f"TensorFlow Lite Micro cannot run this model: {_reason(first)}")
        measured = _smallest(path, first["total"], generous)
    margin = -(-int(measured * MARGIN_FRACTION) // ALIGN) * ALIGN
    return ArenaMeasurement(measured, first["total"], first["head"], first["tail"], max(margin, ALIGN))


def _smallest(path: Path, low: int, high: int) -> int:
    """Bisect in steps of 16 bytes for the smallest arena that works (``high`` works)."""
    if runs_with(path, low):
        return low
    low, high = low // ALIGN + 1, -(-high // ALIGN)  # in units of ALIGN; low fails, high works
    while low < high:
        mid = (low + high) // 2
        if runs_with(path, mid * ALIGN):
            high = mid
        else:
            low = mid + 1
    return high * ALIGN


def _reason(result: dict | None) -> str:
    if result is None:
        return "the tflite-micro interpreter crashed while loading it"
    return reason(result.get("log", ""), result.get("error", "unknown error"))
