"""What every target is: the :class:`Target` protocol and the :class:`Capabilities` it declares.

A target module (one per place a model runs) defines ``CAPABILITIES`` and
``make_target(name, **options)``, and its class carries the same capabilities;
:func:`edgeq.targets.get_target` checks the options against them before
building it. A target measures for itself: :meth:`Target.profile` returns a
:class:`~edgeq.measurements.Timing` (latency, instructions, memory, energy, each
with its source) and, where it can, :meth:`Target.op_times` the time of each
operator; :mod:`edgeq.profiling` only asks and summarises.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from edgeq.errors import UsageError
from edgeq.measurements import OpTime, Timing


@dataclass(frozen=True)
class Capabilities:
    """What a target can do, declared by the target itself.

    Attributes:
        summary: Where it runs, for ``--help`` and the docs.
        profile: True when it can time invokes (``edgeq profile``).
        op_times: True when it can time every operator of an invoke (:meth:`Target.op_times`).
        no_op_times: Why it cannot time operators (shown in reports), when ``op_times`` is False.
        options: The keyword options ``make_target`` takes (``--port`` is ``port``).
        board_energy: True when it runs on a board edgeq does not know, whose ``--board`` power figure
            turns the measured latency into an estimated energy.
    """

    summary: str
    profile: bool = True
    op_times: bool = False
    no_op_times: str = "this target times whole invokes only"
    options: tuple[str, ...] = ()
    board_energy: bool = False

    def check_options(self, name: str, options: Iterable[str]) -> None:
        """UsageError naming the options of ``options`` this target does not take, and the ones it does."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            takes = ", ".join(_flag(o) for o in self.options) or "no options"
            raise UsageError(f"target {name} takes no {'/'.join(_flag(o) for o in unknown)} option; it takes: {takes}")


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


class Target(Protocol):
    """A place to run a model."""

    name: str
    capabilities: ClassVar[Capabilities]

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run every sample of ``inputs`` (one (N, ...) array per model input, in the model's dtypes).

        Returns one (N, ...) array per output, raw (not dequantized).
        """
        ...

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Time ``runs`` invokes of the batch-1 ``sample`` after ``warmup`` untimed ones."""
        ...


class OpTimingTarget(Target, Protocol):
    """A target whose capabilities say ``op_times``."""

    def op_times(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int) -> list[OpTime]:
        """Mean and median time of every step of an invoke of ``sample``, in execution order."""
        ...


@dataclass(frozen=True)
class Inference:
    """One inference of a :class:`Session`.

    Attributes:
        outputs: The raw outputs, one per model output, each one sample (no sample axis).
        ms: The inference's time: measured on this machine or the board's timer, or estimated for a real board.
        estimated: True when ``ms`` is an estimate (an emulated board).
    """

    outputs: list[np.ndarray]
    ms: float
    estimated: bool = False


class Session(Protocol):
    """A model loaded on a target, run one sample at a time (a node, a companion computer)."""

    source: str  # how Inference.ms is obtained, for diagnostics and reports

    def infer(self, sample: list[np.ndarray]) -> Inference:
        """Run one sample (one array per input, sample shape, the input's dtype); raw outputs back."""
        ...


class SessionTarget(Target, Protocol):
    """A target that keeps a model loaded between samples (the runner, the board or QEMU stays up)."""

    def session(self, model: bytes) -> AbstractContextManager[Session]:
        """The model loaded and ready; leaving the context stops whatever the target started."""
        ...


class TimedSession:
    """A session around an in-process ``invoke(sample) -> outputs``, timed with the wall clock around each call."""

    def __init__(self, invoke: Callable[[list[np.ndarray]], list[np.ndarray]], source: str) -> None:
        self._invoke = invoke
        self.source = source

    def infer(self, sample: list[np.ndarray]) -> Inference:
        start = time.perf_counter()
        outputs = self._invoke(sample)
        return Inference(outputs, (time.perf_counter() - start) * 1e3)
