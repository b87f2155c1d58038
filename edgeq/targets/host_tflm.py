"""``host-tflm``: TensorFlow Lite Micro's reference kernels, through the tflite-micro package.

The interpreter runs in a child process (it can abort the process on some
inputs), with the arena edgeq measures for the model plus room to spare.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from edgeq import procs
from edgeq.errors import EdgeqError
from edgeq.measurements import Memory, Timing

ARENA_FACTOR = 2


class HostTflmTarget:
    name = "host-tflm"

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        from edgeq.codegen.tflm_ops import check_model_ops
        from edgeq.targets.tflm_worker import failure_message

        check_model_ops(model)  # an op TFLM has no kernel for is named before the interpreter starts
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "model.tflite").write_bytes(model)
            np.savez(folder / "in.npz", *inputs)
            arena = _arena(model)
            done = procs.run(
                [sys.executable, "-m", "edgeq.targets.tflm_worker", str(folder), str(arena)],
                capture_output=True,
                text=True,
                timeout=3600,
            )
            if done.returncode != 0:
                raise EdgeqError(failure_message("the tflite-micro interpreter", done.returncode, done.stderr))
            with np.load(folder / "out.npz") as out:
                return [out[f"arr_{i}"] for i in range(len(out.files))]

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` tflite-micro invokes in a child process (reference kernels, one thread)."""
        from edgeq.targets.child import time_in_child

        ms, rss = time_in_child("tflm", model, sample, runs, warmup, _arena(model), "the tflite-micro runner")
        return Timing(
            tuple(ms.tolist()),
            latency_source="wall clock around each invoke (tflite-micro interpreter, reference kernels)",
            memory=Memory(peak_rss_bytes=rss),
        )


def _arena(model: bytes) -> int:
    return max(len(model) * 10, 1 << 21)


TARGET = HostTflmTarget()
