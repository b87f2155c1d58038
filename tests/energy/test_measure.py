"""measure_energy: window choice, units, the source text and failures."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from edgeq.energy.measure import choose_window, measure_energy, measure_window
from edgeq.energy.pi5_pmic import Pi5PmicMonitor, board_power_w, parse_pmic_adc
from edgeq.energy.types import PowerTrace
from edgeq.errors import MeasurementError, UsageError

CAPTURE = Path(__file__).parent.parent / "fixtures" / "energy" / "pi5_pmic_read_adc.txt"


class TraceMonitor:
    """A monitor that hands back a fixed trace (our own protocol, for the window logic)."""

    kind = "fixed"

    def __init__(self, trace: PowerTrace) -> None:
        self.trace, self.events = trace, []

    def describe(self) -> str:
        return "fixed trace"

    def open(self) -> None:
        self.events.append("open")

    def start(self) -> None:
        self.events.append("start")

    def stop(self) -> PowerTrace:
        self.events.append("stop")
        return self.trace

    def close(self) -> None:
        self.events.append("close")


def test_pi5_pmic_over_the_host_timed_window():
    idle = CAPTURE.read_text(encoding="utf-8").split("---\n")[0]
    watts = board_power_w(parse_pmic_adc(idle))
    mon = Pi5PmicMonitor(runner=lambda: idle, interval_s=0.005)
    reads: list[float] = []
    clock = lambda: reads.append(time.monotonic()) or reads[-1]  # noqa: E731
    energy = measure_energy(mon, lambda: time.sleep(0.1), inferences=4, clock=clock)
    assert energy.kind == "measured"
    # constant power: energy per inference = P x (host window) / N exactly
    assert energy.value == pytest.approx(watts * (reads[1] - reads[0]) / 4 * 1e6, rel=1e-9)
    assert energy.source.startswith("pi5-pmic (vcgencmd pmic_read_adc, sum of 12 PMIC rails), over the host-timed run")
    assert energy.source.endswith("4 inferences")


def test_edges_win_over_the_host_window():
    trace = PowerTrace(t_s=[0.0, 1.0, 2.0, 3.0], power_w=[1.0, 2.0, 2.0, 1.0], edges_s=(1.0, 2.0), host_clock=True)
    energy = measure_energy(TraceMonitor(trace), lambda: None, inferences=2, clock=itertools.count().__next__)
    assert energy.value == pytest.approx(2.0 / 2 * 1e6)
    assert "between timestamp edges (1 s)" in energy.source and "2 samples" in energy.source


def test_device_clock_without_edges_uses_the_whole_acquisition():
    trace = PowerTrace(t_s=[0.0, 1.0, 2.0], power_w=[3.0, 3.0, 3.0])
    window, how = choose_window(trace, (100.0, 101.0))
    assert window == (0.0, 2.0) and "whole acquisition" in how and "overstated" in how


def test_no_samples_in_the_host_window():
    trace = PowerTrace(t_s=[0.0, 1.0], power_w=[1.0, 1.0], host_clock=True)
    ticks = iter([5.0, 6.0])
    with pytest.raises(MeasurementError, match="no power samples between 5.000000 s and 6.000000 s"):
        measure_energy(TraceMonitor(trace), lambda: None, inferences=1, clock=lambda: next(ticks))


def test_a_failing_run_stops_the_monitor_and_propagates():
    mon = TraceMonitor(PowerTrace(t_s=[0.0], power_w=[1.0]))

    def boom():
        raise RuntimeError("target died")

    with pytest.raises(RuntimeError, match="target died"):
        measure_energy(mon, boom, inferences=1)
    assert mon.events == ["start", "stop"]


def test_bad_arguments():
    mon = TraceMonitor(PowerTrace(t_s=[0.0], power_w=[1.0]))
    with pytest.raises(UsageError, match="at least 1"):
        measure_energy(mon, lambda: None, inferences=0)
    with pytest.raises(UsageError, match="window must be positive"):
        measure_window(mon, 0.0)
    assert measure_window(mon, 0.01, sleep=lambda s: None).samples == 1
