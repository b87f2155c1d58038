"""TI INA219 and INA226 current/power monitors on an I2C bus.

Register map (both chips, 16-bit registers sent MSB first): 00h configuration,
01h shunt voltage (signed), 02h bus voltage, 03h power, 04h current (signed),
05h calibration; the INA226 adds FEh manufacturer ID (5449h) and FFh die ID (2260h).

- INA226: shunt LSB 2.5 uV, bus LSB 1.25 mV, CAL = trunc(0.00512 / (Current_LSB x R_shunt))
  (15 bits), Current = Shunt x CAL / 2048, Power LSB = 25 x Current_LSB.
- INA219: shunt LSB 10 uV, bus voltage in bits 15..3 x 4 mV (bit 1 CNVR, bit 0 OVF math
  overflow), CAL = trunc(0.04096 / (Current_LSB x R_shunt)) with bit 0 unused,
  Current = Shunt x CAL / 4096, Power LSB = 20 x Current_LSB.

Current_LSB = max expected current / 2^15; the driver then uses the LSB the truncated CAL
really gives (constant / (CAL x R_shunt)), so readings match the chip's arithmetic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from edgeq.energy.i2c import I2CTransport, SmbusTransport
from edgeq.energy.polling import PolledMonitor, Reading
from edgeq.errors import DeviceError, UsageError

logger = logging.getLogger("edgeq.energy")

REG_CONFIG, REG_SHUNT, REG_BUS, REG_POWER, REG_CURRENT, REG_CALIBRATION = range(6)
REG_MANUFACTURER_ID, REG_DIE_ID = 0xFE, 0xFF
CONFIG_RESET = 0x8000


@dataclass(frozen=True)
class InaChip:
    """What differs between the INA219 and the INA226."""

    name: str
    cal_constant: float
    cal_mask: int
    shunt_lsb_v: float
    bus_lsb_v: float
    bus_shift: int
    power_lsb_ratio: int
    shunt_full_scale_v: float
    config: int
    ids: tuple[tuple[int, int], ...] = ()
    overflow_bit: int | None = None


INA226 = InaChip(
    name="ina226",
    cal_constant=0.00512,
    cal_mask=0x7FFF,
    shunt_lsb_v=2.5e-6,
    bus_lsb_v=1.25e-3,
    bus_shift=0,
    power_lsb_ratio=25,
    shunt_full_scale_v=0.08192,
    config=0x4127,  # power-on default: 1 average, 1.1 ms conversions, shunt and bus continuous
    ids=((REG_MANUFACTURER_ID, 0x5449), (REG_DIE_ID, 0x2260)),
)
INA219 = InaChip(
    name="ina219",
    cal_constant=0.04096,
    cal_mask=0xFFFE,
    shunt_lsb_v=10e-6,
    bus_lsb_v=4e-3,
    bus_shift=3,
    power_lsb_ratio=20,
    shunt_full_scale_v=0.32,
    config=0x399F,  # power-on default: 32 V range, PGA /8 (320 mV), 12-bit, shunt and bus continuous
    overflow_bit=0x0001,
)
CHIPS = {chip.name: chip for chip in (INA219, INA226)}


def calibration(chip: InaChip, shunt_ohms: float, max_current_a: float) -> tuple[int, float]:
    """(CAL register value, the current LSB in amperes it gives) for a shunt and a max current.

    Raises:
        UsageError: A shunt or current that is not positive, or a CAL that does not fit the register.
    """
    if shunt_ohms <= 0 or max_current_a <= 0:
        raise UsageError(
            f"{chip.name}: shunt and max current must be positive, got {shunt_ohms:g} ohm, {max_current_a:g} A"
        )
    raw = int(chip.cal_constant / (max_current_a / 32768 * shunt_ohms))
    cal = raw & chip.cal_mask
    if raw > chip.cal_mask or cal == 0:
        raise UsageError(
            f"{chip.name}: shunt {shunt_ohms:g} ohm with max current {max_current_a:g} A needs calibration {raw}, "
            f"outside 1..{chip.cal_mask}; choose a max current nearer {chip.shunt_full_scale_v / shunt_ohms:.3g} A"
        )
    return cal, chip.cal_constant / (cal * shunt_ohms)


def signed16(value: int) -> int:
    """A 16-bit register value read as two's complement."""
    return value - 0x10000 if value & 0x8000 else value


