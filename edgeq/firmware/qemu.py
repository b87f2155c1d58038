"""Run firmware on an emulated board: ``qemu-system-arm`` with the UART on a pseudo-terminal.

``Emulator`` starts QEMU with ``-icount shift=N`` (deterministic virtual time:
2**N ns per instruction), ``-serial pty`` (the UART as /dev/pts/N, opened with
pyserial like a USB serial port) and its monitor on a pipe, and always ends
the process group on exit, on an exception and on Ctrl-C::

    with Emulator(elf, board, paused=True) as emu:
        port = serial.Serial(emu.port, 115200, timeout=1)
        emu.resume()  # QEMU drops UART output while nobody has the pty open: open it first
        wait_for_banner(port)  # edgeq.firmware.banner
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from edgeq import procs
from edgeq.boards import Board, load_board
from edgeq.errors import DependencyError, DeviceError, UnsupportedError, UsageError
from edgeq.firmware.project import qemu_base

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
_PTY = re.compile(r"char device redirected to (\S+)")


def qemu_command(board: Board, elf: str | Path, *, paused: bool = False, extra: Sequence[str] = ()) -> list[str]:
    """The ``qemu-system-arm`` command line that runs ``elf`` on ``board`` with the UART on a pty.

    ``-S`` (``paused``) waits for ``cont`` on the monitor, which reads stdin; ``extra`` options
    (such as a ``-plugin``) come before the image.
    """
    if board.qemu is None:
        raise UnsupportedError(f"board {board.id} is not emulated (flasher {board.flasher}); use edgeq flash")
    cmd = [*qemu_base(board), "-display", "none", "-monitor", "stdio", "-serial", "pty"]
    return [*cmd, *(["-S"] if paused else []), *extra, "-kernel", str(elf)]


class Emulator:
    """A running QEMU board; ``port`` is the pseudo-terminal of its UART. Use it as a context manager."""

    def __init__(
        self,
        elf: str | Path,
        board: str | Board,
        *,
        paused: bool = False,
        start_timeout: float = START_TIMEOUT,
        extra: Sequence[str] = (),
    ) -> None:
        self.board = board if isinstance(board, Board) else load_board(board)
        self.elf = Path(elf)
        self.command = qemu_command(self.board, self.elf, paused=paused, extra=extra)
        self.start_timeout = start_timeout
        self.port: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=40)
        self._found = threading.Event()
        self._ready = threading.Event()  # the monitor answered: the machine is up
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Emulator:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        """Start QEMU and return the pty path once QEMU reports it.

        Raises:
            DependencyError: qemu-system-arm is not installed.
            UsageError: the image does not exist.
            DeviceError: QEMU exited or did not report its pty in time (with its last output line).
        """
        if self.proc is not None:
            raise UsageError(f"this emulator was started already (pid {self.proc.pid}); make a new Emulator")
        if not self.elf.is_file():
            raise UsageError(f"firmware image {self.elf} does not exist; build it with edgeq build")
        self.proc = self._spawn()
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._reader.start()
        try:
            self._monitor(b"info status")  # answered only once the machine is built and the kernel loaded
            self.port = self._wait_for_port()
        except BaseException:
            self.stop()
            raise
        return self.port

    def _spawn(self) -> subprocess.Popen[bytes]:
        binary = shutil.which(self.command[0])
        if binary is None:
            raise DependencyError(
                f"{self.command[0]} is not installed; install it with: apt-get install qemu-system-arm"
            )
        return procs.popen(
            [binary, *self.command[1:]],
            stdin=subprocess.PIPE,  # the monitor
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches us, and stop() ends the group
        )  # procs.popen: QEMU is killed with edgeq, even by SIGKILL

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            self._output.append(line)
            match = _PTY.search(line)
            if match and self.port is None:
                self.port = match[1]
                self._found.set()
            if "VM status:" in line:
                self._ready.set()

    def _wait_for_port(self) -> str:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while not (self._ready.wait(0.05) and self._found.is_set()):
            if self.proc.poll() is not None:
                if self._reader is not None:
                    self._reader.join(1.0)
                raise DeviceError(f"{self.command[0]} exited with code {self.proc.returncode}: {self.last_output()}")
            if time.monotonic() > deadline:
                raise DeviceError(f"{self.command[0]} did not start within {self.start_timeout:g} s")
        assert self.port is not None
        return self.port

    def _monitor(self, command: bytes) -> None:
        """Send one monitor command; a QEMU that is gone is reported by the caller's checks."""
        assert self.proc is not None and self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(command + b"\n")
            self.proc.stdin.flush()

    @property
    def pty(self) -> str:
        """The pty path of the emulated UART; UsageError before :meth:`start`."""
        if self.port is None:
            raise UsageError("the emulator is not started; call start() or use it in a with block")
        return self.port

    def last_output(self) -> str:
        """QEMU's last message (its error when it fails to start), without the monitor's chatter."""
        output = [line.rpartition("(qemu) ")[2].strip() for line in self._output]
        fatal = [line for line in output if "fatal:" in line]  # e.g. "qemu: fatal: Lockup: can't escalate ..."
        own = [line for line in output if line.startswith(f"{Path(self.command[0]).name}:")]
        lines = fatal or own or [line for line in output if line and "\x1b" not in line]
        return lines[-1] if lines else "no output"

    def resume(self) -> None:
        """Start the CPU of an emulator started with ``paused=True`` (monitor command ``cont``)."""
        if self.proc is None or self.proc.poll() is not None:
            raise DeviceError(f"{self.command[0]} is not running: {self.last_output()}")
        self._monitor(b"cont")

    def wait(self, poll: float = 0.2) -> None:
        """Block until QEMU ends (Ctrl-C raises KeyboardInterrupt here); DeviceError when it ends by itself."""
        while self.running:
            time.sleep(poll)
        code = self.proc.returncode if self.proc is not None else None
        raise DeviceError(f"{self.command[0]} exited with code {code}: {self.last_output()}")

    @property
    def running(self) -> bool:
        """QEMU is still running."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """End QEMU's process group (SIGTERM, then SIGKILL) and wait for it; safe to call twice."""
        proc = self.proc
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                break
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                continue
        proc.wait(STOP_TIMEOUT)
        if self._reader is not None:
            self._reader.join(STOP_TIMEOUT)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


@contextlib.contextmanager
def port_link(pty: str | None, link: str | Path | None) -> Iterator[None]:
    """Make ``link`` a symlink to ``pty`` while the block runs (a stable name for runners); no-op without ``link``."""
    if link is None or pty is None:
        yield
        return
    path = Path(link)
    if path.exists() and not path.is_symlink():
        raise UsageError(f"--port {path} exists and is not a symlink; pick a new path such as /tmp/ttyEDGEQ")
    path.unlink(missing_ok=True)
    path.symlink_to(pty)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
