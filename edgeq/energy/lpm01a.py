"""ST X-NUCLEO-LPM01A (PowerShield) over its USB virtual COM port.

The board supplies the DUT (1.8-3.3 V) and samples its current. The driver takes host
control (``htc``), sets ``volt``, ``freq``, ``acqtime 0`` (until ``stop``), ``output current``,
``format ascii_dec``, ``trigsrc`` (``sw``: start on command; ``d7``: start on an edge of the
Arduino D7 pin) and, unless told not to, ``eventsrc d7 fal`` so each falling edge of the DUT's
timestamp pin on D7 arrives as an ``event`` line in the stream. Samples are taken ``1/freq``
apart from the start of acquisition; power = sampled current x the set voltage.
Line formats: :mod:`edgeq.energy.lpm01a_parse`.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import serial

from edgeq.energy.lpm01a_parse import LineKind, LpmLine, answers, parse_line
from edgeq.energy.types import PowerTrace
from edgeq.errors import DeviceError, UsageError
from edgeq.serialdut.link import open_port

logger = logging.getLogger("edgeq.energy")

BAUD = 3686400
FREQS = {"1": 1, "2": 2, "5": 5, "10": 10, "20": 20, "50": 50, "100": 100, "200": 200, "500": 500}
FREQS.update({"1k": 1000, "2k": 2000, "5k": 5000})  # ascii_dec streams without a time limit up to 5 kHz
TRIGGERS = ("sw", "d7")


class _Lines:
    """Newline-separated lines from a pyserial port, with deadlines."""

    def __init__(self, port: serial.SerialBase, name: str) -> None:
        self.port, self.name = port, name
        self._buf = b""

    def next(self, deadline: float) -> str | None:
        """The next complete line, or None once ``deadline`` (time.monotonic) has passed."""
        while b"\n" not in self._buf:
            if time.monotonic() >= deadline:
                return None
            try:
                self._buf += self.port.read(max(1, self.port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                raise DeviceError(f"lost the connection to the lpm01a on {self.name} ({exc}); check the cable") from exc
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("ascii", "replace")


class Lpm01aMonitor:
    """X-NUCLEO-LPM01A power monitor.

    Args:
        port: Serial device of the board's ST-LINK virtual COM port, e.g. ``/dev/ttyACM1``.
        voltage_v: Supply voltage for the DUT, 1.8 to 3.3 V.
        freq: Sampling frequency as the board spells it (``1k``, ``500``, ...), at most 5k.
        trigger: ``sw`` (acquire from ``start``) or ``d7`` (from the first D7 edge, taken as an edge at 0 s).
        events: Ask for D7 falling edges as ``event`` lines (``eventsrc d7 fal``).
        timeout_s: Seconds to wait for each answer (the board recalibrates after ``volt``).
        baud: Serial speed (the board's default is 3686400).
    """

    kind = "lpm01a"

    def __init__(
        self,
        port: str,
        voltage_v: float = 3.3,
        freq: str = "1k",
        trigger: str = "sw",
        events: bool = True,
        timeout_s: float = 5.0,
        baud: int = BAUD,
    ) -> None:
        if not 1.8 <= voltage_v <= 3.3:
            raise UsageError(f"lpm01a voltage {voltage_v:g} V is outside 1.8..3.3 V")
        if freq not in FREQS:
            raise UsageError(f"lpm01a freq {freq!r}; allowed: {', '.join(FREQS)}")
        if trigger not in TRIGGERS:
            raise UsageError(f"lpm01a trigger {trigger!r}; allowed: {', '.join(TRIGGERS)}")
        self.port_name, self.voltage_v, self.freq, self.trigger = port, voltage_v, freq, trigger
        self.events, self.timeout_s, self.baud = events, timeout_s, baud
        self._port: serial.SerialBase | None = None
        self._lines: _Lines | None = None
        self._thread: threading.Thread | None = None
        self._reset_capture()

    def describe(self) -> str:
        rate = FREQS[self.freq]
        hz = f"{rate // 1000} kHz" if rate >= 1000 else f"{rate} Hz"
        return f"lpm01a on {self.port_name} ({self.voltage_v:.3f} V supply, current sampled at {hz})"

    def open(self) -> None:
        """Open the port, take host control and configure the acquisition."""
        if self._port is not None:
            return
        self._port = open_port(self.port_name, self.baud)
        self._lines = _Lines(self._port, self.port_name)
        try:
            self._configure()
        except BaseException:
            self.close()
            raise

    def _configure(self) -> None:
        self.command("htc")
        for cmd in (f"volt {round(self.voltage_v * 1000)}m", f"freq {self.freq}", "acqtime 0", "output current"):
            self.command(cmd)
        self.command("format ascii_dec")
        self.command(f"trigsrc {self.trigger}")
        if self.events and not self.command("eventsrc d7 fal", required=False):
            logger.warning("lpm01a on %s has no eventsrc command (old firmware?): no timestamp edges", self.port_name)
            self.events = False
        self.command("pwrend on")
        self.command("pwr on")

    def command(self, cmd: str, required: bool = True) -> bool:
        """Send ``cmd`` and wait for its ack; an error answer raises DeviceError (or returns False)."""
        lines = self._need_lines()
        logger.debug("%s <- %s", self.port_name, cmd)
        self._write(cmd)
        deadline = time.monotonic() + self.timeout_s
        while (text := lines.next(deadline)) is not None:
            line = parse_line(text)
            if answers(line, cmd):
                return line.kind is LineKind.ACK or self._refused(cmd, lines, required)
            if line.text:
                logger.debug("%s -> %s (skipped)", self.port_name, line.text)
        raise DeviceError(
            f"the lpm01a on {self.port_name} did not answer `{cmd}` within {self.timeout_s:g} s; check the port, "
            "that the PowerShield is powered and that no other program (STM32CubeMonitor-Power) holds it"
        )

    def _refused(self, cmd: str, lines: _Lines, required: bool) -> bool:
        detail = lines.next(time.monotonic() + min(self.timeout_s, 0.5))
        why = parse_line(detail).text if detail is not None else "no detail"
        if required:
            raise DeviceError(f"the lpm01a on {self.port_name} refused `{cmd}`: {why}")
        logger.debug("lpm01a refused %s: %s", cmd, why)
        return False

    def start(self) -> None:
        """Start an acquisition; samples and edges are collected by a background thread."""
        if self._thread is not None:
            raise UsageError(f"{self.describe()} is already acquiring; stop it first")
        self.open()
        self._reset_capture()
        self.command("start")
        self._thread = threading.Thread(target=self._collect, name="edgeq-lpm01a", daemon=True)
        self._thread.start()

    def stop(self) -> PowerTrace:
        """Send ``stop``, wait for ``Acquisition completed`` and return the trace."""
        if self._thread is None:
            raise UsageError(f"{self.describe()} was not started")
        self._write("stop")
        self._thread.join(self.timeout_s + 1.0)
        thread, self._thread = self._thread, None
        if self._error is not None:
            raise self._error
        if thread.is_alive() or not self._done.is_set():
            self._abandon.set()
            thread.join()
            raise DeviceError(f"the lpm01a on {self.port_name} did not confirm `stop` within {self.timeout_s:g} s")
        return self._trace()

    def close(self) -> None:
        """Stop an acquisition still running, give control back (``hrc``) and close the port."""
        acquiring = self._thread is not None
        if self._thread is not None:
            self._abandon.set()
            self._thread.join()
            self._thread = None
        if self._port is not None:
            try:
                for cmd in ("stop", "hrc") if acquiring else ("hrc",):
                    self._write(cmd)
            except DeviceError:
                pass
            self._port.close()
        self._port, self._lines = None, None

    def _reset_capture(self) -> None:
        self._samples: list[float] = []
        self._edge_index: list[int] = []
        self._skipped = 0
        self._error: DeviceError | None = None
        self._done = threading.Event()
        self._abandon = threading.Event()

    def _collect(self) -> None:
        lines = self._need_lines()
        try:
            while not self._abandon.is_set():
                text = lines.next(time.monotonic() + 0.1)
                if text is not None and self._take(parse_line(text)):
                    self._done.set()
                    return
        except DeviceError as exc:
            self._error = exc

    def _take(self, line: LpmLine) -> bool:
        """Record one streamed line; True at the end of the acquisition."""
        if line.kind is LineKind.SAMPLE and line.value is not None:
            self._samples.append(line.value)
        elif line.kind is LineKind.EVENT:
            self._edge_index.append(len(self._samples))
        elif line.kind is LineKind.ERROR:
            logger.warning("lpm01a on %s reported an error while acquiring: %s", self.port_name, line.text)
        elif line.kind is LineKind.OTHER and line.text:
            self._skipped += 1
            logger.debug("lpm01a on %s: skipping %r", self.port_name, line.text)
        return line.kind is LineKind.DONE

    def _trace(self) -> PowerTrace:
        rate = FREQS[self.freq]
        t = np.arange(len(self._samples), dtype=np.float64) / rate
        edges = [k / rate for k in self._edge_index]
        if self.trigger == "d7":
            edges.insert(0, 0.0)
        notes = (f"skipped {self._skipped} unreadable lines",) if self._skipped else ()
        return PowerTrace.from_current(t, self._samples, self.voltage_v, edges_s=tuple(edges), notes=notes)

    def _write(self, cmd: str) -> None:
        if self._port is None:
            raise DeviceError(f"the lpm01a on {self.port_name} is not open")
        try:
            self._port.write(cmd.encode("ascii") + b"\n")
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(
                f"lost the connection to the lpm01a on {self.port_name} ({exc}); check the cable"
            ) from exc

    def _need_lines(self) -> _Lines:
        if self._lines is None:
            raise DeviceError(f"the lpm01a on {self.port_name} is not open")
        return self._lines
