"""The --energy-monitor value: parsing, checking and building monitors (no hardware touched)."""

from __future__ import annotations

import pytest

from edgeq.energy import MONITOR_KINDS, create_monitor, parse_monitor_spec
from edgeq.energy.ina import InaMonitor
from edgeq.energy.joulescope_js import JoulescopeMonitor
from edgeq.energy.lpm01a import Lpm01aMonitor
from edgeq.energy.pi5_pmic import Pi5PmicMonitor
from edgeq.energy.ppk2 import Ppk2Monitor
from edgeq.energy.types import PowerMonitor
from edgeq.errors import UsageError


@pytest.mark.parametrize(
    ("value", "cls", "described"),
    [
        ("pi5-pmic", Pi5PmicMonitor, "pi5-pmic (vcgencmd pmic_read_adc"),
        (
            "ina226:/dev/i2c-1@0x40,shunt=0.1",
            InaMonitor,
            "ina226 on /dev/i2c-1 at 0x40 (shunt 0.1 ohm, current LSB 25 uA)",
        ),
        ("ina219:1@0x45,shunt=0.1,max_current=2", InaMonitor, "ina219 on /dev/i2c-1 at 0x45"),
        ("ina226:/dev/i2c-3,shunt=0.01", InaMonitor, "ina226 on /dev/i2c-3 at 0x40"),
        ("lpm01a:/dev/ttyACM1", Lpm01aMonitor, "lpm01a on /dev/ttyACM1 (3.300 V supply, current sampled at 1 kHz)"),
        (
            "lpm01a:/dev/ttyACM1,volt=1.8,freq=5k,trigger=d7",
            Lpm01aMonitor,
            "(1.800 V supply, current sampled at 5 kHz)",
        ),
        ("ppk2:/dev/ttyACM2", Ppk2Monitor, "ppk2 on /dev/ttyACM2 (source meter, 3.300 V"),
        (
            "ppk2:/dev/ttyACM2,mode=ampere,volt=1.8,edge=d3",
            Ppk2Monitor,
            "ampere meter, 1.800 V, 100 kHz, timestamp edges on D3",
        ),
        ("joulescope", JoulescopeMonitor, "joulescope (default rate)"),
        ("joulescope,freq=1000,edge=gpi0", JoulescopeMonitor, "joulescope (1000 Hz, timestamp edges on gpi0)"),
    ],
)
def test_values_build_monitors(value, cls, described):
    spec = parse_monitor_spec(value)
    monitor = create_monitor(spec)
    assert isinstance(monitor, cls) and isinstance(monitor, PowerMonitor)
    assert described in monitor.describe()
    assert monitor.kind == spec.kind


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ina999:/dev/i2c-1", "unknown energy monitor 'ina999'; kinds: " + ", ".join(MONITOR_KINDS)),
        ("", "unknown energy monitor"),
        ("ina226:/dev/i2c-1@0x40", "needs the shunt resistor in ohm"),
        ("ina226:/dev/i2c-1@forty,shunt=0.1", "I2C address 'forty'"),
        ("ina226:/dev/i2c-1,shunt=abc", "shunt='abc' is not a number"),
        ("ina226:/dev/i2c-1,shunt=0.1,speed=9", "unknown option 'speed=9'; allowed: shunt=, max_current=, interval="),
        ("ina226", "needs an I2C bus and address"),
        ("lpm01a", "needs a serial port"),
        ("lpm01a:/dev/ttyACM1,freq=7k", "lpm01a freq '7k'"),
        ("lpm01a:/dev/ttyACM1,trigger=d8", "trigger='d8'; allowed: sw, d7"),
        ("ppk2:/dev/ttyACM2,edge=d9", "edge='d9'; allowed: d0, d1"),
        ("pi5-pmic:/dev/x", "takes no ':/dev/x' part"),
        ("joulescope,freq=3", "joulescope freq 3"),
    ],
)
def test_bad_values_are_usage_errors(value, message):
    with pytest.raises(UsageError) as info:
        parse_monitor_spec(value)
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_spec_fields():
    spec = parse_monitor_spec(" ina219:/dev/i2c-1@0x41, shunt=0.05 ")
    assert (spec.kind, spec.target, spec.option("shunt")) == ("ina219", "/dev/i2c-1@0x41", "0.05")
    assert create_monitor("ina219:/dev/i2c-1@0x41,shunt=0.05").address == 0x41
