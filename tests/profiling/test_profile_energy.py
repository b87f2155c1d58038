"""``edgeq profile`` with a power monitor: measured energy from a simulated INA226 on a simulated I2C bus."""

from __future__ import annotations

import pytest

from edgeq.energy.ina import INA226, InaMonitor
from edgeq.errors import EdgeqError, UsageError
from edgeq.profiling import profile
from tests.conftest import FIXTURES
from tests.energy.sim_ina import SimI2CBus, SimIna

CONV = FIXTURES / "tflite" / "conv_int8.tflite"
KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"  # about 0.3 ms per invoke: 200 runs span many 2 ms samples


def test_measured_energy_is_power_times_time_per_inference():
    watts = 5.0 * 0.4  # 5 V bus, 0.4 A through the shunt: 2 W while the target runs
    bus = SimI2CBus({0x40: SimIna("ina226", 0.1, lambda: (5.0, 0.4))})
    monitor = InaMonitor(INA226, "/dev/i2c-sim", 0x40, 0.1, max_current_a=1.0, transport=bus)
    result = profile(KWS, "host-c", runs=200, warmup=2, energy_monitor=monitor)
    energy = result.timing.energy
    assert energy.kind == "measured" and "ina226" in energy.source
    # the window is a second pass of 200 runs (with the runner's start-up): about power x time per inference
    # (the two passes are timed apart on a busy machine, so within a factor of two of the first pass's median),
    # at most power x (a few seconds) / 200
    assert 0.5 * watts * result.latency.p50 * 1e3 <= energy.value <= watts * 5.0 / 200 * 1e6


def test_bad_monitor_spec_fails_before_anything_runs():
    with pytest.raises(UsageError, match="ina226|kinds"):
        profile(CONV, "host-c", runs=2, energy_monitor="teapot:/dev/null")


def test_pi5_pmic_without_vcgencmd_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EdgeqError) as info:
        profile(CONV, "host", runs=2, energy_monitor="pi5-pmic")
    assert "vcgencmd" in str(info.value) and "\n" not in str(info.value)
