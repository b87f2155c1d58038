"""Lines of the ST X-NUCLEO-LPM01A (PowerShield) serial protocol, as pure functions.

The host sends ASCII commands ending in a newline (``htc``, ``volt 3300m``, ``freq 1k``,
``start``, ...). The board answers ``ack <command>`` or ``error <command>`` followed by an
``Error detail: ...`` line, often behind a ``PowerShield > `` prompt. While acquiring in
``format ascii_dec`` it streams one sample per line as four mantissa digits, a sign and a
two-digit exponent (``6409-07`` = 6409 x 10^-7 A = 640.9 uA), a ``TimeStamp: 001s 000ms,
buff 00%`` line every second, ``event N ...`` lines for edges on its event input (``eventsrc
d7 fal``), and ``Acquisition completed`` after ``stop``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum

PROMPT = "PowerShield >"
_SAMPLE = re.compile(r"^(\d{4})([+-])(\d{2})$")
_EVENT = re.compile(r"^event (\d+)\b")
_TIMESTAMP = re.compile(r"^TimeStamp:\s*(\d+)s (\d+)ms")


class LineKind(str, Enum):
    """What one line from the board is."""

    SAMPLE = "sample"
    EVENT = "event"
    TIMESTAMP = "timestamp"
    ACK = "ack"
    ERROR = "error"
    ERROR_DETAIL = "error detail"
    DONE = "done"
    OTHER = "other"


@dataclass(frozen=True)
class LpmLine:
    """One classified line: ``text`` without the prompt; ``value`` the sample in SI units or the event number."""

    kind: LineKind
    text: str
    value: float | None = None


def decode_sample(text: str) -> float | None:
    """``6409-07`` -> 6.409e-4; None when ``text`` is not a sample."""
    m = _SAMPLE.match(text)
    if m is None:
        return None
    exponent = int(m[3]) if m[2] == "+" else -int(m[3])
    return int(m[1]) * 10.0**exponent


def encode_sample(value: float) -> str:
    """The ``DDDD±EE`` form of a non-negative value (what the board sends; used by the simulator)."""
    if value <= 0:
        return "0000+00"
    exponent = math.floor(math.log10(value)) - 3  # four mantissa digits
    mantissa = round(value / 10.0**exponent)
    if mantissa > 9999:
        mantissa, exponent = round(mantissa / 10), exponent + 1
    sign = "-" if exponent < 0 else "+"
    return f"{mantissa:04d}{sign}{abs(exponent):02d}"


def strip_prompt(raw: str) -> str:
    """The line without CR/LF/NUL padding and without any leading ``PowerShield >`` prompts."""
    text = raw.strip("\r\n\x00 ")
    while text.startswith(PROMPT):
        text = text[len(PROMPT) :].lstrip()
    return text


def parse_line(raw: str) -> LpmLine:
    """Classify one line from the board."""
    text = strip_prompt(raw)
    value = decode_sample(text)
    if value is not None:
        return LpmLine(LineKind.SAMPLE, text, value)
    if m := _EVENT.match(text):
        return LpmLine(LineKind.EVENT, text, float(m[1]))
    if m := _TIMESTAMP.match(text):
        return LpmLine(LineKind.TIMESTAMP, text, int(m[1]) + int(m[2]) / 1000.0)
    if text.startswith("ack"):
        return LpmLine(LineKind.ACK, text[3:].strip())
    if text.startswith("Error detail"):
        return LpmLine(LineKind.ERROR_DETAIL, text.partition(":")[2].strip())
    if text.startswith("error") or text.startswith("err "):
        return LpmLine(LineKind.ERROR, text.partition(" ")[2].strip())
    if "Acquisition completed" in text:
        return LpmLine(LineKind.DONE, text)
    return LpmLine(LineKind.OTHER, text)


def answers(line: LpmLine, command: str) -> bool:
    """True when ``line`` is the board's ack or error for ``command`` (it echoes the command)."""
    if line.kind not in (LineKind.ACK, LineKind.ERROR):
        return False
    word = command.split()[0]
    return line.text == command or line.text.split(" ", 1)[0] == word or not line.text
