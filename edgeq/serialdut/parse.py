"""Pure parsers for the MLPerf Tiny / EEMBC DUT protocol: received bytes -> lines -> typed replies.

Nothing here does I/O, so every function can be tested on captured transcripts.
The flow is::

    lines, rest = split_lines(pending + chunk)          # keep ``rest`` for the next read
    classified = [classify(text) for text in lines]
    reply, remaining = take_reply(classified)            # a Reply once m-ready has arrived
    infer = parse_infer(reply.messages)

Malformed replies raise :class:`ReplyError` (a ``ValueError``); the client turns
it into a one-line :class:`~edgeq.errors.DeviceError` naming the port and command.
The protocol itself is described in ``docs/specs/dut-protocol.md``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

READY = "m-ready"
# What the EEMBC IO manager (energy mode) puts before each line the DUT sent.
IO_MANAGER_PREFIX = "[dut]: "
# Micro-second timers on boards are often 32-bit and wrap after about 71 minutes.
LAP_WRAP = 2**32
# Characters stripped from both ends of a line before classifying it: control bytes,
# DEL, spaces and undecodable bytes (line noise at boot or after a reset).
_EDGE_JUNK = "".join(chr(c) for c in range(0x21)) + "\x7f\ufffd"
# Control bytes inside a line mark a break (a board reset mid-line): only the text after the last counts.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_NAME = re.compile(r"m-name-([^\[\]]*)-\[(.*)\]")
_PROFILE = re.compile(r"m-profile-\[(.*)\]")
_MODEL = re.compile(r"m-model-\[(.*)\]")
_EXPECTING = re.compile(r"m-\[Expecting (\d+) bytes\]")
_LAP = re.compile(r"m-lap-us-(\d+)")
_WARMUP = re.compile(r"m-warmup-start-(-?\d+)")
_INFER_START = re.compile(r"m-infer-start-(-?\d+)")
_RESULTS = re.compile(r"m-results-\[(.*)\]")
_RAW = re.compile(r"m-raw-\[([0-9A-Fa-f]*)\]")
_ERROR = re.compile(r"e-\[(.*)\]")
_HELP_INPUT = re.compile(r"model input: (\d+) bytes")
# What edgeq's Cortex-M firmware prints when it faults: "fault: HardFault pc=0x... lr=0x..." (it then spins).
_FAULT = re.compile(r"fault: \w+ pc=0x[0-9a-f]{8}.*")


class ReplyError(ValueError):
    """A reply that does not have the form the protocol prescribes."""


class LineKind(str, Enum):
    """What a received line is."""

    READY = "ready"  # m-ready: the end of every reply
    MESSAGE = "message"  # m-...
    ERROR = "error"  # e-...
    NOISE = "noise"  # anything else: help text, debug prints, garbage


@dataclass(frozen=True)
class Line:
    """One received line: its text (edge noise stripped for m-/e- lines) and kind."""

    text: str
    kind: LineKind


@dataclass(frozen=True)
class Reply:
    """All lines of one reply, the closing m-ready included."""

    lines: tuple[Line, ...]

    @property
    def messages(self) -> list[str]:
        """The m- lines before m-ready, in order."""
        return [line.text for line in self.lines if line.kind is LineKind.MESSAGE]

    @property
    def errors(self) -> list[str]:
        """The device's error messages: the text inside each e-[...]."""
        return [parse_error(line.text) for line in self.lines if line.kind is LineKind.ERROR]

    @property
    def noise(self) -> list[str]:
        """Lines that are neither messages nor errors (kept for logging and for help text)."""
        return [line.text for line in self.lines if line.kind is LineKind.NOISE]


@dataclass(frozen=True)
class Profile:
    """The `profile%` reply: firmware version and model id (ic01, kws01, vww01, ad01 or a custom id)."""

    firmware: str
    model_id: str


