"""Per-op time breakdown of an invoke, where the runtime can give one.

LiteRT's Python ``Interpreter`` (ai-edge-litert 2.x) has no per-op profiler: its
wrapper exposes no profiler API or symbol, and
``experimental_force_delegate_node_profiling`` only matters once a C++ profiler
is installed, which Python cannot do. The compiled engine (``host-c``) can: its
generated call sequence brackets every kernel call with ``EQ_OP_BEGIN(i)`` /
``EQ_OP_END(i)``, empty unless ``EDGEQ_PROFILE_OPS`` is defined. Here the
engine is built with that define and a driver (``engine/host_op_timing.c.j2``)
that times each call with ``clock_gettime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeq.codegen.engine.hooks import engine_calls
from edgeq.errors import EdgeqError, UsageError
from edgeq.model import read_model
from edgeq.model.reader import read_bytes
from edgeq.profiling.profile import random_sample
from edgeq.running import prepare_inputs
from edgeq.targets.child import run_child
from edgeq.targets.host_c import build_host_engine

# Targets with a per-op breakdown, and why the others have none.
OP_TIMING_TARGETS = ("host-c",)
NO_BREAKDOWN = {
    "host": "LiteRT's Python interpreter exposes no per-op profiler",
    "host-tflm": "the tflite-micro Python interpreter times whole invokes only",
}
ENGINE_IDENT = "net"


@dataclass(frozen=True)
class OpTime:
    """Mean time of one step of an invoke.

    Attributes:
        position: Order of the step in the invoke (0 = first).
        op_index: The TFLite operator it runs (for a fused pair, the operator it replaces last).
        name: The operator's name, e.g. ``"CONV_2D"``.
        mean_us: Mean microseconds per invoke.
        p50_us: Median microseconds per invoke (robust to a busy machine's outliers).
        source: How it was measured.
        detail: What the step runs when it is not just ``name`` (e.g. a fused CONV_2D + ADD).
    """

    position: int
    op_index: int
    name: str
    mean_us: float
    p50_us: float
    source: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.position < 0 or self.mean_us < 0 or self.p50_us < 0:
            raise UsageError(
                f"op time of step {self.position}: mean {self.mean_us} us, p50 {self.p50_us} us; all must be >= 0"
            )

    @property
    def label(self) -> str:
        """``op 3 CONV_2D``, or the step's detail for fused steps."""
        return f"op {self.op_index} {self.detail or self.name}"

    def to_dict(self) -> dict[str, object]:
        return {
            "position": self.position,
            "op_index": self.op_index,
            "name": self.name,
            "mean_us": self.mean_us,
            "p50_us": self.p50_us,
            "source": self.source,
            "detail": self.detail,
        }


def op_breakdown(
    model: str | Path, target: str, runs: int = 100, warmup: int = 10, inputs: list[np.ndarray] | None = None
) -> list[OpTime] | None:
    """Per-op times of ``model`` on ``target`` (same sample as :func:`edgeq.profiling.profile`); None if unsupported."""
    if target not in OP_TIMING_TARGETS:
        return None
    data = read_bytes(model)
    graph = read_model(data, name=str(model))
    batch = prepare_inputs(graph, inputs) if inputs is not None else random_sample(graph)
    return engine_op_times(data, [np.ascontiguousarray(x[:1]) for x in batch], runs, warmup)


def engine_op_times(model: bytes, sample: list[np.ndarray], runs: int = 100, warmup: int = 10) -> list[OpTime]:
    """Mean and median microseconds of every kernel call of the compiled engine over ``runs`` invokes of ``sample``."""
    if runs < 1 or warmup < 0:
        raise UsageError(f"--runs must be >= 1 and --warmup >= 0 (got {runs} and {warmup})")
    exe = build_op_timing_engine(model)
    calls = engine_calls((exe.parent / f"{ENGINE_IDENT}.c").read_text())
    if not calls:
        return []
    stream = b"".join(np.ascontiguousarray(x).tobytes() for x in sample)
    done = run_child([str(exe), str(runs), str(warmup)], stdin=stream, what="the compiled engine's op timing driver")
    us = call_times(done.stdout.decode(), runs, len(calls)) / 1e3
    means, medians = us.mean(axis=0), np.median(us, axis=0)
    operators = read_model(model).operators
    source = f"clock_gettime around each kernel call of the compiled engine (host gcc -O3 -flto), {runs} runs"
    out = []
    for (position, op_index, text), mean, p50 in zip(calls, means, medians):
        name = operators[op_index].name if 0 <= op_index < len(operators) else text
        out.append(OpTime(position, op_index, name, float(mean), float(p50), source, "" if text == name else text))
    return out


def call_times(text: str, runs: int, count: int) -> np.ndarray:
    """The driver's output as a (runs, calls) array of nanoseconds; EdgeqError if it has another shape."""
    try:
        rows = [[float(v) for v in line.split()] for line in text.strip().split("\n")]
        ns = np.array(rows, dtype=np.float64)
    except ValueError:
        ns = np.empty(0)
    if ns.shape != (runs, count):
        raise EdgeqError(f"the op timing driver wrote unexpected output: {text[:80]!r}")
    return ns


def build_op_timing_engine(model: bytes) -> Path:
    """The engine built with ``-DEDGEQ_PROFILE_OPS`` and the op timing driver; returns the executable (cached)."""
    return build_host_engine(model, ("-DEDGEQ_PROFILE_OPS",), driver="ops")


__all__ = ["NO_BREAKDOWN", "OP_TIMING_TARGETS", "OpTime", "engine_op_times", "op_breakdown"]
