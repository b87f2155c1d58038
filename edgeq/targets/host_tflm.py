"""``host-tflm``: TensorFlow Lite Micro's reference kernels, through the tflite-micro package.

The interpreter runs in a worker process (:mod:`edgeq.worker`; it can abort the
process on some inputs), with an arena well above what the model needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from edgeq.codegen.tflm_ops import check_model_ops
from edgeq.measurements import Memory, Timing
from edgeq.model import read_model
from edgeq.model.io import model_inputs, model_outputs
from edgeq.targets.base import Capabilities, TimedSession
from edgeq.worker import tflm_outputs, time_invokes

CAPABILITIES = Capabilities(
    summary="TensorFlow Lite Micro's reference kernels on this machine (tflite-micro package)",
    no_op_times="the tflite-micro Python interpreter times whole invokes only",
)


class HostTflmTarget:
    name = "host-tflm"
    capabilities = CAPABILITIES

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        check_model_ops(model)  # an op TFLM has no kernel for is named before the interpreter starts
        return tflm_outputs(model, inputs, _arena(model))

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` tflite-micro invokes in a worker process (reference kernels, one thread)."""
        ms, rss = time_invokes("tflm", model, sample, runs, warmup, _arena(model), "the tflite-micro runner")
        return Timing(
            tuple(ms.tolist()),
            latency_source="wall clock around each invoke (tflite-micro interpreter, reference kernels)",
            memory=Memory(peak_rss_bytes=rss),
        )

    @contextlib.contextmanager
    def session(self, model: bytes) -> Iterator[TimedSession]:
        """The tflite-micro interpreter loaded once in this process; each sample timed with the wall clock.

        Unlike ``run``, the interpreter is not in a worker process: the op check below names the ops
        TFLM has no kernel for before it starts.
        """
        from tflite_micro.python.tflite_micro import runtime

        check_model_ops(model)
        graph = read_model(model)
        ins, outs = model_inputs(graph), model_outputs(graph)
        interpreter = runtime.Interpreter.from_bytes(model, arena_size=_arena(model))

        def invoke(sample: list[np.ndarray]) -> list[np.ndarray]:
            for i, (spec, x) in enumerate(zip(ins, sample)):
                interpreter.set_input(np.asarray(x, spec.numpy_dtype).reshape(spec.shape), i)
            interpreter.invoke()
            return [np.array(interpreter.get_output(k)).reshape(o.sample_shape) for k, o in enumerate(outs)]

        yield TimedSession(invoke, "wall clock around each invoke (tflite-micro interpreter in this process)")


def _arena(model: bytes) -> int:
    """Ten times the model or 2 MiB: generous, since this target measures time, not the arena."""
    return max(len(model) * 10, 1 << 21)


def make_target(name: str) -> HostTflmTarget:
    """The ``host-tflm`` target (no options)."""
    return HostTflmTarget()
