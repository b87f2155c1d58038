"""A host for the MLPerf Tiny / EEMBC DUT protocol over a serial port (real boards, QEMU ``-serial pty``).

Example::

    with DutClient.open("/dev/ttyACM0", 115200) as dut:
        dut.wait_ready()
        print(dut.name(), dut.profile().model_id)
        dut.load_input(sample_bytes)
        result = dut.infer(n=10, warmup=1)
        print(result.latency_us, result.results)

Every command waits at most ``timeout`` seconds for its ``m-ready`` (``infer``
adds ``per_inference_s`` for each inference); a silent board raises a one-line
:class:`~edgeq.errors.DeviceError` naming the port and the last command sent,
and an ``e-[...]`` reply raises :class:`DeviceRefusedError` quoting the board.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import serial

from edgeq.errors import DeviceError, UsageError
from edgeq.serialdut.link import CMD_MAX, IO_MANAGER_COMMAND, DeviceRefusedError, DutLink, open_port, short
from edgeq.serialdut.parse import (
    InferResult,
    Profile,
    Reply,
    ReplyError,
    is_load_done,
    parse_expecting,
    parse_help_input_bytes,
    parse_infer,
    parse_name,
    parse_profile,
    parse_raw,
    parse_results,
)

T = TypeVar("T")

PROBE_S = 1.0  # wait_ready: time given to a boot banner, then between `name%` probes
DEFAULT_CHUNK = 31  # bytes per `db HEX%` (62 hex digits), as MLPerf Tiny hosts send
IO_MANAGER_CHUNK = 26  # through the EEMBC IO manager (energy mode), as the MLPerf Tiny runner sends
MAX_CHUNK = (CMD_MAX - len("db ")) // 2

__all__ = ["DeviceRefusedError", "DutClient"]


class DutClient:
    """Talks the DUT protocol over an open pyserial port.

    Args:
        port: An open ``serial.Serial`` (or ``serial.serial_for_url``) object; its read
            timeout is set to a short poll interval.
        timeout: Seconds each command may take before the board counts as silent.
        per_inference_s: Seconds added to ``infer``'s timeout per inference (warm-up included),
            generous for slow emulated boards.
        chunk_bytes: Input bytes per `db HEX%` command [default: 31 as MLPerf Tiny hosts send, 26 through
            the IO manager]; at most 38 (36 through the IO manager) to stay within 80 characters.
        via: "direct" (the DUT's own port) or "io-manager": ``port`` is the EEMBC IO manager board's
            (energy mode), which forwards ``dut CMD%`` to the DUT and relays its lines as ``[dut]: ...``.
    """

    def __init__(
        self,
        port: serial.SerialBase,
        *,
        timeout: float = 10.0,
        per_inference_s: float = 2.0,
        chunk_bytes: int | None = None,
        via: str = "direct",
    ) -> None:
        if timeout <= 0 or per_inference_s < 0:
            raise UsageError(f"timeout must be > 0 and per_inference_s >= 0, got {timeout} and {per_inference_s}")
        self.link = DutLink(port, timeout, via)
        self.per_inference_s = per_inference_s
        default = IO_MANAGER_CHUNK if via == "io-manager" else DEFAULT_CHUNK
        self.chunk_bytes = self._check_chunk(chunk_bytes or default)

    @classmethod
    def open(cls, port: str, baud: int = 115200, **kwargs: Any) -> DutClient:
        """Open ``port`` (a device path or a pyserial URL) and wrap it; kwargs go to the constructor.

        Raises:
            DeviceError: The port cannot be opened; the message names the likely fix.
        """
        handle = open_port(port, baud)
        try:
            return cls(handle, **kwargs)
        except BaseException:
            handle.close()
            raise

    @property
    def port_name(self) -> str:
        """The port's path or URL, as error messages name it."""
        return self.link.port_name

    @property
    def timeout(self) -> float:
        """Seconds each command may take."""
        return self.link.timeout

    def close(self) -> None:
        """Close the port."""
        self.link.port.close()

    def __enter__(self) -> DutClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def command(self, cmd: str, timeout: float | None = None) -> Reply:
        """Send ``cmd%`` and return its reply; an ``e-[...]`` line raises DeviceRefusedError."""
        return self.link.exchange(cmd, timeout)

    def wait_ready(self, timeout: float | None = None) -> Reply:
        """Wait until the DUT is ready: its boot banner, or the reply to a `name%` sent every second.

        Everything the board prints until it falls silent is then discarded, so the
        next command starts clean.

        Returns:
            The first complete reply seen (the banner or the `name%` reply).
        """
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        probe_at = time.monotonic() + min(PROBE_S, limit / 2)
        self.link.last = "waiting for the boot banner"
        while True:
            reply = self.link.next_reply()
            if reply is not None:
                self.link.settle()
                return reply
            now = time.monotonic()
            if now >= deadline:
                raise self.link.silent(limit)
            if now >= probe_at:
                self.link.send("name")
                probe_at = now + PROBE_S
            self.link.receive()

    def name(self) -> str:
        """The DUT name (``m-name-dut-[NAME]``)."""
        return self._parsed("name", parse_name)

    def profile(self) -> Profile:
        """Firmware version and model id."""
        return self._parsed("profile", parse_profile)

    def help(self) -> list[str]:
        """The free text of `help%`."""
        return self.command("help").noise

    def input_bytes_from_help(self) -> int | None:
        """The model input size an edgeq firmware states in `help%`; None for other firmwares."""
        try:
            return parse_help_input_bytes(self.help())
        except DeviceRefusedError:
            return None

    def load_input(self, data: bytes, chunk_bytes: int | None = None) -> None:
        """Load ``data`` into the DUT's input buffer: `db load N%`, then `db HEX%` commands.

        Raises:
            DeviceRefusedError: The board refused the size or a chunk (e.g. more bytes than its buffer).
            DeviceError: The board's replies do not follow the protocol.
        """
        if not data:
            raise UsageError("nothing to load: the input is empty")
        chunk = self._check_chunk(chunk_bytes or self.chunk_bytes)
        expecting = self._parsed(f"db load {len(data)}", parse_expecting)
        if expecting != len(data):
            raise self._bad_reply(f"db load {len(data)}", f"the board expects {expecting} bytes instead")
        for start in range(0, len(data), chunk):
            cmd = "db " + data[start : start + chunk].hex()
            done = is_load_done(self.command(cmd).messages)
            if done != (start + chunk >= len(data)):
                raise self._bad_reply(cmd, "m-load-done came early" if done else "no m-load-done after the last bytes")

    def infer(self, n: int = 1, warmup: int = 0) -> InferResult:
        """Run ``warmup`` untimed and ``n`` timed inferences on the loaded input.

        The timeout is ``timeout + (n + warmup) * per_inference_s``.
        """
        if n <= 0 or warmup < 0:
            raise UsageError(f"infer needs n > 0 and warmup >= 0, got n={n}, warmup={warmup}")
        limit = self.timeout + (n + warmup) * self.per_inference_s
        return self._parsed(f"infer {n} {warmup}", parse_infer, limit)

    def results(self) -> tuple[float, ...]:
        """The dequantized outputs of the last inference, as the DUT prints them (3 decimals)."""
        return self._parsed("results", parse_results)

    def raw(self) -> bytes:
        """The raw output tensor bytes of the last inference (edgeq firmware extension `raw%`).

        Raises:
            DeviceRefusedError: With ``unknown_command`` set on firmwares without `raw%`.
        """
        return self._parsed("raw", parse_raw)

    def _parsed(self, cmd: str, parse: Callable[[list[str]], T], timeout: float | None = None) -> T:
        reply = self.command(cmd, timeout)
        try:
            return parse(reply.messages)
        except ReplyError as exc:
            raise self._bad_reply(cmd, str(exc)) from exc

    def _check_chunk(self, chunk: int) -> int:
        prefix = IO_MANAGER_COMMAND if self.link.via == "io-manager" else ""
        most = (CMD_MAX - len(prefix + "db ")) // 2
        if not 1 <= chunk <= most:
            raise UsageError(
                f"chunk_bytes must be 1..{most} (a `{prefix}db HEX%` command has at most 80 characters), got {chunk}"
            )
        return chunk

    def _bad_reply(self, cmd: str, what: str) -> DeviceError:
        return DeviceError(
            f"the board on {self.port_name} gave an unexpected reply to `{short(cmd)}%`: {what}; "
            "is it running an MLPerf Tiny / edgeq DUT firmware?"
        )
