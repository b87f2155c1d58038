"""edgeq's build cache (``$EDGEQ_CACHE``, default ``~/.cache/edgeq``), safe under parallel use.

Each entry is a folder named by a content hash. :func:`cached_folder` builds
an entry once: under an exclusive lock on the entry (``flock``, released by
the kernel when its holder dies, however it dies), in a staging folder of its
own, renamed into place only when complete. So a reader sees a complete entry
or none, two processes never build the same entry twice, and a builder killed
half-way leaves only a staging folder that the next builder of that entry
removes. :func:`cached_file` adds one file to an existing entry the same way
(compiled into a unique name, then renamed: a program another process is
running is never rewritten).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from edgeq.errors import EdgeqError

COMPLETE = ".complete"


def cache_dir() -> Path:
    """The cache root: ``$EDGEQ_CACHE`` or ``~/.cache/edgeq``."""
    return Path(os.environ.get("EDGEQ_CACHE", Path.home() / ".cache" / "edgeq"))


@contextlib.contextmanager
def entry_lock(folder: Path) -> Iterator[None]:
    """Hold the exclusive lock of cache entry ``folder`` (a ``.NAME.lock`` file beside it)."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder.parent / f".{folder.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise EdgeqError(
            f"cannot write edgeq's build cache {folder.parent} ({exc.strerror}); point EDGEQ_CACHE at a writable folder"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def cached_folder(folder: Path, make: Callable[[Path], object]) -> Path:
    """Return cache entry ``folder``, first building it with ``make(staging)`` if it is not there.

    ``make`` writes the entry's files into the empty folder it is given; an
    exception from it leaves nothing behind and propagates.
    """
    if (folder / COMPLETE).is_file():
        return folder
    with entry_lock(folder):
        if (folder / COMPLETE).is_file():
            return folder
        _remove_leftovers(folder)
        stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            make(stage)
            (stage / COMPLETE).touch()
            os.rename(stage, folder)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
    return folder


def cached_file(path: Path, make: Callable[[Path], None]) -> Path:
    """Return ``path`` inside a cache entry, first making it with ``make(unique_temporary_path)``."""
    if path.exists():
        return path
    with entry_lock(path.parent):
        if path.exists():
            return path
        for stale in path.parent.glob(f".{path.name}.*"):  # from makers that died: we hold the lock
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        try:
            make(Path(tmp))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


def _remove_leftovers(folder: Path) -> None:
    """Staging folders of builders that died (we hold the lock, so nobody else is building), and an incomplete entry."""
    for stale in folder.parent.glob(f".{folder.name}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


def folder_fingerprint(*roots: Path) -> bytes:
    """SHA-256 over the names and bytes of the files directly in ``roots``: a changed source changes the key."""
    import hashlib

    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.glob("*")):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    return digest.digest()
