"""Will a model run on the Coral Edge TPU? A static check that mirrors the ``edgetpu_compiler`` summary.

Example::

    from edgeq.edgetpu import check_model
    report = check_model("model_int8.tflite")
    report.edgetpu_count, report.cpu_count  # the compiler's "Number of operations that will run on ..."
    report.to_dict()                        # the whole report as JSON

Needs no Coral software: it reads the model with :mod:`edgeq.model` and applies
the rules Coral documents (8-bit tensors, supported operations, static sizes,
3 mapped dimensions, constant parameters, one partition).
:mod:`edgeq.edgetpu.compiler` runs and parses the real compiler when it is installed.
"""

from __future__ import annotations

from edgeq.edgetpu.check import check_graph, check_model
from edgeq.edgetpu.types import EdgeTpuReport, OpCheck, Status, TableRow

__all__ = [
    "EdgeTpuReport",
    "OpCheck",
    "Status",
    "TableRow",
    "check_graph",
    "check_model",
]
