"""What a profile holds: the latency statistics of a target's :class:`~edgeq.measurements.Timing`, per-op times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeq.measurements import OpTime, Timing
from edgeq.timing import LatencyStats


@dataclass(frozen=True)
class ProfileResult:
    """One model profiled on one target.

    ``op_times`` holds every operator's time when they were asked for and the
    target can time them; otherwise None, and ``no_op_times`` says why a target
    cannot.
    """

    target: str
    model: str
    runs: int
    warmup: int
    latency: LatencyStats
    timing: Timing
    deadline_ms: float | None = None
    op_times: tuple[OpTime, ...] | None = None
    no_op_times: str = ""

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
            "cycles": None if self.timing.cycles is None else self.timing.cycles.to_dict(),
            "memory": self.timing.memory.to_dict(),
            "energy_uj": None if self.timing.energy is None else self.timing.energy.to_dict(),
            "deadline_ms": self.deadline_ms,
            "notes": list(self.timing.notes),
            "ops": None if self.op_times is None else [o.to_dict() for o in self.op_times],
        }
