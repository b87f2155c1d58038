"""A simulated ST X-NUCLEO-LPM01A (PowerShield) on a pty, served by a Python thread.

It answers the host commands the way the board's firmware does (``PowerShield > ack <cmd>``,
or ``error <cmd>`` then ``Error detail: ...``; formats from UM2269 as used by public host
scripts such as the MLPerf Tiny runner), and while acquiring in ``ascii_dec`` streams one
current sample per ``1/freq`` seconds of wall time as ``DDDD±EE`` lines, a ``TimeStamp``
line every second of samples, and ``event N ris`` when the test signals a D7 edge.
``stop`` ends the stream with ``Acquisition completed``.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

from edgeq.energy.lpm01a import FREQS
from edgeq.energy.lpm01a_parse import encode_sample

PROMPT = "PowerShield > "
NOISE = ("\x00\xff\x1b[0m", "PowerShield > ", "12345", "TimeStamp garbled", "6409-0")
SETTINGS = {
    "htc": None,
    "hrc": None,
    "volt": None,
    "freq": tuple(FREQS),
    "acqtime": None,
    "acqmode": ("dyn", "stat"),
    "output": ("current", "energy"),
    "format": ("ascii_dec", "bin_hexa"),
    "trigsrc": ("sw", "d7"),
    "trigdelay": None,
    "eventsrc": ("d7",),
    "pwr": ("on", "off", "auto"),
    "pwrend": ("on", "off"),
}


class SimLpm01a:
    """The board on ``path``.

    Args:
        silent: Never answer anything.
        refuse: Command words answered with an error.
        noise: Mix unreadable lines into the sample stream.
        complete: Send ``Acquisition completed`` after ``stop``.
    """

    def __init__(self, silent=False, refuse=(), noise=False, complete=True) -> None:
        self.silent, self.refuse, self.noise, self.complete = silent, set(refuse), noise, complete
        self.commands: list[str] = []
        self.freq = 100
        self.current_a = 1e-3
        self.sent = 0
        self.edge_samples: list[int] = []
        self._pending: list[float | None] = []
        self._acquiring = False
        self._lock = threading.Lock()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def edge(self, current_after: float | None = None) -> None:
        """A falling edge on D7 before the next sample; the current changes there too."""
        with self._lock:
            self._pending.append(current_after)

    def wait_for(self, cmd: str, timeout_s: float = 2.0) -> bool:
        """True once the board has received ``cmd`` (the host may have closed its port before)."""
        end = time.monotonic() + timeout_s
        while cmd not in self.commands and time.monotonic() < end:
            time.sleep(0.005)
        return cmd in self.commands

    def close(self) -> None:
        self._halt.set()
        self._thread.join(timeout=5)
        os.close(self._master)
        os.close(self._slave)

    # ---- serving ----
    def _serve(self) -> None:
        buf = b""
        while not self._halt.is_set():
            if select.select([self._master], [], [], 0.002)[0]:
                try:
                    buf += os.read(self._master, 4096)
                except OSError:
                    return
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    self._handle(raw.decode("ascii", "replace").strip("\r "))
            if self._acquiring:
                self._stream()

    def _write(self, *lines: str) -> None:
        os.write(self._master, "".join(line + "\r\n" for line in lines).encode("latin-1"))

    def _handle(self, cmd: str) -> None:
        if not cmd:
            return
        self.commands.append(cmd)
        if self.silent:
            return
        word, _, arg = cmd.partition(" ")
        if word == "start":
            self._write(PROMPT + "ack start")
            self._start()
        elif word == "stop":
            self._acquiring = False
            if self.complete:
                self._write(PROMPT + "Acquisition completed")
        elif word in self.refuse or not self._valid(word, arg):
            self._write(PROMPT + f"error {cmd}", PROMPT + f"Error detail: invalid parameter for {word}")
        else:
            if word == "freq":
                self.freq = FREQS[arg]
            self._write(PROMPT + f"ack {cmd}")

    def _valid(self, word: str, arg: str) -> bool:
        if word not in SETTINGS:
            return False
        allowed = SETTINGS[word]
        if word == "volt":
            return arg.endswith("m") and arg[:-1].isdigit() and 1800 <= int(arg[:-1]) <= 3300
        return allowed is None or arg.split(" ")[0] in allowed

    def _start(self) -> None:
        self._t0 = time.monotonic()
        self.sent = 0
        self.edge_samples = []
        self._events = 0
        self._acquiring = True

    def _stream(self) -> None:
        due = int((time.monotonic() - self._t0) * self.freq)
        lines: list[str] = []
        while self.sent < due:
            with self._lock:
                pending, self._pending = self._pending, []
            for current_after in pending:
                self._events += 1
                self.edge_samples.append(self.sent)
                lines.append(f"event {self._events} ris")
                if current_after is not None:
                    self.current_a = current_after
            lines.append(encode_sample(self.current_a))
            self.sent += 1
            if self.noise and self.sent % 7 == 0:
                lines.append(NOISE[self.sent % len(NOISE)])
            if self.sent % self.freq == 0:
                lines.append(f"TimeStamp: {self.sent // self.freq:03d}s 000ms, buff 00%")
        if lines:
            self._write(*lines)
