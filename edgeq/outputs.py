"""Where edgeq writes: output locations checked before the work starts, and write failures as one line.

:func:`check_output` proves that a file or folder can be written where the
user asked, by creating and removing a probe in the nearest existing folder,
so a read-only mount, an immutable folder, a parent that is a file or a path
under ``/proc`` is refused at once instead of after a long conversion. The
probe leaves nothing behind: no folder is created for the output yet.

:func:`atomic_write` and :func:`atomic_write_many` write files whole or not
at all: each is staged as a temporary beside its target, then renamed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edgeq.errors import EdgeqError, UsageError
from edgeq.procs import raise_if_terminated


class OutputError(EdgeqError):
    """An output location edgeq cannot write."""


def check_output(path: str | Path, kind: str = "file") -> Path:
    """Raise OutputError unless a ``kind`` (``file`` or ``folder``) can be written at ``path``; returns ``path``."""
    path = Path(path)
    if kind == "file" and path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name inside it")
    if kind == "folder" and path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file; give a folder (new or existing)")
    target = path if kind == "folder" and path.is_dir() else path.parent
    existing = _nearest_existing(target)
    if not existing.is_dir():
        raise OutputError(f"cannot write {path}: {existing} is a file, not a folder; choose another location")
    _probe(existing, path)
    return path


def _nearest_existing(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _probe(folder: Path, path: Path) -> None:
    try:
        probe = tempfile.mkdtemp(prefix=".edgeq-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_reason(exc, folder)}; choose another location") from None
    os.rmdir(probe)


def _reason(exc: OSError, folder: Path) -> str:
    if exc.errno == errno.EROFS:
        return f"{folder} is on a read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"no permission to write in {folder}"
    if exc.errno == errno.ENOSPC:
        return f"no space left in {folder}"
    if exc.errno == errno.ENOENT and folder.is_dir():
        return f"{folder} does not accept new files (a virtual file system)"
    return f"{folder}: {exc.strerror or exc}"


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn an OSError raised while writing ``path`` into one OutputError line naming it and the reason."""
    try:
        yield
    except OSError as exc:
        where = Path(exc.filename).parent if exc.filename else Path(path).parent
        raise OutputError(f"writing {path} failed: {_reason(exc, where)}") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    atomic_write_many([(path, data)])


def atomic_write_many(files: list[tuple[Path, bytes]]) -> None:
    """Stage every file as a temporary beside its target, then rename them all.

    A failure while staging (disk full, permissions) leaves no file behind and is one OutputError line.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            with writing(path):
                staged.append((_stage(Path(path), data), Path(path)))
        raise_if_terminated()  # a signal a library swallowed still keeps the outputs from landing
        for tmp, path in staged:
            with writing(path):
                os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


def _stage(path: Path, data: bytes) -> str:
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name such as {path / 'model.tflite'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # the mode a plain open() gives; mkstemp's file is private (0600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
