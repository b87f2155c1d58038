"""INA219/INA226 driver against simulated chips on a simulated I2C bus (register level)."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from edgeq.energy.i2c import SmbusTransport
from edgeq.energy.ina import INA219, INA226, InaMonitor, calibration, signed16
from edgeq.energy.measure import measure_energy
from edgeq.errors import DependencyError, DeviceError, UsageError
from tests.energy.sim_ina import SimI2CBus, SimIna


def _monitor(chip, sim, shunt, max_current=None, address=0x40, **kwargs):
    bus = SimI2CBus({0x40: sim})
    return InaMonitor(chip, bus.name, address, shunt, max_current, transport=bus, **kwargs)


def test_ina226_datasheet_example():
    """TI SBOS547 Table 1: 10 A load, 12 V common mode, 2 mOhm shunt, Current_LSB 1 mA."""
    sim = SimIna("ina226", 0.002, lambda: (11.98, 10.0))
    mon = _monitor(INA226, sim, 0.002, max_current=32.768)
    mon.open()
    assert mon.cal == 0x0A00
    assert mon.read_register(0x00) == 0x4127
    assert mon.read_register(0x01) == 0x1F40
    assert mon.read_register(0x02) == 0x2570
    assert mon.read_register(0x04) == 0x2710
    assert mon.read_register(0x03) == 0x12B8  # 4792 x 25 mW = 119.8 W
    reading = mon.read()
    assert reading.current_a == pytest.approx(10.0)
    assert reading.voltage_v == pytest.approx(11.98)
    assert reading.power_w == pytest.approx(119.8, rel=1e-3)


def test_open_resets_then_writes_config_and_calibration():
    sim = SimIna("ina226", 0.1, lambda: (3.3, 0.01))
    mon = _monitor(INA226, sim, 0.1)
    mon.open()
    assert sim.writes == [(0x00, 0x8000), (0x00, 0x4127), (0x05, mon.cal)]
    assert mon.cal == 2048 and mon.current_lsb_a == pytest.approx(25e-6)  # 0.8192 A full scale / 2^15


@pytest.mark.parametrize("amps", [0.0, 0.0123, 0.25, 0.8, -0.05])
def test_ina226_readings_follow_the_load(amps):
    sim = SimIna("ina226", 0.1, lambda: (5.0, amps))
    mon = _monitor(INA226, sim, 0.1)
    mon.open()
    reading = mon.read()
    assert reading.current_a == pytest.approx(amps, abs=mon.current_lsb_a)
    assert reading.voltage_v == pytest.approx(5.0, abs=1.25e-3)
    assert reading.power_w == pytest.approx(5.0 * amps, abs=5.0 * mon.current_lsb_a + 1e-9)


@pytest.mark.parametrize("amps", [0.0, 0.001, 0.5, 2.9, -0.2])
def test_ina219_readings_follow_the_load(amps):
    sim = SimIna("ina219", 0.1, lambda: (12.0, amps))
    mon = _monitor(INA219, sim, 0.1)
    mon.open()
    assert mon.cal % 2 == 0  # bit 0 of the INA219 calibration register is unused
    assert mon.read_register(0x02) & 0x2  # conversion ready
    reading = mon.read()
    assert reading.current_a == pytest.approx(amps, abs=2 * mon.current_lsb_a)
    assert reading.voltage_v == pytest.approx(12.0, abs=4e-3)


def test_ina219_bus_voltage_register_layout():
    sim = SimIna("ina219", 0.1, lambda: (5.0, 0.1))
    mon = _monitor(INA219, sim, 0.1)
    mon.open()
    raw = mon.read_register(0x02)
    assert raw >> 3 == 1250 and raw & 0x1 == 0  # 5 V / 4 mV, no overflow


def test_ina219_math_overflow_is_an_error():
    sim = SimIna("ina219", 0.1, lambda: (12.0, 3.19))
    mon = _monitor(INA219, sim, 0.1, max_current=0.21)  # the current register cannot hold 3.19 A in 6.4 uA steps
    mon.open()
    with pytest.raises(DeviceError, match="math overflow"):
        mon.read()


def test_calibration_formulas():
    cal, lsb = calibration(INA226, 0.1, 0.8192)
    assert cal == 2048 and lsb == pytest.approx(25e-6)
    cal, lsb = calibration(INA219, 0.1, 3.2)
    assert cal == 4194 and lsb == pytest.approx(0.04096 / (4194 * 0.1))
    assert signed16(0xFFFF) == -1 and signed16(0x7FFF) == 32767


def test_calibration_that_does_not_fit_is_a_usage_error():
    with pytest.raises(UsageError, match="outside 1..32767"):
        calibration(INA226, 0.001, 0.01)
    with pytest.raises(UsageError, match="positive"):
        calibration(INA219, 0.0, 1.0)


def test_a_chip_that_is_not_an_ina226():
    sim = SimIna("ina219", 0.1, lambda: (3.3, 0.0))  # no ID registers: they read 0
    mon = _monitor(INA226, sim, 0.1)
    with pytest.raises(DeviceError, match=r"not an INA226 \(register FEh reads 0000h"):
        mon.open()


def test_no_device_at_the_address():
    sim = SimIna("ina226", 0.1, lambda: (3.3, 0.0))
    mon = _monitor(INA226, sim, 0.1, address=0x41)
    with pytest.raises(DeviceError, match=r"no answer from I2C address 0x41 on /dev/i2c-sim"):
        mon.open()


def test_missing_smbus2(monkeypatch):
    monkeypatch.setitem(sys.modules, "smbus2", None)
    with pytest.raises(DependencyError, match="pip install smbus2"):
        SmbusTransport("/dev/i2c-1")


def test_measured_energy_over_a_host_timed_window():
    state = {"amps": 0.01}
    lock = threading.Lock()

    def load():
        with lock:
            return 5.0, state["amps"]

    def run_window():
        with lock:
            state["amps"] = 0.5
        time.sleep(0.25)
        with lock:
            state["amps"] = 0.01

    clock_reads: list[float] = []

    def clock():
        clock_reads.append(time.monotonic())
        return clock_reads[-1]

    mon = _monitor(INA226, SimIna("ina226", 0.1, load), 0.1, interval_s=0.001)
    energy = measure_energy(mon, run_window, inferences=5, clock=clock)
    mon.close()
    # 2.5 W during the host-timed window, over 5 inferences; the load steps smear by a sampling interval or two
    window = clock_reads[1] - clock_reads[0]
    assert energy.kind == "measured"
    assert energy.value == pytest.approx(2.5 * window / 5 * 1e6, rel=0.1)
    assert energy.source.startswith("ina226 on /dev/i2c-sim at 0x40") and "host-timed" in energy.source
