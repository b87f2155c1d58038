"""Profile one model on one target: warm up, time N runs, summarise, estimate energy where possible."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from edgeq.energy import create_monitor, measure_energy, parse_monitor_spec
from edgeq.errors import UsageError
from edgeq.measurements import Energy, Timing
from edgeq.model import Graph, read_model
from edgeq.model.graph import NUMPY_DTYPES
from edgeq.model.reader import read_bytes
from edgeq.profiling.types import ProfileResult
from edgeq.running import prepare_inputs
from edgeq.targets import get_target
from edgeq.timing import LatencyStats

log = logging.getLogger(__name__)
SEED = 20261126
# Targets that run on the board named by ``board`` (a host target runs on this machine, whose power is unknown).
BOARD_TARGETS = ("serial",)


def profile(
    model: str | Path,
    target: str,
    runs: int = 100,
    warmup: int = 10,
    inputs: list[np.ndarray] | None = None,
    threads: int = 1,
    deadline_ms: float | None = None,
    board: str | None = None,
    energy_monitor: object | None = None,
    **options: object,
) -> ProfileResult:
    """Profile ``model`` on ``target``; ``inputs`` (one (N, ...) array per input) gives the sample to time.

    Without ``inputs`` a seeded random sample is used: latency of these models
    does not depend on the values. ``board`` names the board a serial target
    is attached to: its power figure turns the measured latency into an
    estimated energy. Emulated boards estimate energy with their own files.
    ``energy_monitor`` (a spec such as ``lpm01a:/dev/ttyACM1`` or ``pi5-pmic``,
    or a :class:`edgeq.energy.PowerMonitor`) measures energy during a second, warmed-up pass of
    ``runs`` inferences. ``options`` reach the target (``port`` and ``baud``
    for ``serial``).
    """
    if runs < 1 or warmup < 0:
        raise UsageError(f"--runs must be >= 1 and --warmup >= 0 (got {runs} and {warmup})")
    data = read_bytes(model)
    graph = read_model(data, name=str(model))
    batch = prepare_inputs(graph, inputs) if inputs is not None else random_sample(graph)
    sample = [np.ascontiguousarray(x[:1]) for x in batch]
    runner = get_target(target, **options)
    if not hasattr(runner, "profile"):
        raise UsageError(f"target {target} cannot profile yet; it can only run models (edgeq run)")
    monitor = _open_monitor(energy_monitor)
    try:
        timing = runner.profile(data, sample, runs, warmup, threads=threads)
        if monitor is not None:
            timing = replace(timing, energy=_measured(monitor, runner, data, sample, runs, threads))
    finally:
        if monitor is not None:
            monitor.close()
    stats = LatencyStats.from_samples(np.asarray(timing.ms))
    if timing.energy is None and board is not None and target in BOARD_TARGETS:
        timing = replace(timing, energy=estimate_energy(board, stats.mean))
    return ProfileResult(target, str(model), runs, warmup, stats, timing, deadline_ms)


def _open_monitor(spec: object | None):
    """The power monitor named by ``spec`` (or ``spec`` itself), opened; a bad spec fails before any run."""
    if spec is None:
        return None
    monitor = create_monitor(parse_monitor_spec(spec)) if isinstance(spec, str) else spec
    monitor.open()
    return monitor


def _measured(monitor, runner, data: bytes, sample: list[np.ndarray], runs: int, threads: int) -> Energy:
    """Energy per inference over a second pass of ``runs`` inferences (already warmed up)."""
    return measure_energy(monitor, lambda: runner.profile(data, sample, runs, 0, threads=threads), runs)


def random_sample(graph: Graph) -> list[np.ndarray]:
    """One seeded random sample per model input, in the input's dtype, with a leading axis of 1."""
    rng = np.random.default_rng(SEED)
    out = []
    for t in graph.input_tensors:
        shape = tuple(t.shape[1:]) if t.shape and t.shape[0] == 1 else tuple(t.shape)
        dtype = np.dtype(NUMPY_DTYPES[t.dtype])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, info.max, (1, *shape), dtype=dtype, endpoint=True))
        else:
            out.append(rng.standard_normal((1, *shape)).astype(dtype))
    return out


def estimate_energy(board_id: str, latency_ms: float) -> Energy | None:
    """Board power figure x latency, labelled as an estimate naming its source; None without a figure."""
    from edgeq.boards import load_board

    board = load_board(board_id)
    figure = board.power_mw()
    if figure is None:
        log.warning("board %s has no power figure; no energy estimate", board.id)
        return None
    return Energy(
        value=figure.value_mw * latency_ms,  # mW x ms = uJ
        kind="estimated",
        source=f"{board.id} power {figure.value_mw:g} mW ({figure.kind}: {_short(figure.source)}) x mean latency",
    )


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = ["Timing", "estimate_energy", "profile", "random_sample"]
