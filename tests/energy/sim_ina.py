"""Simulated TI INA219/INA226 chips on a simulated I2C bus, at the register level.

The model follows the datasheets (TI SBOS547 INA226, SBOS448 INA219): a register pointer set
by a one-byte write, register writes as pointer + MSB + LSB, two-byte reads MSB first;
reset via configuration bit 15; shunt/bus registers quantized from a physical load; current
and power registers computed from them with the calibration register exactly as the chip
does (zero until calibrated); INA219 bus register bits 15..3 with CNVR (bit 1) and OVF (bit 0).
"""

from __future__ import annotations

from collections.abc import Callable

from edgeq.energy.i2c import no_answer

Load = Callable[[], "tuple[float, float]"]  # () -> (bus volts, shunt current in amperes)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _u16(value: int) -> int:
    return value & 0xFFFF


class SimIna:
    """One chip. ``load()`` gives the present bus voltage and current through the shunt."""

    def __init__(self, chip: str, shunt_ohms: float, load: Load) -> None:
        assert chip in ("ina219", "ina226")
        self.chip, self.shunt_ohms, self.load = chip, shunt_ohms, load
        self.pointer = 0
        self.writes: list[tuple[int, int]] = []
        self.reset()

    def reset(self) -> None:
        self.config = 0x399F if self.chip == "ina219" else 0x4127
        self.cal = 0
        self.extra: dict[int, int] = {}

    # ---- bus side ----
    def on_write(self, data: bytes) -> None:
        if not data:
            return
        self.pointer = data[0]
        if len(data) >= 3:
            self.write_register(self.pointer, (data[1] << 8) | data[2])

    def on_read(self, length: int) -> bytes:
        return self.read_register(self.pointer).to_bytes(2, "big")[:length].ljust(length, b"\xff")

    # ---- registers ----
    def write_register(self, register: int, value: int) -> None:
        self.writes.append((register, value))
        if register == 0x00:
            if value & 0x8000:
                self.reset()
            else:
                self.config = value
        elif register == 0x05:
            self.cal = value & (0xFFFE if self.chip == "ina219" else 0x7FFF)
        elif self.chip == "ina226" and register in (0x06, 0x07):
            self.extra[register] = value
        # writes to read-only registers are ignored, as by the chips

    def read_register(self, register: int) -> int:
        if register == 0x00:
            return self.config
        if register == 0x05:
            return self.cal
        if register in (0x01, 0x02, 0x03, 0x04):
            return self._measure()[register]
        if self.chip == "ina226":
            return {0xFE: 0x5449, 0xFF: 0x2260}.get(register, self.extra.get(register, 0))
        return 0

    def _measure(self) -> dict[int, int]:
        volts, amps = self.load()
        return self._ina226(volts, amps) if self.chip == "ina226" else self._ina219(volts, amps)

    def _ina226(self, volts: float, amps: float) -> dict[int, int]:
        shunt = _clamp(round(amps * self.shunt_ohms / 2.5e-6), -32768, 32767)
        bus = _clamp(round(volts / 1.25e-3), 0, 0x7FFF)
        current = int(shunt * self.cal / 2048)
        power = int(abs(current) * bus / 20000)
        return {1: _u16(shunt), 2: bus, 3: _clamp(power, 0, 0xFFFF), 4: _u16(_clamp(current, -32768, 32767))}

    def _ina219(self, volts: float, amps: float) -> dict[int, int]:
        limit = 4000 << ((self.config >> 11) & 0x3)  # PGA /1../8: 40..320 mV in 10 uV steps
        shunt = _clamp(round(amps * self.shunt_ohms / 10e-6), -limit, limit)
        bus = _clamp(round(volts / 4e-3), 0, 8000 if self.config & 0x2000 else 4000)
        current = int(shunt * self.cal / 4096)
        power = int(abs(current) * bus / 5000)
        overflow = not (-32768 <= current <= 32767 and 0 <= power <= 0xFFFF)
        bus_reg = (bus << 3) | 0x2 | int(overflow)
        return {1: _u16(shunt), 2: bus_reg, 3: _u16(power), 4: _u16(current)}


class SimI2CBus:
    """An I2C transport whose devices are simulated chips; an empty address does not acknowledge."""

    def __init__(self, devices: dict[int, SimIna], name: str = "/dev/i2c-sim") -> None:
        self.devices, self.name = devices, name
        self.closed = False

    def _device(self, address: int) -> SimIna:
        if self.closed:
            raise no_answer(self.name, address, "bus closed")
        if address not in self.devices:
            raise no_answer(self.name, address, "Remote I/O error")
        return self.devices[address]

    def write(self, address: int, data: bytes) -> None:
        self._device(address).on_write(bytes(data))

    def read(self, address: int, length: int) -> bytes:
        return self._device(address).on_read(length)

    def close(self) -> None:
        self.closed = True
