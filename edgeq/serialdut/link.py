"""The line link to a DUT: send commands, collect replies up to m-ready, with deadlines.

:class:`DutLink` owns the pyserial port and the receive buffer; it knows
nothing of individual commands (that is :mod:`edgeq.serialdut.client`).
"""

from __future__ import annotations

import collections
import errno
import logging
import time

import serial

from edgeq.errors import DeviceError, UsageError
from edgeq.serialdut.parse import (
    Line,
    LineKind,
    Reply,
    classify,
    fault_report,
    split_lines,
    take_reply,
    unwrap_io_manager,
)

logger = logging.getLogger("edgeq.serialdut")

POLL_S = 0.05  # the port's read timeout: how often the reply loop checks its deadline
SETTLE_QUIET_S = 0.2  # silence that ends a board's chatter (boot banner, late replies)
SETTLE_MAX_S = 2.0
CMD_MAX = 80  # the DUT buffers at most 80 characters per command
RECENT_LINES = 6  # lines received last, which errors about a board that stopped keep
# How the host reaches the DUT: its own serial port, or through the EEMBC IO manager board (energy mode),
# which takes `dut CMD%` and relays the DUT's lines prefixed with "[dut]: ".
VIAS = ("direct", "io-manager")
IO_MANAGER_COMMAND = "dut "


class DeviceRefusedError(DeviceError):
    """The DUT answered a command with an ``e-[...]`` line.

    Attributes:
        command: The command sent, without the ``%``.
        device_message: The text inside ``e-[...]``.
    """

    def __init__(self, message: str, *, command: str, device_message: str) -> None:
        super().__init__(message)
        self.command = command
        self.device_message = device_message

    @property
    def unknown_command(self) -> bool:
        """True when the firmware does not implement the command."""
        return self.device_message.startswith("Unknown command")


class DeviceStoppedError(DeviceError):
    """The DUT crashed (printed a fault report), stopped answering, or its port went away.

    Attributes:
        command: The last command sent, as messages show it (e.g. ```infer 1 0%```).
        received: The last lines the board printed, oldest first (an unfinished line last).
        fault: The fault line the firmware printed (``fault: HardFault pc=0x...``), or None.
        lost: The port itself failed (closed, unplugged) rather than falling silent.
        waited: Seconds waited for a reply when the board fell silent, else None.
    """

    def __init__(
        self,
        message: str,
        *,
        command: str,
        received: tuple[str, ...],
        fault: str | None = None,
        lost: bool = False,
        waited: float | None = None,
    ) -> None:
        super().__init__(message)
        self.command = command
        self.received = received
        self.fault = fault
        self.lost = lost
        self.waited = waited


def open_port(port: str, baud: int) -> serial.SerialBase:
    """Open a device path or a pyserial URL (``socket://host:4000``, ``loop://``).

    Raises:
        DeviceError: The port cannot be opened; the message names the likely fix.
    """
    try:
        return serial.serial_for_url(port, baudrate=baud, timeout=POLL_S)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceError(open_failure(port, exc)) from exc


