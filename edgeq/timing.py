"""Latency statistics from repeated runs: mean, percentiles, max, spread."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class LatencyStats:
    """Per-inference latency in milliseconds over ``runs`` timed runs."""

    runs: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float
    std: float

    @classmethod
    def from_samples(cls, ms: np.ndarray) -> LatencyStats:
        ms = np.asarray(ms, np.float64)
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        return cls(
            len(ms),
            float(ms.mean()),
            float(p50),
            float(p90),
            float(p99),
            float(ms.max()),
            float(ms.std()),
        )

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def time_calls(call: Callable[[], object], runs: int = 100, warmup: int = 10) -> np.ndarray:
    """Milliseconds of each of ``runs`` timed calls of ``call``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        call()
    ms = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter_ns()
        call()
        ms[i] = (time.perf_counter_ns() - start) / 1e6
    return ms


def measure(call: Callable[[], object], runs: int = 100, warmup: int = 10) -> LatencyStats:
    """Time ``call`` ``runs`` times after ``warmup`` untimed calls."""
    return LatencyStats.from_samples(time_calls(call, runs, warmup))
