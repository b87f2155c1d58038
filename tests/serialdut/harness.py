"""Devices on a pty for the serialdut tests, and the transcript file format.

- :class:`HostDut`: the C protocol (edgeq/firmware/templates/common/edgeq_dut.c) linked to the
  test model of tests/firmware/host_dut.c, run as a process on a pty: a board on /dev/pts/N.
- :class:`SimDut`: a DUT simulated in Python and served from a thread on a pty; it can add
  line noise, split its writes, fall silent, or answer with the raw% extension.

Transcripts (tests/fixtures/transcripts/*.txt) are text: ``> cmd%`` is what the host
sent, ``< text`` one DUT line (CR LF appended), ``<~ text`` raw DUT bytes with Python
escapes (no terminator added), ``#`` a comment.
"""

from __future__ import annotations

import codecs
import os
import select
import shutil
import subprocess
import threading
import time
import tty
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
COMMON = ROOT / "edgeq" / "firmware" / "templates" / "common"
HOST_DUT_C = ROOT / "tests" / "firmware" / "host_dut.c"
TRANSCRIPTS = ROOT / "tests" / "fixtures" / "transcripts"


def build_host_dut(folder: Path) -> Path:
    """Compile host_dut.c + edgeq_dut.c with gcc into ``folder``; skips the test without gcc."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed; the serial DUT tests compile the C protocol on the host")
    exe = folder / "host_dut"
    args = [gcc, "-std=c99", "-O2", "-Wall", "-Wextra", f"-I{COMMON}", str(HOST_DUT_C), str(COMMON / "edgeq_dut.c")]
    done = subprocess.run([*args, "-o", str(exe)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return exe


def open_pty() -> tuple[int, int, str]:
    """(master fd, slave fd, slave path) of a new pty in raw mode."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


class HostDut:
    """host_dut running on a pty. Open the port (``path``) before calling :meth:`boot`:
    opening a serial port flushes what arrived before, such as the boot banner."""

    def __init__(self, exe: Path, *flags: str) -> None:
        self.exe, self.flags = exe, flags
        self._master, self._slave, self.path = open_pty()
        self.proc: subprocess.Popen | None = None

    def boot(self) -> None:
        """Start the process; it prints its banner to the pty."""
        self.proc = subprocess.Popen([str(self.exe), *self.flags], stdin=self._master, stdout=self._master)
        os.close(self._master)
        # The slave fd stays open until stop(): with no slave open, the DUT reads end of input and exits.

    def stop(self) -> None:
        if self.proc is None:
            os.close(self._master)
        elif self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._slave)


Reply = Sequence["bytes | float"]  # bytes to write, or seconds to pause


class SimDut:
    """A DUT simulated on a pty by a thread.

    Args:
        respond: command (without '%') -> what to write: byte strings and pauses (floats).
    """

    def __init__(self, respond: Callable[[str], Reply]) -> None:
        self.respond = respond
        self.commands: list[str] = []
        self._master, self._slave, self.path = open_pty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        os.write(self._master, data)

    def _serve(self) -> None:
        command = b""
        while not self._stop.is_set():
            if not select.select([self._master], [], [], 0.02)[0]:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            for byte in data:
                if byte != ord("%"):
                    command += bytes([byte])
                    continue
                text, command = command.decode("ascii", "replace"), b""
                self.commands.append(text)
                for item in self.respond(text):
                    if isinstance(item, float):
                        time.sleep(item)
                    else:
                        self.write(item)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self._master)
        os.close(self._slave)


def lines(*texts: str) -> list[bytes]:
    """DUT lines, each ending in CR LF, as one write."""
    return [b"".join(t.encode("ascii") + b"\r\n" for t in texts)]


# ---- transcripts ----

Event = tuple[str, bytes]  # ("send", b"name%") or ("recv", bytes from the DUT)


def read_transcript(path: Path) -> list[Event]:
    """The events of a transcript file, in order."""
    events: list[Event] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("> "):
            events.append(("send", line[2:].encode("ascii")))
        elif line.startswith("<~ "):
            events.append(("recv", codecs.decode(line[3:], "unicode_escape").encode("latin-1")))
        elif line.startswith("< ") or line == "<":
            events.append(("recv", line[2:].encode("latin-1") + b"\r\n"))
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"{path.name}: unrecognized transcript line {line!r}")
    return events


def received(events: Sequence[Event]) -> bytes:
    """Everything the DUT sent, as one byte stream."""
    return b"".join(data for kind, data in events if kind == "recv")


def exchanges(events: Sequence[Event]) -> list[tuple[str | None, bytes]]:
    """(command or None for the boot banner, the DUT bytes that followed it)."""
    out: list[tuple[str | None, bytes]] = [(None, b"")]
    for kind, data in events:
        if kind == "send":
            out.append((data.decode("ascii").removesuffix("%"), b""))
        else:
            out[-1] = (out[-1][0], out[-1][1] + data)
    return out if out[0][1] else out[1:]


def capture(exe: Path, flags: Sequence[str], commands: Sequence[str], timeout: float = 10.0) -> list[str]:
    """Run host_dut on a pty, send ``commands``; the transcript lines (banner first)."""
    import serial

    dut = HostDut(exe, *flags)
    port = serial.Serial(dut.path, 115200, timeout=timeout)
    try:
        dut.boot()
        out = [f"< {text}" for text in _read_reply(port)]
        for cmd in commands:
            port.write(cmd.encode("ascii") + b"%")
            out += [f"> {cmd}%"] + [f"< {text}" for text in _read_reply(port)]
        return out
    finally:
        port.close()
        dut.stop()


