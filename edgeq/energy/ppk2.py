"""Nordic Power Profiler Kit II through the ``ppk2-api`` package (optional: ``pip install ppk2-api``).

The PPK2 samples current at a fixed 100 kHz together with eight logic inputs D0-D7.
``PPK2_API.get_samples(raw)`` returns the current samples in microamperes and, per
sample, a byte of logic levels (bit n = Dn). In source-meter mode the PPK2 supplies the
DUT at the set voltage; in ampere-meter mode the DUT has its own supply and the voltage
given here is only used for power = current x voltage. Wire the DUT's timestamp pin to
one logic input (``edge_channel``) to get the timestamp edges.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import serial

from edgeq.energy.integrate import falling_edges
from edgeq.energy.types import PowerTrace
from edgeq.errors import DependencyError, DeviceError, MeasurementError, UsageError

logger = logging.getLogger("edgeq.energy")

RATE_HZ = 100_000
MODES = ("source", "ampere")


def load_api() -> Callable[..., Any]:
    """The ``PPK2_API`` class, or a DependencyError saying what to install."""
    try:
        from ppk2_api.ppk2_api import PPK2_API
    except ImportError as exc:
        raise DependencyError("the ppk2 monitor needs the ppk2-api package: pip install ppk2-api") from exc
    return PPK2_API


def ppk2_trace(
    samples_ua: Sequence[float] | np.ndarray,
    voltage_v: float,
    digital: Sequence[int] | np.ndarray | None = None,
    edge_channel: int | None = None,
    rate_hz: float = RATE_HZ,
) -> PowerTrace:
    """A trace from ``get_samples`` output: microamperes, and optional per-sample logic bytes.

    Args:
        samples_ua: Current samples in microamperes, ``rate_hz`` apart from the start.
        voltage_v: The DUT's supply voltage.
        digital: Logic byte per sample (bit n = input Dn).
        edge_channel: The logic input (0-7) the DUT's timestamp pin drives; its falling edges become edges.
        rate_hz: Sample rate.
    """
    current = np.asarray(samples_ua, dtype=np.float64) * 1e-6
    t = np.arange(current.size, dtype=np.float64) / rate_hz
    edges: tuple[float, ...] = ()
    if edge_channel is not None:
        if digital is None or len(digital) != current.size:
            got = "none" if digital is None else str(len(digital))
            raise MeasurementError(f"ppk2: {current.size} current samples but {got} logic samples")
        levels = (np.asarray(digital, dtype=np.int64) >> edge_channel) & 1
        edges = falling_edges(t, levels)
    return PowerTrace.from_current(t, current, voltage_v, edges_s=edges)


class Ppk2Monitor:
    """PPK2 power monitor.

    Args:
        port: The PPK2's serial device, e.g. ``/dev/ttyACM2``.
        voltage_v: Source voltage (source mode, 0.8-5 V) or the DUT's own supply (ampere mode).
        mode: ``source`` (the PPK2 powers the DUT) or ``ampere``.
        edge_channel: Logic input 0-7 wired to the DUT's timestamp pin, or None.
        api_class: The PPK2_API class; default: imported from ppk2-api.
        poll_s: Seconds between reads of the serial stream while measuring.
    """

    kind = "ppk2"

    def __init__(
        self,
        port: str,
        voltage_v: float = 3.3,
        mode: str = "source",
        edge_channel: int | None = None,
        api_class: Callable[..., Any] | None = None,
        poll_s: float = 0.01,
    ) -> None:
        if mode not in MODES:
            raise UsageError(f"ppk2 mode {mode!r}; allowed: {', '.join(MODES)}")
        if not 0.8 <= voltage_v <= 5.0:
            raise UsageError(f"ppk2 voltage {voltage_v:g} V is outside 0.8..5 V")
        if edge_channel is not None and not 0 <= edge_channel <= 7:
            raise UsageError(f"ppk2 logic input d{edge_channel}; allowed: d0..d7")
        self.port, self.voltage_v, self.mode, self.edge_channel = port, voltage_v, mode, edge_channel
        self._api_class, self.poll_s = api_class, poll_s
        self._api: Any = None
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self._samples: list[float] = []
        self._digital: list[int] = []
        self._error: DeviceError | None = None

    def describe(self) -> str:
        edge = f", timestamp edges on D{self.edge_channel}" if self.edge_channel is not None else ""
        return f"ppk2 on {self.port} ({self.mode} meter, {self.voltage_v:.3f} V, 100 kHz{edge})"

    def open(self) -> None:
        """Connect, read the calibration and set the meter mode and voltage (DUT power on in source mode)."""
        if self._api is not None:
            return
        api_class = self._api_class or load_api()
        try:
            api = api_class(self.port, timeout=1, write_timeout=1, exclusive=True)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"cannot open the ppk2 on {self.port}: {exc}") from exc
        api.get_modifiers()
        api.set_source_voltage(round(self.voltage_v * 1000))
        if self.mode == "source":
            api.use_source_meter()
            api.toggle_DUT_power("ON")
        else:
            api.use_ampere_meter()
        self._api = api

    def start(self) -> None:
        if self._thread is not None:
            raise UsageError(f"{self.describe()} is already measuring; stop it first")
        self.open()
        self._samples, self._digital, self._error = [], [], None
        self._halt.clear()
        self._api.start_measuring()
        self._thread = threading.Thread(target=self._collect, name="edgeq-ppk2", daemon=True)
        self._thread.start()

    def stop(self) -> PowerTrace:
        if self._thread is None:
            raise UsageError(f"{self.describe()} was not started")
        self._halt.set()
        self._thread.join()
        self._thread = None
        if self._error is not None:
            raise self._error
        self._api.stop_measuring()
        while self._drain():  # what arrived before the PPK2 stopped
            pass
        logger.debug("%s: %d samples", self.describe(), len(self._samples))
        return ppk2_trace(self._samples, self.voltage_v, self._digital, self.edge_channel)

    def close(self) -> None:
        if self._thread is not None:
            self.stop()
        self._api = None

    def _collect(self) -> None:
        try:
            while not self._halt.wait(self.poll_s):
                self._drain()
        except (serial.SerialException, OSError) as exc:  # reported by stop(), in the caller's thread
            self._error = DeviceError(f"lost the connection to the ppk2 on {self.port} ({exc}); check the cable")

    def _drain(self) -> bool:
        """Convert what the serial stream holds; False when it was empty."""
        data = self._api.get_data()
        if not data:
            return False
        samples, digital = self._api.get_samples(data)
        self._samples.extend(samples)
        self._digital.extend(digital)
        return True
