"""Wait for the boot banner of edgeq firmware (MLPerf Tiny DUT protocol) on a serial port.

A DUT prints ``m-timestamp-mode-performance`` (or ``-energy``), ``m-lap-us-N``,
``m-init-done`` and ``m-ready`` when it boots. :func:`banner_complete` checks
reply lines (a pure function); :func:`wait_for_banner` reads them from a port.
Commands after the banner: :class:`edgeq.serialdut.DutClient`.
"""

from __future__ import annotations

import time
from typing import Protocol

from edgeq.errors import DeviceError

READY = "m-ready"


class LineSource(Protocol):
    """What the helpers read from (``serial.Serial`` has it; it needs a read timeout)."""

    def read_until(self, expected: bytes = ..., size: int | None = ...) -> bytes: ...


def read_reply(port: LineSource, timeout: float = 10.0) -> list[str]:
    """Lines (CR LF stripped) up to and including the first ``m-ready``.

    The port's read timeout bounds each read, ``timeout`` the whole reply.

    Raises:
        DeviceError: no ``m-ready`` within ``timeout`` (the message shows the last lines that came).
    """
    lines: list[str] = []
    pending = b""
    deadline = time.monotonic() + timeout
    while not lines or lines[-1] != READY:
        if time.monotonic() > deadline:
            got = "; ".join(lines[-3:]) or "nothing"
            raise DeviceError(f"no {READY} from the board within {timeout:g} s (got: {got})")
        pending += port.read_until(b"\r\n")
        while b"\r\n" in pending and lines[-1:] != [READY]:  # a read may end between CR and LF
            line, pending = pending.split(b"\r\n", 1)
            lines.append(line.decode("ascii", "replace"))
    return lines


def banner_complete(lines: list[str]) -> bool:
    """``lines`` hold a boot banner: a timestamp mode line, later ``m-init-done``, and ``m-ready`` last."""
    modes = [n for n, line in enumerate(lines) if line.startswith("m-timestamp-mode-")]
    done = [n for n, line in enumerate(lines) if line == "m-init-done"]
    return bool(modes and done) and modes[0] < done[-1] and lines[-1] == READY


def wait_for_banner(port: LineSource, timeout: float = 10.0) -> list[str]:
    """Read the boot banner from ``port`` and return its lines.

    Raises:
        DeviceError: nothing complete within ``timeout``, or the first reply is not a boot banner.
    """
    lines = read_reply(port, timeout)
    if not banner_complete(lines):
        raise DeviceError(f"expected the boot banner (m-init-done, m-ready), got: {'; '.join(lines)}")
    return lines
