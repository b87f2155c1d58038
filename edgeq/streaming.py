"""A model kept loaded on any target and run one sample at a time: what a ROS 2 node or a companion computer needs.

``open_session(model, "qemu-m4")`` gives a :class:`~edgeq.targets.base.Session`.
Targets that can keep a model loaded (host, host-tflm, host-c, qemu-*, serial)
do so; the others (ssh://, coral) run each sample as a one-sample batch, and
their figure then includes starting the runner each time, which the session's
``source`` says.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import numpy as np

from edgeq.model import read_model
from edgeq.model.io import model_outputs
from edgeq.targets import get_target
from edgeq.targets.base import Inference, Session, Target


class BatchSession:
    """A target without a session of its own: every sample is a one-sample ``run``, timed by the wall clock."""

    def __init__(self, target: Target, model: bytes) -> None:
        self.target, self.model = target, model
        self.outputs = model_outputs(read_model(model))
        self.source = f"wall clock around a one-sample run on {target.name} (includes starting its runner each time)"

    def infer(self, sample: list[np.ndarray]) -> Inference:
        start = time.perf_counter()
        raw = self.target.run(self.model, [np.asarray(x)[None] for x in sample])
        ms = (time.perf_counter() - start) * 1e3
        return Inference([o[0].reshape(spec.sample_shape) for o, spec in zip(raw, self.outputs)], ms)


@contextlib.contextmanager
def open_session(model: bytes, target: str, **options: object) -> Iterator[Session]:
    """``model`` loaded on ``target`` (options as for ``get_target``); what the target started stops on exit."""
    found = get_target(target, **options)
    opener = getattr(found, "session", None)
    if opener is None:
        yield BatchSession(found, model)
        return
    with opener(model) as session:
        yield session
