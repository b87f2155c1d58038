"""Energy integration on synthetic waveforms with known integrals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edgeq.energy.integrate import (
    energy_between,
    energy_per_inference_j,
    energy_total,
    falling_edges,
    inference_window,
)
from edgeq.energy.types import PowerTrace
from edgeq.errors import MeasurementError

times = st.lists(st.floats(0.0, 100.0, allow_nan=False), min_size=2, max_size=60, unique=True).map(sorted)
watts = st.floats(0.0, 50.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(t=times, p=watts, frac=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_constant_power_gives_power_times_duration(t, p, frac):
    trace = PowerTrace(t_s=t, power_w=[p] * len(t))
    a, b = sorted(t[0] + f * (t[-1] - t[0]) for f in frac)
    assume(any(a <= x <= b for x in t))
    assert energy_between(trace, a, b) == pytest.approx(p * (b - a), rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(t=times, a=watts, slope=st.floats(-0.4, 0.4), frac=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_linear_ramp_is_integrated_exactly(t, a, slope, frac):
    ts = np.asarray(t)
    power = a + 25.0 + slope * ts  # stays positive over 0..100 s
    trace = PowerTrace(t_s=ts, power_w=power)
    lo, hi = sorted(t[0] + f * (t[-1] - t[0]) for f in frac)
    assume(any(lo <= x <= hi for x in t))
    exact = (a + 25.0) * (hi - lo) + slope * (hi**2 - lo**2) / 2
    assert energy_between(trace, lo, hi) == pytest.approx(exact, rel=1e-7, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(t=times, p=st.lists(watts, min_size=60, max_size=60), split=st.integers(0, 59))
def test_windows_add_up_and_the_total_is_the_trapezoid_sum(t, p, split):
    power = np.asarray(p[: len(t)])
    trace = PowerTrace(t_s=t, power_w=power)
    mid = t[min(split, len(t) - 1)]
    whole = energy_total(trace)
    assert energy_between(trace, t[0], mid) + energy_between(trace, mid, t[-1]) == pytest.approx(whole, abs=1e-6)
    assert whole == pytest.approx(float(np.sum((power[1:] + power[:-1]) / 2 * np.diff(t))), abs=1e-6)


def test_square_wave_between_edges():
    """1 kHz samples, 10 mW idle and 100 mW for 0.5 s; edges where the burst starts and ends."""
    t = np.arange(2000) / 1000.0
    p = np.where((t >= 0.5) & (t < 1.0), 0.1, 0.01)
    levels = np.ones(t.size, dtype=int)  # the DUT's timestamp pin idles high and pulses low
    levels[500] = levels[1000] = 0
    trace = PowerTrace(t_s=t, power_w=p, edges_s=falling_edges(t, levels))
    assert trace.edges_s == (0.5, 1.0)
    per_inference = energy_per_inference_j(trace, 5)
    # 0.499 s at 100 mW plus one 1 ms trapezoid from 100 mW down to 10 mW
    assert per_inference == pytest.approx((0.1 * 0.499 + 0.055 * 0.001) / 5)


def test_window_edges_between_samples_are_interpolated_and_outside_held():
    trace = PowerTrace(t_s=[1.0, 2.0], power_w=[0.0, 2.0])
    assert energy_between(trace, 1.5, 2.0) == pytest.approx(0.75)  # 1 W at 1.5 s to 2 W at 2 s
    assert energy_between(trace, 1.0, 3.0) == pytest.approx(1.0 + 2.0)  # 2 W held past the last sample


def test_errors_name_the_problem():
    trace = PowerTrace(t_s=[0.0, 1.0, 2.0], power_w=[1.0, 1.0, 1.0])
    with pytest.raises(MeasurementError, match=r"no power samples between 1.200000 s and 1.800000 s"):
        energy_between(trace, 1.2, 1.8)
    with pytest.raises(MeasurementError, match="ends .* before it starts"):
        energy_between(trace, 2.0, 1.0)
    with pytest.raises(MeasurementError, match="delivered no samples"):
        energy_total(PowerTrace(t_s=[], power_w=[]))
    with pytest.raises(MeasurementError, match="need two timestamp edges around the inferences, the monitor saw 1"):
        inference_window([0.5])
    with pytest.raises(MeasurementError, match="at least 1"):
        energy_per_inference_j(trace, 0, window=(0.0, 1.0))
    with pytest.raises(MeasurementError, match="window is empty"):
        energy_per_inference_j(trace, 1, window=(1.0, 1.0))


def test_trace_validation():
    with pytest.raises(MeasurementError, match="go backwards"):
        PowerTrace(t_s=[0.0, 2.0, 1.0], power_w=[1, 1, 1])
    with pytest.raises(MeasurementError, match="3 timestamps but 2 power"):
        PowerTrace(t_s=[0.0, 1.0, 2.0], power_w=[1, 1])
    with pytest.raises(MeasurementError, match="NaN"):
        PowerTrace(t_s=[0.0, 1.0], power_w=[1, float("nan")])
    trace = PowerTrace.from_current([0.0, 1.0], [0.5, 1.0], 2.0, edges_s=(1.0, 0.0))
    assert list(trace.power_w) == [1.0, 2.0] and trace.edges_s == (0.0, 1.0) and trace.duration_s == 1.0


def test_falling_edges():
    assert falling_edges([0, 1, 2, 3, 4, 5], [1, 0, 0, 1, 1, 0]) == (1.0, 5.0)
    assert falling_edges([0, 1], [0, 0]) == ()
    with pytest.raises(MeasurementError, match="3 sample times but 2 logic levels"):
        falling_edges([0, 1, 2], [1, 0])
