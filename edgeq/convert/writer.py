"""The .tflite and its JSON report, written together: both appear whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

from edgeq.convert.report import ConversionReport
from edgeq.outputs import atomic_write_many


def report_path(output: Path) -> Path:
    """OUT.tflite -> OUT.json."""
    return output.with_suffix(".json")


def write_outputs(output: Path, model: bytes, report: ConversionReport) -> None:
    """Write the model and its report: both are staged first, then renamed into place."""
    text = json.dumps(report.to_dict(), indent=2) + "\n"
    atomic_write_many([(output, model), (report_path(output), text.encode())])
