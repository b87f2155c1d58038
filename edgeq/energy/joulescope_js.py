"""Joulescope JS110/JS220 through the ``joulescope`` package (optional: ``pip install joulescope``).

The device streams calibrated current (A) and voltage (V) into a stream buffer;
``stream_buffer.samples_get(start, stop, fields=[...])`` returns them with the timing
metadata (``time.sampling_frequency``). Missing samples come back as NaN and are left
out. A general-purpose input can be mapped onto the current LSB (``current_lsb`` =
``gpi0``/``gpi1``) and read back as the ``current_lsb`` field: wire the DUT's timestamp
pin there to get the timestamp edges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from edgeq.energy.integrate import falling_edges
from edgeq.energy.types import PowerTrace
from edgeq.errors import DependencyError, DeviceError, MeasurementError, UsageError

logger = logging.getLogger("edgeq.energy")

EDGE_INPUTS = ("gpi0", "gpi1")
FREQS = (1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000)
EDGE_FIELD = "current_lsb"


def load_joulescope() -> ModuleType:
    """The ``joulescope`` module, or a DependencyError saying what to install."""
    try:
        import joulescope
    except ImportError as exc:
        raise DependencyError("the joulescope monitor needs the joulescope package: pip install joulescope") from exc
    return joulescope


def joulescope_trace(data: dict[str, Any], edge_field: str | None = None) -> PowerTrace:
    """A trace from a ``samples_get`` result with ``current`` and ``voltage`` (and ``edge_field``) signals."""
    rate = float(data["time"]["sampling_frequency"]["value"])
    signals = data["signals"]
    try:
        current = np.asarray(signals["current"]["value"], dtype=np.float64)
        voltage = np.asarray(signals["voltage"]["value"], dtype=np.float64)
    except KeyError as exc:
        raise MeasurementError(f"joulescope data has no {exc.args[0]} signal") from exc
    t = np.arange(current.size, dtype=np.float64) / rate
    edges: tuple[float, ...] = ()
    if edge_field is not None:
        if edge_field not in signals:
            raise MeasurementError(f"joulescope data has no {edge_field} signal for the timestamp edges")
        edges = falling_edges(t, np.asarray(signals[edge_field]["value"]))
    valid = np.isfinite(current) & np.isfinite(voltage)
    missing = int(current.size - valid.sum())
    notes = (f"left out {missing} missing samples",) if missing else ()
    return PowerTrace.from_current(t[valid], current[valid], voltage[valid], edges_s=edges, notes=notes)


class JoulescopeMonitor:
    """Joulescope power monitor (the one device connected).

    Args:
        freq: Output sampling frequency in Hz (default: the device's, 2 MHz on a JS110).
        edge_input: ``gpi0``/``gpi1`` wired to the DUT's timestamp pin, or None.
        buffer_s: Seconds of samples the stream buffer keeps (a longer window loses its start).
        scan: Returns the device; default ``joulescope.scan_require_one``.
    """

    kind = "joulescope"

    def __init__(
        self,
        freq: int | None = None,
        edge_input: str | None = None,
        buffer_s: int = 30,
        scan: Callable[..., Any] | None = None,
    ) -> None:
        if freq is not None and freq not in FREQS:
            raise UsageError(f"joulescope freq {freq}; allowed: {', '.join(str(f) for f in FREQS)}")
        if edge_input is not None and edge_input not in EDGE_INPUTS:
            raise UsageError(f"joulescope edge input {edge_input!r}; allowed: {', '.join(EDGE_INPUTS)}")
        self.freq, self.edge_input, self.buffer_s, self._scan = freq, edge_input, buffer_s, scan
        self._device: Any = None
        self._running = False

    def describe(self) -> str:
        rate = f"{self.freq} Hz" if self.freq else "default rate"
        edge = f", timestamp edges on {self.edge_input}" if self.edge_input else ""
        return f"joulescope ({rate}{edge})"

    def open(self) -> None:
        if self._device is not None:
            return
        scan = self._scan or load_joulescope().scan_require_one
        try:
            device = scan(config="auto")
        except RuntimeError as exc:
            raise DeviceError(
                f"no single Joulescope found ({exc}); check the USB cable and close the Joulescope UI"
            ) from exc
        device.buffer_duration = self.buffer_s
        device.open()
        if self.freq:
            device.parameter_set("sampling_frequency", self.freq)
        if self.edge_input:
            device.parameter_set(EDGE_FIELD, self.edge_input)
        self._device = device

    def start(self) -> None:
        if self._running:
            raise UsageError(f"{self.describe()} is already streaming; stop it first")
        self.open()
        self._device.start()
        self._running = True

    def stop(self) -> PowerTrace:
        if not self._running:
            raise UsageError(f"{self.describe()} was not started")
        self._device.stop()
        self._running = False
        start, end = self._device.stream_buffer.sample_id_range
        fields = ["current", "voltage"] + ([EDGE_FIELD] if self.edge_input else [])
        data = self._device.stream_buffer.samples_get(start, end, fields=fields)
        logger.debug("%s: samples %d..%d", self.describe(), start, end)
        return joulescope_trace(data, EDGE_FIELD if self.edge_input else None)

    def close(self) -> None:
        if self._device is not None:
            if self._running:
                self._device.stop()
                self._running = False
            self._device.close()
            self._device = None
