"""``host``: LiteRT on this machine (the optimized TFLite kernels)."""

from __future__ import annotations

import numpy as np

from edgeq.log import quiet
from edgeq.runtime import Runner


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


TARGET = HostTarget()
