"""What a profile reports: per-run latencies, instructions, memory and energy, each with its provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgeq.errors import UsageError
from edgeq.timing import LatencyStats

ENERGY_KINDS = ("measured", "estimated")
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
class Energy:
    """Energy per inference in microjoules; ``kind`` says measured or estimated, ``source`` how."""

    value: float
    kind: str
    source: str

    def __post_init__(self) -> None:
        if self.kind not in ENERGY_KINDS:
            raise UsageError(f"energy kind {self.kind!r}; allowed: {', '.join(ENERGY_KINDS)}")

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "kind": self.kind, "source": self.source}


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

    def __post_init__(self) -> None:
        if not self.ms:
            raise UsageError("a profile needs at least one timed run")
        if self.latency_kind not in LATENCY_KINDS:
            raise UsageError(f"latency kind {self.latency_kind!r}; allowed: {', '.join(LATENCY_KINDS)}")


@dataclass(frozen=True)
class ProfileResult:
    """One model profiled on one target."""

    target: str
    model: str
    runs: int
    warmup: int
    latency: LatencyStats
    timing: Timing
    deadline_ms: float | None = None

    @property
    def deadline_missed_by_ms(self) -> float | None:
        """How far p99 is above the deadline (None without a deadline or when it holds)."""
        if self.deadline_ms is None or self.latency.p99 <= self.deadline_ms:
            return None
        return self.latency.p99 - self.deadline_ms

    def to_dict(self) -> dict[str, Any]:
        """The JSON report; its keys are relied on by other tooling."""
        lat = self.latency
        return {
            "target": self.target,
            "model": self.model,
            "runs": self.runs,
            "warmup": self.warmup,
            "latency_ms": {
                "mean": lat.mean,
                "p50": lat.p50,
                "p90": lat.p90,
                "p99": lat.p99,
                "max": lat.max,
                "std": lat.std,
            },
            "latency_kind": self.timing.latency_kind,
            "latency_source": self.timing.latency_source,
            "instructions": self.timing.instructions,
            "memory": self.timing.memory.to_dict(),
            "energy_uj": None if self.timing.energy is None else self.timing.energy.to_dict(),
            "deadline_ms": self.deadline_ms,
            "notes": list(self.timing.notes),
        }
