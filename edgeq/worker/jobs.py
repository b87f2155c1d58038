"""The worker's side: the jobs of :mod:`edgeq.worker`, each reading its inputs from files and writing files back.

TFLM logs its refusals on stderr from C++ (``Didn't find op for builtin opcode
'TILE'``) before Python sees a bare "failed to allocate tensors"; the jobs
capture that log while the interpreter works and build their one-line reason
from it (:func:`edgeq.tflm_errors.reason`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.litert import Interpreter, Runner
from edgeq.model.io import sample_shape
from edgeq.tflm_errors import reason
from edgeq.timing import time_calls
from edgeq.worker import FAILED, REFUSED, peak_rss_bytes


class Log:
    """What C++ code wrote on fd 2 inside :func:`captured_log` (filled when the block ends)."""

    text = ""


@contextlib.contextmanager
def captured_log(fds: tuple[int, ...] = (2,)) -> Iterator[Log]:
    """Send ``fds`` (TFLM's C++ log) to a temporary file for the block; its text ends up in the Log."""
    log = Log()
    with tempfile.TemporaryFile() as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [(fd, os.dup(fd)) for fd in fds]
        for fd, _ in saved:
            os.dup2(sink.fileno(), fd)
        try:
            yield log
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            log.text = sink.read().decode("utf-8", "replace")


def _load_inputs(folder: Path) -> list[np.ndarray]:
    with np.load(folder / "in.npz") as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


def _tflm(model: bytes, arena: int) -> Interpreter:
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(model, arena_size=arena)


def _tflm_outputs(interpreter: Interpreter) -> list[np.ndarray]:
    """Every output of the last invoke, a leading batch-1 axis dropped (the wrapper has no output count)."""
    outputs: list[np.ndarray] = []
    k = 0
    while True:
        try:
            out = np.array(interpreter.get_output(k))
        except (IndexError, RuntimeError, ValueError):
            return outputs
        outputs.append(out.reshape(sample_shape(out.shape)))
        k += 1


def outputs_job(folder: Path, arena: int) -> None:
    """FOLDER/in.npz through tflite-micro, sample by sample, into FOLDER/out.npz."""
    interpreter = _tflm((folder / "model.tflite").read_bytes(), arena)
    inputs = _load_inputs(folder)
    per_output: list[list[np.ndarray]] = []
    for n in range(len(inputs[0])):
        for i, x in enumerate(inputs):
            interpreter.set_input(x[n].reshape(interpreter.get_input_details(i)["shape"]), i)
        interpreter.invoke()
        for k, out in enumerate(_tflm_outputs(interpreter)):
            if k == len(per_output):
                per_output.append([])
            per_output[k].append(out)
    np.savez(folder / "out.npz", *[np.stack(o) for o in per_output])


def _litert_invoke(model: bytes, inputs: list[np.ndarray], threads: int, xnnpack: bool) -> Callable[[], None]:
    runner = Runner(model, threads=threads, xnnpack=xnnpack)
    for info, value in zip(runner.inputs, inputs):
        runner.interpreter.set_tensor(info.index, value.reshape(info.shape))
    return runner.interpreter.invoke


def _tflm_invoke(model: bytes, inputs: list[np.ndarray], arena: int) -> Callable[[], None]:
    interpreter = _tflm(model, arena)
    for i, value in enumerate(inputs):
        interpreter.set_input(value.reshape(interpreter.get_input_details(i)["shape"]), i)
    return interpreter.invoke


def time_job(runtime: str, folder: Path, runs: int, warmup: int, arg: int) -> None:
    """Milliseconds of ``runs`` invokes of FOLDER/in.npz's sample and this process's peak RSS, into FOLDER/ms.npz."""
    model, inputs = (folder / "model.tflite").read_bytes(), _load_inputs(folder)
    if runtime == "tflm":
        invoke = _tflm_invoke(model, inputs, arg)
    else:
        invoke = _litert_invoke(model, inputs, arg, xnnpack=runtime != "litert-no-xnnpack")
    np.savez(folder / "ms.npz", ms=time_calls(invoke, runs, warmup), rss=peak_rss_bytes() or 0)


def probe_job(model: bytes, arena: int, record: bool) -> dict[str, Any]:
    """Whether tflite-micro allocates and invokes ``model`` on zero inputs with ``arena`` bytes, as a JSON object."""
    from tflite_micro.python.tflite_micro import runtime  # a missing package fails loudly, not as a refusal

    try:
        interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena)
    except Exception as exc:  # noqa: BLE001 - the wrapper's own parser fails on some corrupt models
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    result: dict[str, Any] = {"ok": True}
    if record:
        with captured_log((1, 2)) as log:
            interpreter.print_allocations()
        found = {k: re.search(rf"Arena allocation {k} (\d+) bytes", log.text) for k in ("total", "head", "tail")}
        result.update({k: int(m.group(1)) for k, m in found.items() if m})
    try:
        index = 0
        while True:
            try:
                detail = interpreter.get_input_details(index)
            except (IndexError, RuntimeError, ValueError):
                break
            interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), index)
            index += 1
        interpreter.invoke()
    except Exception as exc:  # noqa: BLE001 - the parent reads the JSON line, whatever went wrong
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    return result


def _file_job(job: str, args: list[str]) -> None:
    if job == "outputs":
        outputs_job(Path(args[0]), int(args[1]))
    else:
        time_job(args[0], Path(args[1]), int(args[2]), int(args[3]), int(args[4]))


def main(argv: list[str]) -> int:
    """Run the job ``argv[0]``; exit 0, or :data:`FAILED` (:data:`REFUSED` for a probe) with one line saying why."""
    job, args = argv[0], argv[1:]
    if job == "probe":
        # TFLM logs its refusals on stderr; the parent reads only the JSON line on stdout.
        result = probe_job(Path(args[0]).read_bytes(), int(args[1]), "--record" in args)
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        return 0 if result["ok"] else REFUSED
    if job not in ("outputs", "time"):
        sys.stderr.write(f"unknown worker job {job!r}\n")
        return FAILED
    with captured_log() as log:
        try:
            _file_job(job, args)
            return 0
        except Exception as exc:  # noqa: BLE001 - the parent reads one line, whatever went wrong
            failure = exc
    sys.stderr.write(reason(log.text, failure) + "\n")
    sys.stderr.flush()
    return FAILED