@dataclass(frozen=True)
class InferResult:
    """The `infer N W%` reply.

    Attributes:
        warmup: Warm-up inferences the DUT ran (W).
        n: Timed inferences (N).
        t0_us: Timestamp before the timed loop in microseconds, None in energy mode.
        t1_us: Timestamp after it, None in energy mode.
        results: The m-results floats (empty when the firmware prints none).
    """

    warmup: int
    n: int
    t0_us: int | None
    t1_us: int | None
    results: tuple[float, ...]

    @property
    def elapsed_us(self) -> int | None:
        """T1 - T0 (allowing for one wrap of a 32-bit timer), None in energy mode."""
        if self.t0_us is None or self.t1_us is None:
            return None
        return lap_delta_us(self.t0_us, self.t1_us)

    @property
    def latency_us(self) -> float | None:
        """Microseconds per inference, (T1 - T0) / N; None in energy mode."""
        elapsed = self.elapsed_us
        return None if elapsed is None else elapsed / self.n


def split_lines(data: bytes) -> tuple[list[str], bytes]:
    """Split received bytes into complete lines and the unfinished rest.

    Lines end in ``\\r\\n`` (a bare ``\\n`` is accepted too); the terminator is
    removed. Bytes that are not ASCII decode to U+FFFD.

    Args:
        data: Bytes received so far (the previous rest followed by new bytes).

    Returns:
        The complete lines and the bytes after the last ``\\n``, to prepend to the next read.
    """
    *complete, rest = data.split(b"\n")
    return [raw.decode("ascii", "replace").rstrip("\r") for raw in complete], rest


def classify(text: str) -> Line:
    """Classify one line as m-ready, an m- message, an e- error or noise.

    Control bytes and undecodable bytes around the text are dropped, and so is
    everything up to a control byte inside it (a line cut short by a reset).
    """
    stripped = _CONTROL.split(text.strip(_EDGE_JUNK))[-1].strip(_EDGE_JUNK)
    if stripped == READY:
        return Line(stripped, LineKind.READY)
    if stripped.startswith("m-"):
        return Line(stripped, LineKind.MESSAGE)
    if stripped.startswith("e-"):
        return Line(stripped, LineKind.ERROR)
    return Line(text, LineKind.NOISE)


def unwrap_io_manager(text: str) -> tuple[str, bool]:
    """A line received through the EEMBC IO manager board: (the text without ``[dut]: ``, whether the DUT sent it).

    In energy mode the host talks to the IO manager, which forwards ``dut CMD%`` to the
    DUT and relays each DUT line with the prefix ``[dut]: ``; lines without it are the
    IO manager's own (its acknowledgement and its ``m-ready``).
    """
    if IO_MANAGER_PREFIX not in text:
        return text, False
    return text.replace(IO_MANAGER_PREFIX, ""), True


def fault_report(text: str) -> str | None:
    """The fault line an edgeq firmware prints when it crashes, or None for any other line."""
    match = _FAULT.search(text)
    return match.group(0).strip(_EDGE_JUNK) if match else None


def take_reply(lines: Sequence[Line]) -> tuple[Reply | None, list[Line]]:
    """Cut the first complete reply (up to and including m-ready) off ``lines``.

    Returns:
        (the reply, the lines after it), or (None, all lines) when m-ready has not arrived yet.
    """
    for i, line in enumerate(lines):
        if line.kind is LineKind.READY:
            return Reply(tuple(lines[: i + 1])), list(lines[i + 1 :])
    return None, list(lines)


def parse_error(text: str) -> str:
    """The message of an ``e-[...]`` line (the text after ``e-`` when there are no brackets)."""
    match = _ERROR.fullmatch(text)
    return match.group(1) if match else text.removeprefix("e-")


def _find(pattern: re.Pattern[str], messages: Sequence[str], what: str) -> re.Match[str]:
    for text in messages:
        match = pattern.fullmatch(text)
        if match:
            return match
    raise ReplyError(f"no {what} line in the reply {_show(messages)}")


def _show(messages: Sequence[str]) -> str:
    return "[" + ", ".join(messages[:6]) + (", ...]" if len(messages) > 6 else "]")


def parse_name(messages: Sequence[str]) -> str:
    """The DUT name from ``m-name-dut-[NAME]``."""
    return _find(_NAME, messages, "m-name-dut-[...]").group(2)


def parse_profile(messages: Sequence[str]) -> Profile:
    """Firmware version and model id from ``m-profile-[V]`` and ``m-model-[ID]`` (id "" when absent)."""
    firmware = _find(_PROFILE, messages, "m-profile-[...]").group(1)
    model = next((m.group(1) for m in map(_MODEL.fullmatch, messages) if m), "")
    return Profile(firmware, model)


