"""The compiled .tflite and its JSON report, written together: both appear whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

from edgeq.errors import UsageError
from edgeq.npu.types import NpuCompilation
from edgeq.outputs import atomic_write_many, check_output


def report_path(output: Path) -> Path:
    """OUT.tflite -> OUT.json."""
    return output.with_suffix(".json")


def check_outputs(output: Path) -> None:
    """Refuse an output whose report would overwrite it, or a report location that cannot be written."""
    if report_path(output) == output:
        raise UsageError(f"{output} would be overwritten by its own report; name the output OUT.tflite")
    check_output(report_path(output), "file")


def write_outputs(output: Path, compilation: NpuCompilation, model: str) -> None:
    """Write Vela's compiled model and the report (``model`` names the input): staged first, then renamed."""
    report = {"model": model, "output": str(output), **compilation.to_dict()}
    text = json.dumps(report, indent=2) + "\n"
    atomic_write_many([(output, compilation.compiled), (report_path(output), text.encode())])
