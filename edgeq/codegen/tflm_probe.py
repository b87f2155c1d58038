"""Run one model in the tflite-micro interpreter with a given arena, in its own process.

``python -m edgeq.codegen.tflm_probe MODEL.tflite ARENA_BYTES [--record]``
allocates, invokes once on zero inputs and prints one JSON line
``{"ok": true, "total": ..., "head": ..., "tail": ...}``; exit status 0 when the
model ran, 3 when TFLM refused the arena. Near the smallest workable arena the
tflite-micro interpreter has been seen to abort the whole process, so edgeq
only ever calls it from a separate process, where a crash is just a failure.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile

FAILED = 3


def _probe(model: bytes, arena: int, record: bool) -> dict:
    from tflite_micro.python.tflite_micro import runtime

    try:
        interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena)
    except RuntimeError as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - the wrapper's own parser fails on some corrupt models
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    result: dict = {"ok": True}
    if record:
        result.update(_allocations(interpreter))
    try:
        _invoke(interpreter)
    except Exception as exc:  # noqa: BLE001 - the parent reads the JSON line, whatever went wrong
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    return result


def _invoke(interpreter) -> None:
    """Zero inputs through the interpreter once."""
    import numpy as np

    index = 0
    while True:
        try:
            detail = interpreter.get_input_details(index)
        except (IndexError, RuntimeError, ValueError):
            break
        interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), index)
        index += 1
    interpreter.invoke()


def _allocations(interpreter) -> dict:
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [(fd, os.dup(fd)) for fd in (1, 2)]
        for fd, _ in saved:
            os.dup2(sink.fileno(), fd)
        try:
            interpreter.print_allocations()
        finally:
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
        sink.seek(0)
        text = sink.read().decode("utf-8", "replace")
    found = {k: re.search(rf"Arena allocation {k} (\d+) bytes", text) for k in ("total", "head", "tail")}
    return {k: int(m.group(1)) for k, m in found.items() if m}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], "rb") as fh:
        model = fh.read()
    # TFLM logs its refusals on stderr; the parent only reads the JSON line on stdout.
    result = _probe(model, int(args[1]), "--record" in args)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else FAILED


if __name__ == "__main__":
    sys.exit(main())
