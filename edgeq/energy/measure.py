"""Measured energy per inference: sample power while the target runs N inferences.

Which window is integrated, in order of preference:

1. between the first and last timestamp edge the monitor saw (the DUT toggles its
   timestamp pin around the timed inferences; LPM01A D7 events, PPK2 logic input,
   Joulescope GPI);
2. for monitors sampled on the host clock (Pi 5 PMIC, INA219/INA226), the host-timed
   call of ``run_window``;
3. otherwise the whole acquisition, which also counts the time spent starting and
   stopping and so overstates the energy; the source says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from edgeq.energy.integrate import energy_between, inference_window
from edgeq.energy.types import PowerMonitor, PowerTrace
from edgeq.errors import EdgeqError, MeasurementError, UsageError
from edgeq.measurements import Energy

logger = logging.getLogger("edgeq.energy")


def measure_window(monitor: PowerMonitor, window_s: float, sleep: Callable[[float], None] = time.sleep) -> PowerTrace:
    """Sample for ``window_s`` seconds and return the trace."""
    if window_s <= 0:
        raise UsageError(f"measurement window must be positive, got {window_s:g} s")
    monitor.start()
    try:
        sleep(window_s)
    finally:
        trace = monitor.stop()
    return trace


def choose_window(trace: PowerTrace, host_window: tuple[float, float]) -> tuple[tuple[float, float], str]:
    """The (start, end) to integrate and how it was chosen (see the module docstring)."""
    if len(trace.edges_s) >= 2:
        window = inference_window(trace.edges_s)
        return window, f"between timestamp edges ({window[1] - window[0]:.4g} s)"
    if len(trace.edges_s) == 1:
        logger.warning("the power monitor saw one timestamp edge, not two; using another window")
    if trace.host_clock:
        return host_window, f"over the host-timed run ({host_window[1] - host_window[0]:.4g} s)"
    if trace.samples == 0:
        raise MeasurementError("the power monitor delivered no samples")
    logger.warning("no timestamp edges: integrating the whole acquisition, which includes start/stop overhead")
    window = (float(trace.t_s[0]), float(trace.t_s[-1]))
    return window, f"over the whole acquisition, no timestamp edges ({window[1] - window[0]:.4g} s, overstated)"


def measure_energy(
    monitor: PowerMonitor,
    run_window: Callable[[], object],
    inferences: int,
    clock: Callable[[], float] = time.monotonic,
) -> Energy:
    """Energy per inference in microjoules, measured while ``run_window`` runs ``inferences`` inferences.

    Args:
        monitor: An open or openable power monitor (see :func:`edgeq.energy.open_monitor`).
        run_window: Runs the N inferences on the target (and toggles its timestamp pin if it has one).
        inferences: N, the number of inferences ``run_window`` runs.
        clock: Host clock for the run window; must be ``time.monotonic`` for host-clocked monitors.

    Returns:
        ``Energy(kind="measured", source="<monitor> <settings>, <window>, <samples>")``.

    Raises:
        UsageError: ``inferences`` < 1.
        MeasurementError: No samples in the window.
        DeviceError, DependencyError: From the monitor.
    """
    if inferences < 1:
        raise UsageError(f"inferences must be at least 1, got {inferences}")
    monitor.start()
    t0 = clock()
    try:
        run_window()
    except BaseException:
        _stop_quietly(monitor)
        raise
    t1 = clock()
    trace = monitor.stop()
    window, how = choose_window(trace, (t0, t1))
    joules = energy_between(trace, *window)
    inside = int(((trace.t_s >= window[0]) & (trace.t_s <= window[1])).sum())
    source = f"{monitor.describe()}, {how}, {inside} samples, {inferences} inferences"
    logger.info("measured %.4g uJ per inference: %s", joules * 1e6 / inferences, source)
    return Energy(value=joules * 1e6 / inferences, kind="measured", source=source)


def _stop_quietly(monitor: PowerMonitor) -> None:
    try:
        monitor.stop()
    except EdgeqError as exc:
        logger.debug("stopping the power monitor after a failed run: %s", exc)
