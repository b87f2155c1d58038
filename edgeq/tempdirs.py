"""One temporary folder per edgeq process, removed on exit and swept when its owner was killed.

Everything temporary that an edgeq command writes, its own files and those of
the libraries and programs it calls (TensorFlow's temporary SavedModels and
autograph files, gcc's LTO files, the timing workers' inputs), lands under
``$TMPDIR/edgeq-<pid>-<start>/``: :func:`process_tempdir` points
:mod:`tempfile` and ``TMPDIR`` there for the length of a command. The folder
goes away when the command ends, however it ends short of ``SIGKILL``; after a
``SIGKILL`` the next edgeq command removes it, once the process named by its
pid and start time is gone. A running edgeq's folder is never touched, so any
number of edgeq commands can run at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "edgeq-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-(\d+)$")


def process_start_time(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (``/proc/PID/stat`` field 22), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def _owner_alive(pid: int, start: int) -> bool:
    if not Path("/proc").is_dir():  # no procfs: never sweep what may belong to a live process
        return True
    return process_start_time(pid) == start


def sweep_stale(base: Path) -> list[Path]:
    """Remove the edgeq process folders under ``base`` whose owner is gone; returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _NAME.match(entry.name)
        if match is None or _owner_alive(int(match[1]), int(match[2])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed.append(entry)
    return removed


@contextlib.contextmanager
def process_tempdir() -> Iterator[Path]:
    """Make this process's temporary folder the default for :mod:`tempfile` and child processes while the block runs.

    Nested use reuses the folder. Where the base temporary folder is not writable, nothing changes.
    """
    if os.environ.get("EDGEQ_PROCESS_TMPDIR") == str(tempfile.gettempdir()):
        yield Path(tempfile.gettempdir())  # already inside one (nested call)
        return
    base = Path(tempfile.gettempdir())
    sweep_stale(base)
    start = process_start_time(os.getpid()) or 0
    folder = base / f"{PREFIX}{os.getpid()}-{start}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        yield base
        return
    saved = (tempfile.tempdir, os.environ.get("TMPDIR"), os.environ.get("EDGEQ_PROCESS_TMPDIR"))
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    os.environ["EDGEQ_PROCESS_TMPDIR"] = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = saved[0]
        _restore_env("TMPDIR", saved[1])
        _restore_env("EDGEQ_PROCESS_TMPDIR", saved[2])
        shutil.rmtree(folder, ignore_errors=True)


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