class InaMonitor(PolledMonitor):
    """An INA219 or INA226 polled over I2C; power = current register x bus voltage.

    Args:
        chip: INA219 or INA226.
        bus: I2C bus device path, e.g. ``/dev/i2c-1``.
        address: 7-bit address (0x40 with both address pins to ground).
        shunt_ohms: The shunt resistor.
        max_current_a: Largest expected current; default: the chip's full-scale shunt voltage / shunt.
        transport: An open transport (tests pass a simulated chip); default: smbus2 on ``bus``.
        interval_s: Seconds between readings.
        clock: Time source for the sample stamps.
    """

    def __init__(
        self,
        chip: InaChip,
        bus: str,
        address: int,
        shunt_ohms: float,
        max_current_a: float | None = None,
        transport: I2CTransport | None = None,
        interval_s: float = 0.002,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(interval_s, **({"clock": clock} if clock else {}))
        if not 0x03 <= address <= 0x77:
            raise UsageError(f"I2C address 0x{address:x} is outside 0x03..0x77")
        self.chip, self.bus, self.address, self.shunt_ohms = chip, bus, address, shunt_ohms
        max_a = max_current_a if max_current_a is not None else chip.shunt_full_scale_v / shunt_ohms
        self.cal, self.current_lsb_a = calibration(chip, shunt_ohms, max_a)
        self.kind = chip.name
        self._transport = transport

    def describe(self) -> str:
        return (
            f"{self.chip.name} on {self.bus} at 0x{self.address:02x} "
            f"(shunt {self.shunt_ohms:g} ohm, current LSB {self.current_lsb_a * 1e6:.4g} uA)"
        )

    def open(self) -> None:
        """Check the chip's IDs (INA226), reset it, write configuration and calibration."""
        if self._transport is None:
            self._transport = SmbusTransport(self.bus)
        for register, expected in self.chip.ids:
            got = self.read_register(register)
            if got != expected:
                raise DeviceError(
                    f"the device at 0x{self.address:02x} on {self.bus} is not an {self.chip.name.upper()} "
                    f"(register {register:02X}h reads {got:04X}h, expected {expected:04X}h)"
                )
        self.write_register(REG_CONFIG, CONFIG_RESET)
        self.write_register(REG_CONFIG, self.chip.config)
        self.write_register(REG_CALIBRATION, self.cal)
        if self.read_register(REG_CALIBRATION) != self.cal:
            raise DeviceError(f"{self.describe()} did not keep calibration {self.cal}; check the wiring")
        logger.debug("%s: CAL=%d", self.describe(), self.cal)
        super().open()

    def close(self) -> None:
        super().close()
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def read(self) -> Reading:
        bus_raw = self.read_register(REG_BUS)
        if self.chip.overflow_bit is not None and bus_raw & self.chip.overflow_bit:
            raise DeviceError(
                f"{self.describe()} reports a math overflow: the current exceeds its range; "
                "give a larger max_current or a smaller shunt"
            )
        volts = (bus_raw >> self.chip.bus_shift) * self.chip.bus_lsb_v
        amps = signed16(self.read_register(REG_CURRENT)) * self.current_lsb_a
        return Reading(power_w=amps * volts, current_a=amps, voltage_v=volts)

    def read_register(self, register: int) -> int:
        """Set the register pointer, then read the 16-bit register (MSB first)."""
        transport = self._require()
        transport.write(self.address, bytes([register]))
        data = transport.read(self.address, 2)
        if len(data) != 2:
            raise DeviceError(
                f"{self.chip.name} at 0x{self.address:02x} on {self.bus} sent {len(data)} bytes, expected 2"
            )
        return int.from_bytes(data, "big")

    def write_register(self, register: int, value: int) -> None:
        """Write a 16-bit register: pointer byte, then MSB and LSB."""
        self._require().write(self.address, bytes([register, (value >> 8) & 0xFF, value & 0xFF]))

    def _require(self) -> I2CTransport:
        if self._transport is None:
            raise DeviceError(f"{self.chip.name} on {self.bus} is not open")
        return self._transport
