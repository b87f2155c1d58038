"""Atomic writes: the .tflite and its JSON report appear whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from edgeq.convert.report import ConversionReport
from edgeq.errors import UsageError
from edgeq.outputs import writing


def report_path(output: Path) -> Path:
    """OUT.tflite -> OUT.json."""
    return output.with_suffix(".json")


def write_outputs(output: Path, model: bytes, report: ConversionReport) -> None:
    """Write the model and its report: both are staged first, then renamed into place."""
    text = json.dumps(report.to_dict(), indent=2) + "\n"
    atomic_write_many([(output, model), (report_path(output), text.encode())])


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
