"""Size the TFLM tensor arena a model needs on its target, starting from the host's tflite-micro.

The ``tflite-micro`` package runs TFLM's reference kernels on this (64-bit)
host. Its recording allocator reports the arena bytes used (head: tensors
planned offline; tail: persistent structures), but for some models (per-channel
FULLY_CONNECTED, for one) a kernel needs more than that report while preparing.
edgeq therefore first takes the smallest arena with which the host interpreter
really allocates *and* invokes, found by bisection from the reported total,
each try in its own process (the interpreter can abort near the limit). That
number is exact for the host build: 16 bytes less fails.

A microcontroller build differs: its pointers are 32 bits wide and Cortex-M
builds use CMSIS-NN, whose kernels ask for scratch buffers the reference
kernels do not. ``edgeq.codegen.arena32`` turns the host figure into the
figure of a 32-bit build with either kernel library; that, plus a small
margin, is the constant edgeq writes. A 64-bit host build of the generated
project uses the host figure plus the same margin (the header chooses by
pointer width).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgeq import procs
from edgeq.codegen.arena32 import TargetArena, target_arena
from edgeq.errors import DependencyError, UnsupportedError
from edgeq.log import logger
from edgeq.model import read_model
from edgeq.tflm_errors import reason
from edgeq.worker import worker_command

MARGIN_FRACTION = 0.02
ALIGN = 16
PROBE_TIMEOUT_S = 120


def margin(need: int) -> int:
    """The margin added to ``need``: MARGIN_FRACTION of it, rounded up to ALIGN, at least ALIGN."""
    return max(-(-int(need * MARGIN_FRACTION) // ALIGN) * ALIGN, ALIGN)


@dataclass(frozen=True)
class ArenaMeasurement:
    """The arena a model needs in TFLM on its target and on this host, and the constant to write.

    ``host_bytes`` is measured (host interpreter, 64-bit, reference kernels); ``target`` models a
    32-bit build with reference kernels or CMSIS-NN from it (``edgeq.codegen.arena32``).
    """

    host_bytes: int
    recorded_bytes: int
    head_bytes: int
    tail_bytes: int
    target: TargetArena

    @property
    def measured_bytes(self) -> int:
        """What the target needs before the margin (the ``arena_measured_bytes`` of ``--json``)."""
        return self.target.bytes

    @property
    def margin_bytes(self) -> int:
        return margin(self.measured_bytes)

    @property
    def arena_bytes(self) -> int:
        """The constant written for a 32-bit target."""
        return self.measured_bytes + self.margin_bytes

    @property
    def host_arena_bytes(self) -> int:
        """The constant for a 64-bit host build of the same project."""
        return self.host_bytes + margin(self.host_bytes)

    @property
    def how(self) -> str:
        t = self.target
        return (
            f"modeled for a 32-bit build of TFLM (reference kernels {t.reference_bytes}, CMSIS-NN with the DSP "
            f"extension {t.cmsis_nn_bytes} bytes; the larger is used): {self.measured_bytes} bytes = "
            f"{self._host_text()} - {t.pointer_savings} saved by the 32-bit layout + {t.cmsis_scratch_bytes} for "
            f"CMSIS-NN's largest scratch buffer + {t.cmsis_op_data_bytes} for its kernel data (rounded up to "
            f"{ALIGN}); plus a margin of {self.margin_bytes} bytes ({MARGIN_FRACTION:.0%}, rounded up to {ALIGN})"
        )

    def _host_text(self) -> str:
        split = f"head {self.head_bytes} + tail {self.tail_bytes}"
        extra = (
            f"; its recording allocator reported {self.recorded_bytes} ({split}), kernels needed "
            f"{self.host_bytes - self.recorded_bytes} more while preparing"
            if self.host_bytes > self.recorded_bytes
            else f" ({split})"
        )
        return (
            f"{self.host_bytes} measured (the smallest arena with which the tflite-micro interpreter, reference "
            f"kernels on this 64-bit host, allocates and invokes{extra})"
        )

    def to_dict(self) -> dict[str, int | str]:
        """The figures behind the constant, for reports."""
        return {
            "arena_method": "modeled",
            "arena_host_bytes": self.host_bytes,
            "arena_host_constant_bytes": self.host_arena_bytes,
            "arena_reference_bytes": self.target.reference_bytes,
            "arena_cmsis_nn_bytes": self.target.cmsis_nn_bytes,
        }


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
    """Measure the host arena of ``model`` (validated .tflite bytes) and model the target's from it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(model)
        generous = max(len(model) * 10, 1 << 20)
        first = probe(path, generous, record=True)
        if not first or not first["ok"] or "total" not in first:
            raise UnsupportedError(f"TensorFlow Lite Micro cannot run this model: {_reason(first)}")
        measured = _smallest(path, first["total"], generous)
    target = target_arena(read_model(model), measured)
    return ArenaMeasurement(measured, first["total"], first["head"], first["tail"], target)


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
