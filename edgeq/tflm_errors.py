"""TensorFlow Lite Micro's refusals as one sentence.

TFLM logs why it refuses a model on stderr from C++ (``Didn't find op for
builtin opcode 'TILE'``) before Python sees a bare "failed to allocate
tensors". :func:`reason` turns that log and the exception into the line edgeq
reports, for the host-tflm target's worker and for the arena measurement of
``edgeq generate`` alike.
"""

from __future__ import annotations

import re

from edgeq.errors import EdgeqError

MISSING_OP = (
    re.compile(r"Didn't find op for builtin opcode '([^']+)'"),
    re.compile(r"Failed to get registration from op code (\S+)"),
)


def reason(log: str, exc: BaseException | str) -> str:
    """One line: the op TFLM has no kernel for, else TFLM's first log line, else the exception's message."""
    if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name.startswith("tflite_micro"):
        return "the tflite-micro package is missing; pip install tflite-micro"
    if isinstance(exc, EdgeqError):  # already one sentence (LiteRT's refusals, through edgeq.litert)
        return str(exc)
    for pattern in MISSING_OP:
        found = pattern.search(log)
        if found:
            return (
                f"TensorFlow Lite Micro has no kernel for op {found.group(1)}; "
                "run the model on host (LiteRT) or replace the layer"
            )
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    message = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = "; ".join(dict.fromkeys([*lines[:1], *message[-1:]])) or type(exc).__name__
    if text == "TFLM failed to allocate tensors":  # its log said nothing more
        text += " (the model may be corrupt, or its arena too small)"
    return text[:300]
