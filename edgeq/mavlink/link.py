"""The MAVLink link to the autopilot: connection URLs, our heartbeat, the autopilot's heartbeat, loss and reconnects.

pymavlink is imported only when a link opens (:func:`mavutil`), so the rest of
edgeq (and ``edgeq mavlink --help``) works without it. pymavlink prints some
events (a TCP reconnect) on stdout; the link sends them to stderr so that
``--json`` output stays one object.

Link state: *up* from the first autopilot heartbeat (a HEARTBEAT whose
autopilot field is not MAV_AUTOPILOT_INVALID) until none has arrived for
``loss_s`` (3 s); *lost* after that until the next one. Results sent while the
link is not up count as undelivered. A send or receive that raises an OS error
reopens the connection; while the link is lost, network connections
(udp/tcp) are also reopened every ``reopen_s``, which rebinds a listening
port and reconnects a TCP client.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from dataclasses import dataclass
from typing import Any

from edgeq.errors import DependencyError, DeviceError, UsageError
from edgeq.log import logger

NETWORK_SCHEMES = ("udpin", "udpout", "udp", "udpbcast", "tcp", "tcpin")
URL_FORMS = "udpin:HOST:PORT, udpout:HOST:PORT, tcp:HOST:PORT, tcpin:HOST:PORT or a serial device /dev/ttyX[,BAUD]"
HEARTBEAT_S = 1.0
LOSS_S = 3.0
REOPEN_S = 5.0


@dataclass(frozen=True)
class Endpoint:
    """A checked ``--connection``: pymavlink's device string, and the baud rate of a serial device."""

    url: str
    device: str
    baud: int = 115200

    @property
    def network(self) -> bool:
        return self.device.split(":", 1)[0] in NETWORK_SCHEMES


def parse_connection(url: str) -> Endpoint:
    """``--connection`` checked before anything opens; UsageError naming the accepted forms."""
    scheme, sep, rest = url.partition(":")
    if sep and scheme in NETWORK_SCHEMES:
        host, sep2, port = rest.rpartition(":")
        if not sep2 or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(
                f"--connection {url!r}: give {scheme}:HOST:PORT with a port 1-65535, e.g. {scheme}:127.0.0.1:14550"
            )
        return Endpoint(url, url)
    match = re.fullmatch(r"(/dev/[^,]+|COM\d+)(?:,(\d+))?", url)
    if match is None:
        raise UsageError(f"--connection {url!r} is not a MAVLink link edgeq can use; give {URL_FORMS}")
    device, baud = match.group(1), int(match.group(2) or 115200)
    if not os.path.exists(device) and device.startswith("/dev/"):
        raise UsageError(f"--connection {url}: {device} does not exist; plug the autopilot in or give its device")
    if baud <= 0:
        raise UsageError(f"--connection {url}: baud rate {baud} must be positive")
    return Endpoint(url, device, baud)


def mavutil() -> Any:
    """pymavlink's mavutil with MAVLink 2 selected (DEBUG_FLOAT_ARRAY and LANDING_TARGET's extensions need it)."""
    os.environ["MAVLINK20"] = "1"
    try:
        from pymavlink import mavutil as module
    except ImportError:
        raise DependencyError("edgeq mavlink needs pymavlink: pip install 'edgeq[drone]'") from None
    if module.mavlink.WIRE_PROTOCOL_VERSION != "2.0":
        module.set_dialect(module.current_dialect)
    return module


@dataclass
class Autopilot:
    """The autopilot whose heartbeat the link follows."""

    sysid: int
    compid: int
    autopilot: str
    type: str

    def describe(self) -> str:
        return f"system {self.sysid} component {self.compid}, {self.autopilot}, {self.type}"