def parse_expecting(messages: Sequence[str]) -> int:
    """N from ``m-[Expecting N bytes]``, the reply to `db load N%`."""
    return int(_find(_EXPECTING, messages, "m-[Expecting N bytes]").group(1))


def is_load_done(messages: Sequence[str]) -> bool:
    """True when the reply contains ``m-load-done`` (the last `db HEX%` of a load)."""
    return "m-load-done" in messages


def parse_lap(text: str) -> int:
    """T from ``m-lap-us-T``."""
    match = _LAP.fullmatch(text)
    if match is None:
        raise ReplyError(f"not a timestamp line: {text!r}")
    return int(match.group(1))


def lap_delta_us(t0: int, t1: int) -> int:
    """t1 - t0 in microseconds; a 32-bit timer that wrapped once in between is allowed for."""
    if t1 >= t0:
        return t1 - t0
    if t0 < LAP_WRAP:
        return t1 + LAP_WRAP - t0
    raise ReplyError(f"timestamps run backwards: m-lap-us-{t0} then m-lap-us-{t1}")


def parse_results_line(text: str) -> tuple[float, ...]:
    """The floats of ``m-results-[v0,v1,...]``, read as the MLPerf Tiny runner reads them.

    The values are split at commas; empty items are skipped (the reference firmwares
    print a trailing comma: ``[0.973,0.027,]``) and spaces around a value are allowed,
    so ``[]``, ``[,]`` and ``[ 1.5 , 2 ,]`` are valid. Each value is a Python float
    literal (``nan``, ``inf``, ``-inf`` included).
    """
    match = _RESULTS.fullmatch(text)
    if match is None:
        raise ReplyError(f"not a results line: {text!r}")
    try:
        return tuple(float(v) for v in match.group(1).split(",") if v.strip())
    except ValueError:
        raise ReplyError(f"results are not numbers: {text!r}") from None


def parse_results(messages: Sequence[str]) -> tuple[float, ...]:
    """The floats of the reply's ``m-results-[...]`` line."""
    return parse_results_line(_find(_RESULTS, messages, "m-results-[...]").group(0))


def parse_infer(messages: Sequence[str]) -> InferResult:
    """Parse the reply to `infer N W%`.

    Performance mode has two ``m-lap-us-T`` lines; energy mode has none (the DUT
    toggles a GPIO instead), which gives ``t0_us = t1_us = None``.
    """
    warmup = int(_find(_WARMUP, messages, "m-warmup-start-W").group(1))
    n = int(_find(_INFER_START, messages, "m-infer-start-N").group(1))
    if "m-infer-done" not in messages:
        raise ReplyError(f"no m-infer-done line in the reply {_show(messages)}")
    laps = [parse_lap(m) for m in messages if _LAP.fullmatch(m)]
    if len(laps) not in (0, 2):
        raise ReplyError(f"expected two m-lap-us lines around the inferences, got {len(laps)}")
    if n <= 0:
        raise ReplyError(f"m-infer-start-{n}: the DUT ran no inferences")
    results = next((parse_results_line(m) for m in messages if _RESULTS.fullmatch(m)), ())
    t0, t1 = laps if laps else (None, None)
    return InferResult(warmup, n, t0, t1, results)


def parse_raw(messages: Sequence[str]) -> bytes:
    """The output bytes of the edgeq `raw%` reply: its ``m-raw-[HEX]`` lines concatenated in order."""
    chunks = []
    for text in messages:
        if text.startswith("m-raw-"):
            match = _RAW.fullmatch(text)
            if match is None or len(match.group(1)) % 2:
                raise ReplyError(f"malformed raw output line: {text!r}")
            chunks.append(bytes.fromhex(match.group(1)))
    if not chunks:
        raise ReplyError(f"no m-raw-[...] line in the reply {_show(messages)}")
    return b"".join(chunks)


def parse_help_input_bytes(texts: Sequence[str]) -> int | None:
    """The model input size an edgeq firmware states in its `help%` text, or None."""
    for text in texts:
        match = _HELP_INPUT.search(text)
        if match:
            return int(match.group(1))
    return None
