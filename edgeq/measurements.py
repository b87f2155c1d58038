"""What a target measures: per-run latencies, instructions, memory, energy and per-op times, each with its source.

The lowest layer of measuring: targets fill a :class:`Timing`, energy monitors an
:class:`Energy`, and :mod:`edgeq.profiling` turns them into a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from edgeq.errors import UsageError

LATENCY_KINDS = ("measured", "estimated")


@dataclass(frozen=True)
class Memory:
    """RAM and flash a microcontroller target reserves, peak resident memory of a Linux runner (bytes)."""

    ram_bytes: int | None = None
    flash_bytes: int | None = None
    peak_rss_bytes: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        return {"ram_bytes": self.ram_bytes, "flash_bytes": self.flash_bytes, "peak_rss_bytes": self.peak_rss_bytes}


@dataclass(frozen=True)
class _Figure:
    """A value with its provenance: ``kind`` measured or estimated, ``source`` how it was obtained."""

    value: float
    kind: str
    source: str
    WHAT: ClassVar[str] = "figure"  # how errors name it

    def __post_init__(self) -> None:
        if self.kind not in LATENCY_KINDS:
            raise UsageError(f"{self.WHAT} kind {self.kind!r}; allowed: {', '.join(LATENCY_KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "kind": self.kind, "source": self.source}


@dataclass(frozen=True)
class Energy(_Figure):
    """Energy per inference in microjoules; ``kind`` says measured or estimated, ``source`` how."""

    WHAT: ClassVar[str] = "energy"


@dataclass(frozen=True)
class Cycles(_Figure):
    """CPU cycles per inference; ``kind`` says measured (a cycle counter) or estimated (a timing model), ``source`` how."""

    WHAT: ClassVar[str] = "cycles"


@dataclass(frozen=True)
class Timing:
    """What a target measured: one latency per timed run (ms), plus what else it knows."""

    ms: tuple[float, ...]
    latency_kind: str = "measured"
    latency_source: str = "wall clock around each invoke"
    instructions: int | None = None
    memory: Memory = field(default_factory=Memory)
    energy: Energy | None = None
    notes: tuple[str, ...] = ()
    cycles: Cycles | None = None
    ops: tuple[OpTime, ...] | None = None  # per-op figures the target measured in the same runs

    def __post_init__(self) -> None:
        if not self.ms:
            raise UsageError("a profile needs at least one timed run")
        if self.latency_kind not in LATENCY_KINDS:
            raise UsageError(f"latency kind {self.latency_kind!r}; allowed: {', '.join(LATENCY_KINDS)}")


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
        instructions: Executed instructions per invoke, where the target counts them (emulated boards).
        cycles: Estimated cycles per invoke, where the target has a timing model.
        macs: The step's multiply-accumulates (MLPerf Tiny convention), with ``cycles``.
    """

    position: int
    op_index: int
    name: str
    mean_us: float
    p50_us: float
    source: str
    detail: str = ""
    instructions: int | None = None
    cycles: float | None = None
    macs: int | None = None

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
            "instructions": self.instructions,
            "cycles": self.cycles,
            "macs": self.macs,
        }
