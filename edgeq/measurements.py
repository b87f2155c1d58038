"""What a target measures: per-run latencies, instructions, memory and energy, each with its provenance.

The lowest layer of measuring: targets fill a :class:`Timing`, energy monitors an
:class:`Energy`, and :mod:`edgeq.profiling` turns them into a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgeq.errors import UsageError

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
