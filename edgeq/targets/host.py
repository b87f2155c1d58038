"""``host``: LiteRT on this machine (the optimized TFLite kernels)."""

from __future__ import annotations

import numpy as np

from edgeq.log import quiet
from edgeq.profiling.types import Memory, Timing
from edgeq.runtime import Runner
from edgeq.targets.child import time_in_child


class HostTarget:
    name = "host"

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        with quiet():
            runner = Runner(model, threads=1)
        outputs: list[list[np.ndarray]] = [[] for _ in runner.outputs]
        for i in range(len(inputs[0])):
            for k, value in enumerate(runner.run([x[i : i + 1] for x in inputs])):
                outputs[k].append(value[0])
        return [np.stack(o) for o in outputs]

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` LiteRT invokes in a child process (its peak RSS is the memory figure)."""
        from edgeq.runtime import interpreter_class

        ms, rss = time_in_child("litert", model, sample, runs, warmup, threads, "the LiteRT runner")
        package = interpreter_class()[1]
        return Timing(
            tuple(ms.tolist()),
            latency_source=f"wall clock around each invoke ({package}, {threads} thread(s))",
            memory=Memory(peak_rss_bytes=rss),
        )


TARGET = HostTarget()