def _read_reply(port) -> list[str]:
    texts: list[str] = []
    while not texts or texts[-1] != "m-ready":
        raw = port.read_until(b"\r\n")
        assert raw.endswith(b"\r\n"), f"no complete line after {texts}: {raw!r}"
        texts.append(raw[:-2].decode("ascii"))
    return texts


# ---- a Python model of the protocol, for SimDut ----

NOISE = b"\x00\xffdebug: tick 17\r\n\x1b[0mHAL ok\ngarbage without m-ready\r\n"
Model = Callable[[bytes], "tuple[bytes, list[float]]"]  # loaded input -> (raw output bytes, m-results floats)


class ProtocolSim:
    """``respond`` for SimDut: the DUT protocol around a Python model function.

    Args:
        model: loaded input bytes -> (raw output bytes, result floats).

    Attributes (set them to change the device): ``raw`` implements the edgeq raw% command,
    ``noise`` writes garbage lines before every reply, ``split`` writes replies in 5-byte
    pieces with short pauses.
    """

    def __init__(self, model: Model, *, model_id: str = "sim01", input_bytes: int = 16, capacity: int = 64) -> None:
        self.model, self.model_id, self.input_bytes, self.capacity = model, model_id, input_bytes, capacity
        self.raw, self.noise, self.split = True, False, False
        self.buffer, self.expected, self.outputs, self.clock = b"", 0, None, 1000
        self.handlers = {"name": self._name, "profile": self._profile, "help": self._help, "db": self._db}
        self.handlers.update({"infer": self._infer, "results": self._results, "raw": self._raw})

    def __call__(self, cmd: str) -> list[bytes | float]:
        tokens = cmd.split()
        handler = self.handlers.get(tokens[0]) if tokens else None
        reply = handler(tokens) if handler else [f"e-[Unknown command: {tokens[0]}]"] if tokens else []
        data = (NOISE if self.noise else b"") + b"".join(t.encode() + b"\r\n" for t in [*reply, "m-ready"])
        if not self.split:
            return [data]
        pieces: list[bytes | float] = []
        for start in range(0, len(data), 5):
            pieces += [data[start : start + 5], 0.0005]
        return pieces

    def _name(self, tokens: list[str]) -> list[str]:
        return ["m-name-dut-[sim]"]

    def _profile(self, tokens: list[str]) -> list[str]:
        return ["m-profile-[sim 1.0]", f"m-model-[{self.model_id}]"]

    def _help(self, tokens: list[str]) -> list[str]:
        return ["sim DUT", f"  db load N     1 <= N <= {self.capacity} (model input: {self.input_bytes} bytes)"]

    def _db(self, tokens: list[str]) -> list[str]:
        if tokens[1] == "load":
            n = int(tokens[2])
            if n > self.capacity:
                return [f"e-[Byte count {n} exceeds the input buffer ({self.capacity} bytes)]"]
            self.buffer, self.expected = b"", n
            return [f"m-[Expecting {n} bytes]"]
        self.buffer += bytes.fromhex(tokens[1])
        return ["m-load-done"] if len(self.buffer) == self.expected else []

    def _infer(self, tokens: list[str]) -> list[str]:
        n, w = int(tokens[1]), int(tokens[2])
        self.outputs = self.model(self.buffer)
        t0, self.clock = self.clock, self.clock + 250 * n
        values = ",".join(f"{v:.3f}" for v in self.outputs[1])
        laps = [f"m-lap-us-{t0}", f"m-lap-us-{self.clock}"]
        return [
            f"m-warmup-start-{w}",
            "m-warmup-done",
            f"m-infer-start-{n}",
            *laps,
            "m-infer-done",
            f"m-results-[{values}]",
        ]

    def _results(self, tokens: list[str]) -> list[str]:
        return [f"m-results-[{','.join(f'{v:.3f}' for v in self.outputs[1])}]"]

    def _raw(self, tokens: list[str]) -> list[str]:
        if not self.raw:
            return ["e-[Unknown command: raw]"]
        if self.outputs is None:
            return ["e-[No results: run infer first]"]
        data = self.outputs[0]
        return [f"m-raw-[{data[i : i + 32].hex()}]" for i in range(0, len(data), 32)]


def sum_model(data: bytes) -> tuple[bytes, list[float]]:
    """A toy model for ProtocolSim: raw = the bytes reversed, results = [sum / 100, len]."""
    return data[::-1], [sum(data) / 100, float(len(data))]


class Replay:
    """``respond`` for SimDut: the DUT side of a transcript, each command answered with what followed it there.

    Commands must come in the transcript's order; ``banner`` is what the DUT printed before the first command.
    """

    def __init__(self, path: Path) -> None:
        pairs = exchanges(read_transcript(path))
        self.banner = pairs[0][1] if pairs and pairs[0][0] is None else b""
        self.script = [(cmd, data) for cmd, data in pairs if cmd is not None]

    def __call__(self, cmd: str) -> list[bytes | float]:
        assert self.script, f"no reply left in the transcript for {cmd!r}"
        expected, data = self.script.pop(0)
        assert cmd == expected, f"the host sent {cmd!r}, the transcript has {expected!r}"
        return [data]