class Link:
    """A MAVLink connection that sends our heartbeat at 1 Hz and watches the autopilot's (see the module doc)."""

    def __init__(self, endpoint: Endpoint, sysid: int, compid: int, clock=time.monotonic) -> None:
        self.endpoint, self.sysid, self.compid, self.clock = endpoint, sysid, compid, clock
        self.mavutil = mavutil()
        self.conn: Any = None
        self.autopilot: Autopilot | None = None
        self.up = False
        self.losses = self.reopens = 0
        self.last_heard = self.next_heartbeat = self.last_open = 0.0
        self._open()

    def _open(self) -> None:
        self.last_open = self.clock()
        try:
            with _stdout_to_stderr():
                self.conn = self.mavutil.mavlink_connection(
                    self.endpoint.device,
                    baud=self.endpoint.baud,
                    source_system=self.sysid,
                    source_component=self.compid,
                    autoreconnect=self.endpoint.device.startswith("tcp:"),
                    retries=1,
                    reconnect_delay=0,
                )
        except (OSError, ValueError) as exc:
            raise DeviceError(
                f"cannot open {self.endpoint.url}: {exc}; check the address and that the autopilot (or its router) is up"
            ) from None
        self.next_heartbeat = 0.0

    def _reopen(self, why: str) -> None:
        logger.debug("reopening %s (%s)", self.endpoint.url, why)
        self.close()
        self.reopens += 1
        try:
            self._open()
        except DeviceError as exc:
            logger.debug("%s", exc)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, AttributeError), _stdout_to_stderr():
                self.conn.close()  # AttributeError: pymavlink's TCP link after a failed reconnect has no socket
            self.conn = None

    def service(self) -> None:
        """Send our heartbeat when due, read what arrived, update the link state."""
        now = self.clock()
        if self.conn is None and now - self.last_open >= 1.0:
            self._reopen("not open")
        if now >= self.next_heartbeat:
            self.next_heartbeat = now + HEARTBEAT_S
            self.send("heartbeat", self._heartbeat_fields())
        self._receive()
        self._update_state(self.clock())

    def _heartbeat_fields(self) -> dict[str, object]:
        m = self.mavutil.mavlink
        return {
            "type": m.MAV_TYPE_ONBOARD_CONTROLLER,
            "autopilot": m.MAV_AUTOPILOT_INVALID,
            "base_mode": 0,
            "custom_mode": 0,
            "system_status": m.MAV_STATE_ACTIVE,
        }

    def _receive(self, limit: int = 200) -> None:
        for _ in range(limit):
            if self.conn is None:
                return
            try:
                with _stdout_to_stderr():
                    msg = self.conn.recv_msg()
            except OSError as exc:
                self._reopen(f"receive failed: {exc}")
                return
            if msg is None:
                return
            if msg.get_type() == "HEARTBEAT":
                self._heartbeat(msg)

    def _heartbeat(self, msg: Any) -> None:
        m = self.mavutil.mavlink
        if msg.autopilot == m.MAV_AUTOPILOT_INVALID or msg.get_srcSystem() == 0:
            return
        self.last_heard = self.clock()
        if self.autopilot is None or not self.up:
            self.autopilot = Autopilot(
                msg.get_srcSystem(),
                msg.get_srcComponent(),
                _enum_name(m, "MAV_AUTOPILOT", msg.autopilot),
                _enum_name(m, "MAV_TYPE", msg.type),
            )

    def _update_state(self, now: float) -> None:
        heard = self.last_heard > 0 and now - self.last_heard <= LOSS_S
        if heard and not self.up:
            self.up = True
            again = " again" if self.losses else ""
            logger.info(
                "autopilot heard%s on %s: %s", again, self.endpoint.url, self.autopilot and self.autopilot.describe()
            )
        elif self.up and not heard:
            self.up = False
            self.losses += 1
            logger.info(
                "link lost: no autopilot heartbeat for %.0f s on %s; still running, results count as undelivered",
                LOSS_S,
                self.endpoint.url,
            )
        if not self.up and self.last_heard > 0 and self.endpoint.network and now - self.last_open >= REOPEN_S:
            self._reopen("link lost")

    def wait_for_autopilot(self, wait_s: float, sleep=time.sleep) -> bool:
        """Service the link until the autopilot's first heartbeat or ``wait_s`` seconds; True when heard."""
        end = self.clock() + wait_s
        while True:
            self.service()
            if self.up or self.clock() >= end:
                return self.up
            sleep(0.02)

    def send(self, name: str, fields: dict[str, object]) -> bool:
        """Send one message (pymavlink's ``<name>_send``); False when it could not be written."""
        if self.conn is None:
            return False
        try:
            with _stdout_to_stderr():
                getattr(self.conn.mav, f"{name}_send")(**fields)
        except OSError as exc:
            self._reopen(f"send failed: {exc}")
            return False
        return True


def _enum_name(mavlink: Any, enum: str, value: int) -> str:
    entry = mavlink.enums.get(enum, {}).get(value)
    return entry.name if entry is not None else f"{enum} {value}"


@contextlib.contextmanager
def _stdout_to_stderr():
    if sys.stdout is sys.stderr:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield
