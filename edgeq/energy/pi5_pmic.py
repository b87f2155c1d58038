"""Raspberry Pi 5 PMIC: per-rail current and voltage from ``vcgencmd pmic_read_adc``.

The Pi 5's power-management IC reports each rail twice, a current line and a voltage
line, paired by name (the ADC channel numbers in parentheses differ)::

      VDD_CORE_A current(7)=0.92871990A
      VDD_CORE_V volt(15)=0.72097620V
     EXT5V_V volt(24)=5.17105900V

Rail power = current x voltage; board power here = the sum over rails that have both
lines. Voltage-only lines (EXT5V_V, BATT_V) are skipped. The sum covers the PMIC's own
rails: it leaves out 5 V drawn by USB devices and the PMIC's conversion losses, so it
reads below a meter on the USB-C input.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgeq import procs
from edgeq.energy.polling import PolledMonitor, Reading
from edgeq.errors import DeviceError

logger = logging.getLogger("edgeq.energy")

VCGENCMD = ("vcgencmd", "pmic_read_adc")
_LINE = re.compile(
    r"^\s*(?P<rail>[A-Za-z0-9_]+)_(?P<unit>[AV])\s+(?P<kind>current|volt)\(\d+\)=(?P<value>[-+0-9.eE]+)(?P<suffix>[AV])\s*$"
)
_KIND_UNIT = {"current": "A", "volt": "V"}


@dataclass(frozen=True)
class Rail:
    """One PMIC rail with both a current and a voltage reading."""

    name: str
    current_a: float
    voltage_v: float

    @property
    def power_w(self) -> float:
        return self.current_a * self.voltage_v


def _parse_line(line: str) -> tuple[str, str, float] | None:
    """(rail, "A" or "V", value) of one well-formed line; None for anything else."""
    m = _LINE.match(line)
    if not m or not (m["unit"] == m["suffix"] == _KIND_UNIT[m["kind"]]):
        return None
    try:
        value = float(m["value"])
    except ValueError:
        return None
    return m["rail"], m["unit"], value


def parse_pmic_adc(text: str) -> dict[str, Rail]:
    """The rails of one ``vcgencmd pmic_read_adc`` output that have both current and voltage.

    Lines that do not match the documented format are skipped (logged at debug level).
    """
    amps: dict[str, float] = {}
    volts: dict[str, float] = {}
    for line in text.splitlines():
        parsed = _parse_line(line)
        if parsed is None:
            if line.strip():
                logger.debug("pi5-pmic: skipping line %r", line)
            continue
        rail, unit, value = parsed
        (amps if unit == "A" else volts)[rail] = value
    return {name: Rail(name, amps[name], volts[name]) for name in sorted(amps.keys() & volts.keys())}


def board_power_w(rails: dict[str, Rail]) -> float:
    """Sum of rail powers in watts."""
    return sum(rail.power_w for rail in rails.values())


def run_vcgencmd(argv: Sequence[str] = VCGENCMD, timeout_s: float = 5.0) -> str:
    """Run ``vcgencmd pmic_read_adc`` and return its output.

    Raises:
        DeviceError: vcgencmd is missing, fails or hangs.
    """
    try:
        done = procs.run(list(argv), capture_output=True, text=True, timeout=timeout_s, check=False)
    except FileNotFoundError as exc:
        raise DeviceError(
            f"{argv[0]} not found: pi5-pmic needs a Raspberry Pi 5 running Raspberry Pi OS (package raspi-utils)"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise DeviceError(f"`{' '.join(argv)}` did not finish within {timeout_s:g} s") from exc
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise DeviceError(f"`{' '.join(argv)}` failed: {why[0] if why else f'exit code {done.returncode}'}")
    return done.stdout


class Pi5PmicMonitor(PolledMonitor):
    """Board power of a Raspberry Pi 5 from repeated ``vcgencmd pmic_read_adc`` runs.

    Args:
        runner: Returns one command output; tests feed recorded outputs. Default: run vcgencmd.
        interval_s: Pause between runs (each run itself takes a few milliseconds).
        clock: Time source for the sample stamps.
    """

    kind = "pi5-pmic"

    def __init__(
        self, runner: Callable[[], str] | None = None, interval_s: float = 0.0, clock: Callable[[], float] | None = None
    ) -> None:
        super().__init__(interval_s, **({"clock": clock} if clock else {}))
        self._runner = runner or run_vcgencmd
        self.rails: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"pi5-pmic (vcgencmd pmic_read_adc, sum of {len(self.rails) or 'the'} PMIC rails)"

    def open(self) -> None:
        """Run the command once and check it reports rails."""
        self.rails = tuple(self._rails().keys())
        logger.debug("pi5-pmic rails: %s", ", ".join(self.rails))
        super().open()

    def read(self) -> Reading:
        return Reading(power_w=board_power_w(self._rails()))

    def _rails(self) -> dict[str, Rail]:
        text = self._runner()
        rails = parse_pmic_adc(text)
        if not rails:
            first = text.strip().splitlines()[0] if text.strip() else "no output"
            raise DeviceError(
                f"vcgencmd pmic_read_adc reported no rail with both current and voltage ({first!r}); "
                "pi5-pmic needs a Raspberry Pi 5"
            )
        return rails
