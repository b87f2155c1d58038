"""Child process of the host-tflm target: ``python -m edgeq.targets.tflm_worker FOLDER ARENA``.

Reads FOLDER/model.tflite and FOLDER/in.npz (arr_0.. per input, a leading
sample axis), writes FOLDER/out.npz (arr_0.. per output).

On failure the worker exits with :data:`FAILED` and its last stderr line is
one sentence saying why, never a traceback. TFLM logs its refusals on stderr
from C++ (``Didn't find op for builtin opcode 'TILE'``) before Python sees a
bare "failed to allocate tensors", so the worker captures that log while the
interpreter works and builds the sentence from it (:func:`edgeq.tflm_errors.reason`), the only
line it writes. The parent turns the exit status and that line into its error
(:func:`failure_message`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgeq.procs import signal_name
from edgeq.tflm_errors import reason

FAILED = 1


class Log:
    """What TFLM wrote on fd 2 inside :func:`captured_log` (filled when the block ends)."""

    text = ""


@contextlib.contextmanager
def captured_log() -> Iterator[Log]:
    """Send fd 2 (TFLM's C++ log) to a temporary file for the block; its text ends up in the Log."""
    log = Log()
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield log
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            log.text = sink.read().decode("utf-8", "replace")


def report_failure(log: Log, exc: BaseException) -> int:
    """Write the one-line reason on stderr; the exit status of a failed worker."""
    sys.stderr.write(reason(log.text, exc) + "\n")
    sys.stderr.flush()
    return FAILED


def failure_message(what: str, returncode: int, stderr: str) -> str:
    """The parent's one-line error for a worker that ended with ``returncode``: its reason, or the signal."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1][:300] if lines else ""
    name = signal_name(returncode)
    if name is not None:
        return f"{what} crashed ({name}){': ' + last if last else ''}; the model may be corrupt"
    return f"{what} failed: {last or f'exit status {returncode}'}"


def _run(folder: Path, arena: int) -> None:
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes((folder / "model.tflite").read_bytes(), arena_size=arena)
    with np.load(folder / "in.npz") as data:
        inputs = [data[f"arr_{i}"] for i in range(len(data.files))]
    outputs: dict[int, list[np.ndarray]] = {}
    for n in range(len(inputs[0])):
        for i, x in enumerate(inputs):
            interpreter.set_input(x[n].reshape(interpreter.get_input_details(i)["shape"]), i)
        interpreter.invoke()
        k = 0
        while True:
            try:
                out = np.array(interpreter.get_output(k))
                outputs.setdefault(k, []).append(out[0] if out.ndim and out.shape[0] == 1 else out)
            except (IndexError, RuntimeError, ValueError):
                outputs.pop(k, None)
                break
            k += 1
    np.savez(folder / "out.npz", *[np.stack(outputs[k]) for k in sorted(outputs)])


def main(argv: list[str]) -> int:
    folder, arena = Path(argv[0]), int(argv[1])
    with captured_log() as log:
        try:
            _run(folder, arena)
            return 0
        except Exception as exc:  # noqa: BLE001 - the parent reads one line, whatever went wrong
            failure = exc
    return report_failure(log, failure)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
