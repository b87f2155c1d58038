"""What a node counts and times, shared between its worker thread and its diagnostics timer."""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

import numpy as np

WINDOW = 1000  # percentiles are over the last WINDOW processed inputs


@dataclass(frozen=True)
class Snapshot:
    """The counters and the percentiles of the window, at one moment."""

    received: int
    processed: int
    dropped: int
    malformed: int
    failed: int
    deadline_misses: int
    inference_ms: tuple[float, float] | None  # (p50, p99)
    overhead_ms: tuple[float, float] | None
    latency_ms: tuple[float, float] | None  # inference + overhead: received -> result published

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            k: getattr(self, k) for k in ("received", "processed", "dropped", "malformed", "failed", "deadline_misses")
        }
        for name in ("inference_ms", "overhead_ms", "latency_ms"):
            pair = getattr(self, name)
            out[name] = None if pair is None else {"p50": pair[0], "p99": pair[1]}
        return out


class NodeStats:
    """Thread-safe counters and sliding windows of inference and node-overhead times."""

    def __init__(self, deadline_ms: float | None) -> None:
        self.deadline_ms = deadline_ms
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(("received", "processed", "dropped", "malformed", "failed", "deadline_misses"), 0)
        self._inference: collections.deque[float] = collections.deque(maxlen=WINDOW)
        self._overhead: collections.deque[float] = collections.deque(maxlen=WINDOW)

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self._counts[what] += n

    def processed(self, inference_ms: float, overhead_ms: float) -> None:
        """One input done: its inference time and the time the node added around it."""
        with self._lock:
            self._counts["processed"] += 1
            self._inference.append(inference_ms)
            self._overhead.append(overhead_ms)
            if self.deadline_ms is not None and inference_ms + overhead_ms > self.deadline_ms:
                self._counts["deadline_misses"] += 1

    def snapshot(self) -> Snapshot:
        with self._lock:
            inference, overhead = np.array(self._inference), np.array(self._overhead)
            counts = dict(self._counts)
        return Snapshot(
            **counts,
            inference_ms=_pair(inference),
            overhead_ms=_pair(overhead),
            latency_ms=_pair(inference + overhead),
        )


def _pair(values: np.ndarray) -> tuple[float, float] | None:
    if values.size == 0:
        return None
    p50, p99 = np.percentile(values, [50, 99])
    return float(p50), float(p99)
