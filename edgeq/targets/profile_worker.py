"""Child process that times invokes: ``python -m edgeq.targets.profile_worker RUNTIME FOLDER RUNS WARMUP ARG``.

RUNTIME is ``litert`` or ``litert-no-xnnpack`` (ARG = threads) or ``tflm`` (ARG = arena bytes). Reads
FOLDER/model.tflite and FOLDER/in.npz (one batch-1 sample per input), writes
FOLDER/ms.npz: ``ms``, the milliseconds of each timed invoke, and ``rss``, peak RSS. Running in a child keeps
the parent's memory out of the peak-RSS figure. A failure is one line on stderr, as in
:mod:`edgeq.targets.tflm_worker`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def _litert(model: bytes, inputs: list[np.ndarray], threads: int, xnnpack: bool = True):
    from edgeq.runtime import Runner

    runner = Runner(model, threads=threads, xnnpack=xnnpack)
    for info, value in zip(runner.inputs, inputs):
        runner.interpreter.set_tensor(info.index, value.reshape(info.shape))
    return runner.interpreter.invoke


def _tflm(model: bytes, inputs: list[np.ndarray], arena: int):
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model, arena_size=arena)
    for i, value in enumerate(inputs):
        interpreter.set_input(value.reshape(interpreter.get_input_details(i)["shape"]), i)
    return interpreter.invoke


def main(argv: list[str]) -> int:
    from edgeq.targets.tflm_worker import captured_log, report_failure

    with captured_log() as log:
        try:
            return _profile(argv)
        except Exception as exc:  # noqa: BLE001 - the parent reads one line, whatever went wrong
            failure = exc
    return report_failure(log, failure)


def _profile(argv: list[str]) -> int:
    runtime, folder, runs, warmup, arg = argv[0], Path(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    model = (folder / "model.tflite").read_bytes()
    with np.load(folder / "in.npz") as data:
        inputs = [data[f"arr_{i}"] for i in range(len(data.files))]
    if runtime == "tflm":
        invoke = _tflm(model, inputs, arg)
    else:
        invoke = _litert(model, inputs, arg, xnnpack=runtime != "litert-no-xnnpack")
    from edgeq.timing import time_calls

    ms = time_calls(invoke, runs, warmup)
    from edgeq.targets.child import peak_rss_bytes

    np.savez(folder / "ms.npz", ms=ms, rss=peak_rss_bytes() or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
