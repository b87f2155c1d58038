"""Logging and progress on stderr; stdout stays free for results and --json."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
logger = logging.getLogger("edgeq")
_VERBOSITY = 0


def setup_logging(verbose: int = 0) -> None:
    """Send edgeq's log records to stderr; ``verbose`` 0 = info, 1+ = debug."""
    global _VERBOSITY
    _VERBOSITY = verbose
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


def verbosity() -> int:
    """The -v count given on the command line (0 when used as a library)."""
    return _VERBOSITY


_SAVED_STDERR: list[int] = []  # the real stderr while quiet() captures fd 2


def _console_fd() -> int:
    """The file descriptor of the user's stderr, also while TensorFlow's output is captured."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    return _SAVED_STDERR[-1] if _SAVED_STDERR else 2


def progress(items: Iterable[T], total: int | None, label: str) -> Iterator[T]:
    """Yield ``items``, drawing a progress bar on stderr when it is a terminal.

    Off a terminal (CI, pipes, --json captured) it logs one line at the end.
    """
    fd = _console_fd()
    tty = bool(total) and os.isatty(fd) and os.environ.get("EDGEQ_NO_PROGRESS") is None
    start = time.monotonic()
    count = 0
    for count, item in enumerate(items, 1):  # noqa: B007
        if tty:
            done = int(30 * count / total)  # type: ignore[operator]
            os.write(fd, f"\r{label} [{'#' * done}{'.' * (30 - done)}] {count}/{total}".encode())
        yield item
    if tty:
        os.write(fd, b"\n")
    logger.debug("%s: %d items in %.1f s", label, count, time.monotonic() - start)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Capture fd 1 and fd 2 (and Python warnings) for the duration of the block.

    TensorFlow, Keras, the MLIR converter and LiteRT print to the process's
    file descriptors; this keeps stdout clean for --json. With -v the output
    goes to stderr instead; on failure its tail is logged at debug level."""
    if verbosity() >= 1:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        saved_stdout = os.dup(1)
        os.dup2(2, 1)  # native prints to stdout go to stderr too
        try:
            with contextlib.redirect_stdout(sys.stderr):
                yield
        finally:
            os.dup2(saved_stdout, 1)
            os.close(saved_stdout)
        return
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = _redirect_fds(sink)
        _SAVED_STDERR.append(saved[1][1])
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        except BaseException:
            _SAVED_STDERR.pop()
            _restore_fds(saved)
            _log_tail(sink)
            raise
        _SAVED_STDERR.pop()
        _restore_fds(saved)


@contextlib.contextmanager
def capture_native() -> Iterator[list[str]]:
    """Capture what native code writes to fd 1 and fd 2; the text is in the yielded list afterwards."""
    captured: list[str] = []
    with tempfile.TemporaryFile() as sink:
        saved = _redirect_fds(sink)
        try:
            yield captured
        finally:
            _restore_fds(saved)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))


def _redirect_fds(sink: object) -> list[tuple[int, int]]:
    saved = []
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        with contextlib.suppress(Exception):
            stream.flush()
        saved.append((fd, os.dup(fd)))
        os.dup2(sink.fileno(), fd)  # type: ignore[attr-defined]
    return saved


def _restore_fds(saved: list[tuple[int, int]]) -> None:
    for fd, copy in saved:
        os.dup2(copy, fd)
        os.close(copy)


def _log_tail(sink: object, lines: int = 20) -> None:
    sink.seek(0)  # type: ignore[attr-defined]
    text = sink.read().decode("utf-8", "replace")  # type: ignore[attr-defined]
    tail = "\n".join(text.strip().splitlines()[-lines:])
    if tail:
        logger.debug("TensorFlow output before the failure:\n%s", tail)
