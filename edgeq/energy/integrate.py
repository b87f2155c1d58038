"""Energy from power samples: trapezoid integration over a time window and between timestamp edges.

All functions are pure. Between samples power is taken as linear (the trapezoid rule);
a window edge that falls between two samples is interpolated, and one beyond the first
or last sample holds that sample's power. Energy per inference is the energy between two
timestamp edges divided by the number of inferences run between them
(docs/specs/dut-protocol.md, energy mode).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeq.energy.types import PowerTrace
from edgeq.errors import MeasurementError


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * 0.5 * np.diff(x)))


def energy_between(trace: PowerTrace, t0_s: float, t1_s: float) -> float:
    """Energy in joules between two times on the trace's clock.

    Args:
        trace: The samples.
        t0_s: Window start (seconds, same clock as ``trace.t_s``).
        t1_s: Window end, not before ``t0_s``.

    Raises:
        MeasurementError: The window is reversed or holds no sample.
    """
    if t1_s < t0_s:
        raise MeasurementError(f"energy window ends ({t1_s:.6f} s) before it starts ({t0_s:.6f} s)")
    t, p = trace.t_s, trace.power_w
    if t.size == 0:
        raise MeasurementError("the power monitor delivered no samples")
    inside = (t >= t0_s) & (t <= t1_s)
    if not inside.any():
        raise MeasurementError(
            f"no power samples between {t0_s:.6f} s and {t1_s:.6f} s (samples cover {t[0]:.6f}..{t[-1]:.6f} s); "
            "sample faster or measure a longer window"
        )
    xs = np.concatenate(([t0_s], t[inside], [t1_s]))
    ends = np.interp([t0_s, t1_s], t, p)
    ps = np.concatenate(([ends[0]], p[inside], [ends[1]]))
    return _trapezoid(ps, xs)


def energy_total(trace: PowerTrace) -> float:
    """Energy in joules from the first to the last sample."""
    if trace.samples == 0:
        raise MeasurementError("the power monitor delivered no samples")
    return energy_between(trace, float(trace.t_s[0]), float(trace.t_s[-1]))


def inference_window(edges_s: Sequence[float]) -> tuple[float, float]:
    """The (start, end) of the timed inferences: the first and the last timestamp edge.

    Raises:
        MeasurementError: Fewer than two edges.
    """
    if len(edges_s) < 2:
        raise MeasurementError(
            f"need two timestamp edges around the inferences, the monitor saw {len(edges_s)}; "
            "check the wire from the DUT's timestamp pin to the monitor's trigger input"
        )
    ordered = sorted(edges_s)
    return float(ordered[0]), float(ordered[-1])


def energy_per_inference_j(trace: PowerTrace, inferences: int, window: tuple[float, float] | None = None) -> float:
    """Energy in joules per inference: energy in ``window`` (default: between the trace's edges) / N.

    Raises:
        MeasurementError: ``inferences`` < 1, fewer than two edges, an empty window or no samples in it.
    """
    if inferences < 1:
        raise MeasurementError(f"inferences must be at least 1, got {inferences}")
    t0, t1 = window if window is not None else inference_window(trace.edges_s)
    if t1 <= t0:
        raise MeasurementError(f"the inference window is empty ({t0:.6f}..{t1:.6f} s)")
    return energy_between(trace, t0, t1) / inferences


def falling_edges(t_s: Sequence[float] | np.ndarray, levels: Sequence[int] | np.ndarray) -> tuple[float, ...]:
    """Times at which a sampled logic level goes from high (non-zero) to low: the first low sample.

    Args:
        t_s: Sample times.
        levels: The logic level at each sample time.
    """
    t = np.asarray(t_s, dtype=np.float64)
    high = np.asarray(levels) != 0
    if t.shape != high.shape:
        raise MeasurementError(f"{t.size} sample times but {high.size} logic levels")
    idx = np.nonzero(high[:-1] & ~high[1:])[0] + 1
    return tuple(float(x) for x in t[idx])
