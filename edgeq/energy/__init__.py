"""Measured energy: power-monitor drivers and energy per inference from their samples.

Drivers (all behind :class:`PowerMonitor`): Raspberry Pi 5 PMIC (``vcgencmd pmic_read_adc``),
TI INA219/INA226 on Linux I2C, ST X-NUCLEO-LPM01A over serial, Nordic PPK2 (``ppk2-api``) and
Joulescope (``joulescope``). :func:`create_monitor` builds one from an ``--energy-monitor``
value and :func:`measure_energy` turns a run of N inferences into an
:class:`edgeq.measurements.Energy` with ``kind="measured"``.
"""

from edgeq.energy.integrate import (
    energy_between,
    energy_per_inference_j,
    energy_total,
    falling_edges,
    inference_window,
)
from edgeq.energy.measure import measure_energy, measure_window
from edgeq.energy.registry import MONITOR_KINDS, MonitorSpec, create_monitor, parse_monitor_spec
from edgeq.energy.types import PowerMonitor, PowerTrace

__all__ = [
    "MONITOR_KINDS",
    "MonitorSpec",
    "PowerMonitor",
    "PowerTrace",
    "create_monitor",
    "energy_between",
    "energy_per_inference_j",
    "energy_total",
    "falling_edges",
    "inference_window",
    "measure_energy",
    "measure_window",
    "parse_monitor_spec",
]
