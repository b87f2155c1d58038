"""``host``: LiteRT on this machine (the optimized TFLite kernels)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from edgeq.litert import Runner, interpreter_class
from edgeq.log import quiet
from edgeq.measurements import Memory, Timing
from edgeq.targets.base import Capabilities, TimedSession
from edgeq.worker import time_invokes

CAPABILITIES = Capabilities(
    summary="LiteRT on this machine (XNNPACK unless --no-xnnpack)",
    no_op_times="LiteRT's Python interpreter exposes no per-op profiler",
    options=("xnnpack",),
)


class HostTarget:
    """LiteRT on this machine; ``xnnpack=False`` times the builtin kernels without the XNNPACK delegate."""

    name = "host"
    capabilities = CAPABILITIES

    def __init__(self, xnnpack: bool = True) -> None:
        self.xnnpack = xnnpack

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        with quiet():
            runner = Runner(model, threads=1, xnnpack=self.xnnpack)
        outputs: list[list[np.ndarray]] = [[] for _ in runner.outputs]
        for i in range(len(inputs[0])):
            for k, value in enumerate(runner.run([x[i : i + 1] for x in inputs])):
                outputs[k].append(value[0])
        return [np.stack(o) for o in outputs]

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` LiteRT invokes in a worker process (its peak RSS is the memory figure)."""
        runtime = "litert" if self.xnnpack else "litert-no-xnnpack"
        ms, rss = time_invokes(runtime, model, sample, runs, warmup, threads, "the LiteRT runner")
        package = interpreter_class()[1]
        kernels = "XNNPACK" if self.xnnpack else "builtin kernels, XNNPACK off"
        return Timing(
            tuple(ms.tolist()),
            latency_source=f"wall clock around each invoke ({package}, {kernels}, {threads} thread(s))",
            memory=Memory(peak_rss_bytes=rss),
        )

    @contextlib.contextmanager
    def session(self, model: bytes) -> Iterator[TimedSession]:
        """LiteRT loaded once in this process (one thread); each sample timed with the wall clock."""
        with quiet():
            runner = Runner(model, threads=1, xnnpack=self.xnnpack)

        def invoke(sample: list[np.ndarray]) -> list[np.ndarray]:
            raw = runner.run([x[None] for x in sample])
            return [value.reshape(spec.sample_shape) for value, spec in zip(raw, runner.outputs)]

        kernels = "XNNPACK" if self.xnnpack else "builtin kernels"
        yield TimedSession(invoke, f"wall clock around each invoke (LiteRT in this process, {kernels}, 1 thread)")


def make_target(name: str, xnnpack: bool = True) -> HostTarget:
    """``host`` with or without the XNNPACK delegate."""
    return HostTarget(xnnpack)
