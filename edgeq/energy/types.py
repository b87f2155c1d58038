"""Shared types of the measured-energy package: a power trace and the monitor protocol.

A power monitor samples power over a window and hands back a :class:`PowerTrace`:
timestamps in seconds, power in watts (and current and voltage when the monitor
measures them), plus the timestamp edges it saw on its trigger input (the DUT's
GPIO, see docs/specs/dut-protocol.md, energy mode).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from edgeq.errors import MeasurementError


def _array(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise MeasurementError(f"power trace {name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise MeasurementError(f"power trace {name} contains NaN or infinite values")
    return arr


@dataclass(frozen=True, eq=False)
class PowerTrace:
    """Power samples over one acquisition.

    Attributes:
        t_s: Sample times in seconds, non-decreasing. On a host clock (``host_clock``) they are
            ``time.monotonic()`` values; otherwise seconds since the monitor started acquiring.
        power_w: Power in watts at each sample time.
        current_a: Current in amperes, when the monitor measures it (else None).
        voltage_v: Voltage in volts, measured or the supply the monitor was set to (else None).
        edges_s: Times of timestamp edges seen by the monitor, on the same clock as ``t_s``.
        host_clock: True when ``t_s`` is ``time.monotonic()``, so host-timed windows map onto it.
    """

    t_s: np.ndarray
    power_w: np.ndarray
    current_a: np.ndarray | None = None
    voltage_v: np.ndarray | None = None
    edges_s: tuple[float, ...] = ()
    host_clock: bool = False
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        t = _array(self.t_s, "timestamps")
        p = _array(self.power_w, "power")
        if t.shape != p.shape:
            raise MeasurementError(f"power trace has {t.size} timestamps but {p.size} power values")
        if t.size > 1 and np.any(np.diff(t) < 0):
            raise MeasurementError("power trace timestamps go backwards")
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "power_w", p)
        for name in ("current_a", "voltage_v"):
            values = getattr(self, name)
            if values is not None:
                arr = _array(values, name)
                if arr.shape != t.shape:
                    raise MeasurementError(f"power trace has {t.size} timestamps but {arr.size} {name} values")
                object.__setattr__(self, name, arr)
        object.__setattr__(self, "edges_s", tuple(sorted(float(e) for e in self.edges_s)))

    @classmethod
    def from_current(
        cls,
        t_s: Sequence[float] | np.ndarray,
        current_a: Sequence[float] | np.ndarray,
        voltage_v: float | Sequence[float] | np.ndarray,
        *,
        edges_s: tuple[float, ...] = (),
        host_clock: bool = False,
        notes: tuple[str, ...] = (),
    ) -> PowerTrace:
        """A trace from current samples and a voltage (one figure or one per sample): power = I x V."""
        current = np.asarray(current_a, dtype=np.float64)
        voltage = np.broadcast_to(np.asarray(voltage_v, dtype=np.float64), current.shape).copy()
        return cls(
            t_s=np.asarray(t_s, dtype=np.float64),
            power_w=current * voltage,
            current_a=current,
            voltage_v=voltage,
            edges_s=edges_s,
            host_clock=host_clock,
            notes=notes,
        )

    @property
    def samples(self) -> int:
        """The number of samples."""
        return int(self.t_s.size)

    @property
    def duration_s(self) -> float:
        """Seconds from the first to the last sample (0 for fewer than two)."""
        return float(self.t_s[-1] - self.t_s[0]) if self.t_s.size > 1 else 0.0


@runtime_checkable
class PowerMonitor(Protocol):
    """A power monitor: open it, start sampling, run the workload, stop and get the trace.

    Drivers keep ``__init__`` free of device access; :meth:`open` connects and configures
    (``start`` opens when needed), :meth:`close` releases the device and is safe to call twice.
    """

    kind: str

    def describe(self) -> str:
        """One line naming the monitor and its settings, used as the energy ``source``."""
        ...

    def open(self) -> None:
        """Connect to and configure the device; raise DeviceError/DependencyError with a fix."""
        ...

    def start(self) -> None:
        """Start sampling (opening the device first if needed)."""
        ...

    def stop(self) -> PowerTrace:
        """Stop sampling and return everything sampled since :meth:`start`."""
        ...

    def close(self) -> None:
        """Stop sampling if needed and release the device."""
        ...
