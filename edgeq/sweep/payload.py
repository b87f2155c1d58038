"""Models and data as bytes, so a job runs on any host: files as they are, folders as a deterministic tar.

A :class:`Payload` is what a job receives instead of a path (the path may not
exist on the worker); :func:`materialize` puts it back on disk in a temporary
folder. Its :attr:`~Payload.digest` is a hash of the content, the same on every
machine (the tar has no times, owners or modes that vary).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from edgeq.errors import UsageError


@dataclass(frozen=True)
class Payload:
    """A file (``kind`` file), a folder (``kind`` folder, a tar) or a ``module:function`` reference (``kind`` ref)."""

    name: str
    kind: str
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.kind.encode() + b"\0" + self.data).hexdigest()


def pack(source: str | Path) -> Payload:
    """The payload of a file, a folder, or a ``module:function`` string that is not a path."""
    path = Path(source)
    if path.is_file():
        return Payload(path.name, "file", path.read_bytes())
    if path.is_dir():
        return Payload(path.name, "folder", _tar(path))
    if isinstance(source, str) and ":" in source:
        return Payload(source, "ref", source.encode())
    raise UsageError(f"{source}: no such file or folder")


def _tar(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(folder.rglob("*")):
            if not (path.is_file() or path.is_dir()):
                continue
            info = tarfile.TarInfo(str(path.relative_to(folder)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def materialize(payload: Payload, folder: str | Path) -> str:
    """Write ``payload`` under ``folder`` and return the path to give edgeq (the reference string for ``ref``)."""
    if payload.kind == "ref":
        return payload.data.decode()
    target = Path(folder) / payload.name
    if payload.kind == "file":
        target.write_bytes(payload.data)
        return str(target)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(payload.data), mode="r") as tar:
        tar.extractall(target, filter="data")
    return str(target)
