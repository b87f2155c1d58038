"""Logging and progress on stderr; stdout stays free for results and --json."""

from __future__ import annotations

import logging
import os
import sys
import time
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


def progress(items: Iterable[T], total: int | None, label: str) -> Iterator[T]:
    """Yield ``items``, drawing a progress bar on stderr when it is a terminal.

    Off a terminal (CI, pipes, --json captured) it logs one line at the end.
    """
    tty = sys.stderr.isatty() and os.environ.get("EDGEQ_NO_PROGRESS") is None
    start = time.monotonic()
    count = 0
    for count, item in enumerate(items, 1):  # noqa: B007
        if tty and total:
            done = int(30 * count / total)
            sys.stderr.write(f"\r{label} [{'#' * done}{'.' * (30 - done)}] {count}/{total}")
            sys.stderr.flush()
        yield item
    if tty and total:
        sys.stderr.write("\n")
    logger.debug("%s: %d items in %.1f s", label, count, time.monotonic() - start)
