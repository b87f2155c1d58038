"""Atomic writes: the .tflite and its JSON report appear whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from edgeq.convert.report import ConversionReport
from edgeq.errors import UsageError


def report_path(output: Path) -> Path:
    """OUT.tflite -> OUT.json."""
    return output.with_suffix(".json")


def write_outputs(output: Path, model: bytes, report: ConversionReport) -> None:
    """Write the model and its report atomically (temporary file + rename)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report.to_dict(), indent=2) + "\n"
    atomic_write(report_path(output), text.encode())
    atomic_write(output, model)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file name such as {path / 'model.tflite'}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
