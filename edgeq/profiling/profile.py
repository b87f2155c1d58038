"""Profile one model on one target: warm up, time N runs, summarise, estimate energy where possible."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import cast

import numpy as np

from edgeq.batch_run import prepare_inputs
from edgeq.energy import PowerMonitor, create_monitor, measure_energy, parse_monitor_spec
from edgeq.errors import UsageError
from edgeq.measurements import Energy, Timing
from edgeq.model import Graph, read_model
from edgeq.model.io import model_inputs
from edgeq.model.reader import read_bytes
from edgeq.profiling.types import ProfileResult
from edgeq.targets import OpTimingTarget, Target, get_target
from edgeq.timing import LatencyStats

log = logging.getLogger(__name__)
SEED = 20261126


def profile(
    model: str | Path,
    target: str,
    runs: int = 100,
    warmup: int = 10,
    inputs: list[np.ndarray] | None = None,
    threads: int = 1,
    deadline_ms: float | None = None,
    board: str | None = None,
    energy_monitor: str | PowerMonitor | None = None,
    op_times: bool = False,
    **options: object,
) -> ProfileResult:
    """Profile ``model`` on ``target``; ``inputs`` (one (N, ...) array per input) gives the sample to time.

    Without ``inputs`` a seeded random sample is used: latency of these models
    does not depend on the values. ``board`` names the board a target with
    ``board_energy`` (serial) is attached to: its power figure turns the
    measured latency into an estimated energy. Emulated boards estimate energy
    with their own files. ``energy_monitor`` (a spec such as
    ``lpm01a:/dev/ttyACM1`` or ``pi5-pmic``, or a :class:`edgeq.energy.PowerMonitor`)
    measures energy during a second, warmed-up pass of ``runs`` inferences.
    ``op_times`` also times every operator where the target can (same sample,
    runs and warm-up), in a separate build and run. ``options`` reach the
    target (``port`` and ``baud`` for ``serial``).
    """
    if runs < 1 or warmup < 0:
        raise UsageError(f"--runs must be >= 1 and --warmup >= 0 (got {runs} and {warmup})")
    data = read_bytes(model)
    graph = read_model(data, name=str(model))
    batch = prepare_inputs(graph, inputs) if inputs is not None else random_sample(graph)
    sample = [np.ascontiguousarray(x[:1]) for x in batch]
    runner = get_target(target, **options)
    caps = runner.capabilities
    if not caps.profile:
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
    if timing.energy is None and board is not None and caps.board_energy:
        timing = replace(timing, energy=estimate_energy(board, stats.mean))
    ops = None
    if op_times and caps.op_times:
        ops = timing.ops  # a target that counts ops in the same runs gave them already
        if ops is None:
            ops = tuple(cast(OpTimingTarget, runner).op_times(data, sample, runs, warmup))
    why_not = "" if caps.op_times else caps.no_op_times
    return ProfileResult(target, str(model), runs, warmup, stats, timing, deadline_ms, ops, why_not)


def _open_monitor(spec: str | PowerMonitor | None) -> PowerMonitor | None:
    """The power monitor named by ``spec`` (or ``spec`` itself), opened; a bad spec fails before any run."""
    if spec is None:
        return None
    monitor = create_monitor(parse_monitor_spec(spec)) if isinstance(spec, str) else spec
    monitor.open()
    return monitor


def _measured(
    monitor: PowerMonitor, runner: Target, data: bytes, sample: list[np.ndarray], runs: int, threads: int
) -> Energy:
    """Energy per inference over a second pass of ``runs`` inferences (already warmed up)."""
    return measure_energy(monitor, lambda: runner.profile(data, sample, runs, 0, threads=threads), runs)


def random_sample(graph: Graph) -> list[np.ndarray]:
    """One seeded random sample per model input, in the input's dtype, with a leading axis of 1."""
    rng = np.random.default_rng(SEED)
    out = []
    for spec in model_inputs(graph):
        shape, dtype = spec.sample_shape, spec.numpy_dtype
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