class DutLink:
    """Commands out, classified lines in, over an open pyserial port.

    Args:
        port: An open port; its read timeout is set to POLL_S and its write timeout to ``timeout``.
        timeout: The default seconds a reply may take.
        via: "direct" (the DUT's own port) or "io-manager": the port is the EEMBC IO manager's,
            commands go out as ``dut CMD%`` and only the lines it relays from the DUT (``[dut]: ...``)
            make the reply; its own lines are noise, except an ``e-[...]`` of its own, which ends
            the exchange with its ``m-ready``.
    """

    def __init__(self, port: serial.SerialBase, timeout: float, via: str = "direct") -> None:
        if via not in VIAS:
            raise UsageError(f"unknown DUT connection {via!r}; use one of {', '.join(VIAS)}")
        self.via = via
        self._manager_error = False  # the IO manager refused the command: its m-ready ends the reply
        self.port = port
        self.port.timeout = POLL_S
        self.port.write_timeout = timeout
        self.port_name = str(getattr(port, "port", None) or getattr(port, "name", "") or "the serial port")
        self.timeout = timeout
        self.last = "opening the port"  # the last command sent, as errors name it
        self._pending = b""
        self._lines: list[Line] = []
        self.recent: collections.deque[str] = collections.deque(maxlen=RECENT_LINES)

    def exchange(self, cmd: str, timeout: float | None = None) -> Reply:
        """Send ``cmd%`` and return its reply (up to m-ready); an ``e-[...]`` line raises DeviceRefusedError."""
        check_command(self.wire(cmd))
        self.discard_stale()
        self.send(cmd)
        reply = self.await_reply(self.timeout if timeout is None else timeout)
        if reply.errors:
            message = reply.errors[0]
            raise DeviceRefusedError(
                f'the board on {self.port_name} answered `{short(cmd)}%` with "{message}"{_refusal_hint(message)}',
                command=cmd,
                device_message=message,
            )
        return reply

    def send(self, cmd: str) -> None:
        """Write ``cmd%`` (no CR/LF: the protocol ends commands with ``%``)."""
        wire = self.wire(cmd)
        logger.debug("%s <- %s%%", self.port_name, wire)
        self.last = f"`{short(cmd)}%`"
        self._manager_error = False
        try:
            self.port.write(wire.encode("ascii") + b"%")
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from exc

    def next_reply(self) -> Reply | None:
        """The first complete reply received so far, removed from the buffer; None if none yet."""
        reply, self._lines = take_reply(self._lines)
        return reply

    def await_reply(self, limit: float) -> Reply:
        """Wait up to ``limit`` seconds for a complete reply."""
        deadline = time.monotonic() + limit
        while True:
            reply = self.next_reply()
            if reply is not None:
                return reply
            if time.monotonic() >= deadline:
                raise self.silent(limit)
            self.receive()

    def receive(self) -> bool:
        """Read what arrives within one poll interval; True when something did."""
        try:
            chunk = self.port.read(max(1, self.port.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from exc
        if not chunk:
            return False
        texts, self._pending = split_lines(self._pending + chunk)
        for text in texts:
            if text.strip():
                self.recent.append(text.strip())
            text, line = self._line(text)
            fault = fault_report(text)
            if fault is not None:
                raise self._crashed(fault)
            if line.kind is LineKind.NOISE and text:
                logger.debug("skipping noise from %s: %r", self.port_name, text)
            else:
                logger.debug("%s -> %s", self.port_name, text)
            self._lines.append(line)
        return True

    def wire(self, cmd: str) -> str:
        """The command as it goes over the port (without the ``%``)."""
        return IO_MANAGER_COMMAND + cmd if self.via == "io-manager" else cmd

    def _line(self, text: str) -> tuple[str, Line]:
        """The received text (unwrapped from the IO manager's prefix) and its classification."""
        if self.via == "direct":
            return text, classify(text)
        text, from_dut = unwrap_io_manager(text)
        line = classify(text)
        if from_dut:
            return text, line
        if line.kind is LineKind.ERROR:
            self._manager_error = True
            return text, line
        if line.kind is LineKind.READY and self._manager_error:
            self._manager_error = False
            return text, line
        return text, Line(text, LineKind.NOISE)  # the IO manager's acknowledgement and m-ready

    def discard_stale(self) -> None:
        """Drop output left over from earlier replies (late boot chatter, an answer after a timeout)."""
        end = time.monotonic() + SETTLE_MAX_S  # a board that never stops talking must not hold us forever
        while self._waiting() and time.monotonic() < end:
            self.receive()
        stale = [line.text for line in self._lines] + ([repr(self._pending)] if self._pending else [])
        if stale:
            logger.debug("discarding stale output from %s: %s", self.port_name, stale)
        self._lines, self._pending = [], b""

    def _waiting(self) -> int:
        try:
            return self.port.in_waiting
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from exc

    def settle(self) -> None:
        """Read until the board has been quiet for SETTLE_QUIET_S, then forget everything received."""
        end = time.monotonic() + SETTLE_MAX_S
        quiet_since = time.monotonic()
        while time.monotonic() < end and time.monotonic() - quiet_since < SETTLE_QUIET_S:
            if self.receive():
                quiet_since = time.monotonic()
        self.discard_stale()

    def silent(self, limit: float) -> DeviceStoppedError:
        """The error for a board that did not finish its reply in time."""
        if self._pending or self._lines:
            logger.debug("received from %s before the timeout: %s %r", self.port_name, self._lines, self._pending)
        return self._stopped(
            f"the board on {self.port_name} stopped answering after {self.last} (no m-ready within {limit:g} s); "
            "check the port and reset the board",
            waited=limit,
        )

    def received(self) -> tuple[str, ...]:
        """The last lines received, oldest first, with an unfinished line last."""
        rest = self._pending.decode("ascii", "replace").strip()
        return (*self.recent, *([rest] if rest else []))

    def _crashed(self, fault: str) -> DeviceStoppedError:
        return self._stopped(
            f"the firmware on {self.port_name} crashed after {self.last}: {fault}; reset the board", fault=fault
        )

    def _lost(self, exc: Exception) -> DeviceStoppedError:
        return self._stopped(
            f"lost the connection to the board on {self.port_name} after {self.last} ({exc}); "
            "check the cable and reset the board",
            lost=True,
        )

    def _stopped(self, message: str, **why: object) -> DeviceStoppedError:
        return DeviceStoppedError(message, command=self.last, received=self.received(), **why)  # type: ignore[arg-type]


def check_command(cmd: str) -> None:
    """Refuse commands the DUT cannot take: longer than 80 characters, '%' or non-printable characters."""
    if len(cmd) > CMD_MAX or "%" in cmd or not cmd.isascii() or not cmd.isprintable():
        raise UsageError(f"invalid DUT command {cmd[:40]!r}: printable ASCII without '%', at most {CMD_MAX} characters")


def short(cmd: str) -> str:
    """The command as error messages show it: long `db HEX` payloads cut short."""
    return cmd if len(cmd) <= 24 else cmd[:16] + "..."


def _refusal_hint(message: str) -> str:
    if message.startswith("Unknown command"):
        return "; the firmware does not implement this command"
    if "exceeds the input buffer" in message or "Model rejected the input" in message:
        return "; the input does not fit the model the board runs (flash the firmware built for this model)"
    return ""


def open_failure(port: str, exc: Exception) -> str:
    """Why serial port ``port`` did not open, and what to do, as one sentence."""
    code = getattr(exc, "errno", None)
    if code == errno.EACCES:
        fix = "permission denied: add yourself to the dialout group (sudo usermod -aG dialout $USER, then log in again)"
    elif code in (errno.ENOENT, errno.ENXIO, errno.ENODEV):
        fix = "no such port: check the path and the cable (list ports with `python -m serial.tools.list_ports`)"
    elif code == errno.EBUSY:
        fix = "the port is busy: close other programs using it (a serial monitor, screen, minicom)"
    else:
        fix = f"{exc}; check the path (list ports with `python -m serial.tools.list_ports`) and your permissions"
    return f"cannot open serial port {port}: {fix}"
