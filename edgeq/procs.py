"""Child processes that never outlive edgeq.

Every program edgeq starts (compilers, QEMU, the tflite-micro and LiteRT
timing workers, the compiled engine, flashers, ssh) goes through :func:`run`
or :func:`popen` here, which add one guarantee to :mod:`subprocess`: on Linux
the child asks the kernel for ``SIGKILL`` when edgeq dies (``PR_SET_PDEATHSIG``),
so a child ends with its parent however the parent ends, ``kill -9`` included.
Orderly endings (Ctrl-C, SIGTERM, SIGHUP, a timeout, an exception) stop
children explicitly first: :func:`run` kills its child on any exception, and
long-lived children (QEMU) are stopped by their owner's ``finally``.

The parent-death signal follows the *thread* that started the child, so
start a long-lived child from a thread that lives at least as long as it
(edgeq starts them from the main thread).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = [
    "Terminated",
    "signals_as_exceptions",
    "termination_received",
    "raise_if_terminated",
    "popen",
    "run",
    "TimeoutExpired",
    "CalledProcessError",
    "PIPE",
    "DEVNULL",
    "STDOUT",
]

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT
TimeoutExpired = subprocess.TimeoutExpired
CalledProcessError = subprocess.CalledProcessError

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()  # looked up once here: the hook below runs between fork and exec


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties the child's life to this process (None where the OS lacks it)."""
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(137)

    return hook


def popen(cmd: Sequence[str], **kwargs: Any) -> subprocess.Popen:
    """:class:`subprocess.Popen` whose child is killed when edgeq dies."""
    if "preexec_fn" in kwargs:
        raise TypeError("edgeq.procs.popen sets preexec_fn itself")
    return subprocess.Popen(list(cmd), preexec_fn=_die_with_parent_hook(), **kwargs)


def run(
    cmd: Sequence[str],
    *,
    input: bytes | str | None = None,  # noqa: A002 - mirrors subprocess.run
    timeout: float | None = None,
    check: bool = False,
    capture_output: bool = False,
    **kwargs: Any,
) -> subprocess.CompletedProcess:
    """:func:`subprocess.run` with :func:`popen`'s guarantee; the child is killed on any exception here."""
    if capture_output:
        kwargs.setdefault("stdout", PIPE)
        kwargs.setdefault("stderr", PIPE)
    if input is not None:
        kwargs["stdin"] = PIPE
    with popen(cmd, **kwargs) as proc:
        try:
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill(proc)
            exc.stdout, exc.stderr = proc.communicate()
            raise
        except BaseException:  # Ctrl-C, SIGTERM (raised as an exception by the CLI), anything
            _kill(proc)
            raise
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    if check:
        done.check_returncode()
    return done


def _kill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def signal_name(returncode: int) -> str | None:
    """``SIGSEGV`` for a child that a signal ended (negative return code), else None."""
    if returncode >= 0:
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread so that cleanup runs as it does for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


_received: list[int] = []


def termination_received() -> int | None:
    """The first SIGTERM/SIGHUP seen while :func:`signals_as_exceptions` was active, or None.

    Some libraries (the TFLite converter calling back into Python from C++)
    turn the raised :class:`Terminated` into an error of their own; code that
    wraps such errors asks here before reporting them as a failure.
    """
    return _received[0] if _received else None


def raise_if_terminated() -> None:
    """Raise :class:`Terminated` again if a termination signal arrived (see :func:`termination_received`)."""
    if (signum := termination_received()) is not None:
        raise Terminated(signum)


def _raise_terminated(signum: int, frame: object) -> None:
    _received.append(signum)
    raise Terminated(signum)


@contextlib.contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    saved = {sig: signal.signal(sig, _raise_terminated) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
