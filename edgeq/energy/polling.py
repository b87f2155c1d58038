"""Monitors the host polls on its own clock (Raspberry Pi 5 PMIC, INA219/INA226 over I2C).

A background thread takes one reading every ``interval_s``; each reading is stamped with
``time.monotonic()`` at the middle of the read. :meth:`PolledMonitor.start` takes one reading
before it returns and :meth:`PolledMonitor.stop` one after the thread has ended, so a
host-timed window between the two calls is always bracketed by samples.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgeq.energy.types import PowerTrace
from edgeq.errors import EdgeqError, UsageError

logger = logging.getLogger("edgeq.energy")


@dataclass(frozen=True)
class Reading:
    """One reading: power in watts, and current/voltage when the monitor knows them."""

    power_w: float
    current_a: float | None = None
    voltage_v: float | None = None


class PolledMonitor:
    """Base class: subclasses implement :meth:`read` (and usually :meth:`open`, :meth:`describe`).

    Args:
        interval_s: Seconds between readings (0 = as fast as the device answers).
        clock: The time source, ``time.monotonic`` unless a test injects another.
    """

    kind = "polled"

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if interval_s < 0:
            raise UsageError(f"sampling interval must be >= 0 s, got {interval_s:g}")
        self.interval_s = interval_s
        self._clock = clock
        self._opened = False
        self._rows: list[tuple[float, Reading]] = []
        self._error: BaseException | None = None
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        return self.kind

    def read(self) -> Reading:
        """Take one reading from the device."""
        raise NotImplementedError

    def open(self) -> None:
        self._opened = True

    def start(self) -> None:
        """Take a first reading, then keep reading in a background thread."""
        if self._thread is not None:
            raise UsageError(f"{self.describe()} is already sampling; stop it first")
        if not self._opened:
            self.open()
        self._rows, self._error = [], None
        self._halt.clear()
        self._take()
        self._thread = threading.Thread(target=self._loop, name=f"edgeq-{self.kind}", daemon=True)
        self._thread.start()

    def stop(self) -> PowerTrace:
        """End the thread, take a last reading and return the trace."""
        if self._thread is None:
            raise UsageError(f"{self.describe()} was not started")
        self._halt.set()
        self._thread.join()
        self._thread = None
        if self._error is not None:
            raise self._error
        self._take()
        logger.debug("%s: %d readings", self.describe(), len(self._rows))
        return self._trace()

    def close(self) -> None:
        if self._thread is not None:
            self._halt.set()
            self._thread.join()
            self._thread = None
        self._opened = False

    def _take(self) -> None:
        before = self._clock()
        reading = self.read()
        self._rows.append(((before + self._clock()) / 2.0, reading))

    def _loop(self) -> None:
        while not self._halt.wait(self.interval_s):
            try:
                self._take()
            except (EdgeqError, OSError) as exc:  # reported by stop(), in the caller's thread
                self._error = exc
                return

    def _trace(self) -> PowerTrace:
        times = [t for t, _ in self._rows]
        readings = [r for _, r in self._rows]
        currents = [r.current_a for r in readings]
        volts = [r.voltage_v for r in readings]
        return PowerTrace(
            t_s=np.asarray(times, dtype=np.float64),
            power_w=np.asarray([r.power_w for r in readings], dtype=np.float64),
            current_a=None if None in currents else np.asarray(currents, dtype=np.float64),
            voltage_v=None if None in volts else np.asarray(volts, dtype=np.float64),
            host_clock=True,
        )
