"""A tiny I2C transport: raw write and read transactions to a 7-bit address.

Register-pointer chips such as the INA219/INA226 are driven with plain transactions:
a one-byte write sets the register pointer, a three-byte write (pointer, MSB, LSB)
writes a register, and a two-byte read returns the register at the pointer, most
significant byte first. The real transport is Linux i2c-dev through ``smbus2``
(optional; ``pip install smbus2``); tests plug in a simulated chip instead.
"""

from __future__ import annotations

import errno
from typing import Any, Protocol

from edgeq.errors import DependencyError, DeviceError


class I2CTransport(Protocol):
    """Raw I2C transactions; ``name`` says where (e.g. ``/dev/i2c-1``) for error messages."""

    name: str

    def write(self, address: int, data: bytes) -> None:
        """One write transaction of ``data`` to ``address``."""
        ...

    def read(self, address: int, length: int) -> bytes:
        """One read transaction of ``length`` bytes from ``address``."""
        ...

    def close(self) -> None:
        """Release the bus."""
        ...


def _smbus2() -> Any:
    try:
        import smbus2
    except ImportError as exc:
        raise DependencyError("INA219/INA226 monitors on Linux I2C need smbus2: pip install smbus2") from exc
    return smbus2


class SmbusTransport:
    """Linux i2c-dev (``/dev/i2c-N``) through smbus2's combined-transaction call.

    Args:
        bus: A device path such as ``/dev/i2c-1``.
    """

    def __init__(self, bus: str) -> None:
        self.name = bus
        self._smbus2 = _smbus2()
        try:
            self._bus = self._smbus2.SMBus(bus)
        except OSError as exc:
            raise DeviceError(f"cannot open I2C bus {bus}: {_open_hint(exc)}") from exc

    def write(self, address: int, data: bytes) -> None:
        self._transfer(address, self._smbus2.i2c_msg.write(address, data))

    def read(self, address: int, length: int) -> bytes:
        msg = self._smbus2.i2c_msg.read(address, length)
        self._transfer(address, msg)
        return bytes(msg)

    def close(self) -> None:
        self._bus.close()

    def _transfer(self, address: int, msg: Any) -> None:
        try:
            self._bus.i2c_rdwr(msg)
        except OSError as exc:
            raise no_answer(self.name, address, exc.strerror or str(exc)) from exc


def no_answer(bus: str, address: int, reason: str) -> DeviceError:
    """The error for a chip that does not acknowledge a transaction."""
    return DeviceError(
        f"no answer from I2C address 0x{address:02x} on {bus} ({reason}); "
        "check the wiring, the address pins and `i2cdetect -y` output"
    )


def _open_hint(exc: OSError) -> str:
    if exc.errno == errno.EACCES:
        return "permission denied: add yourself to the i2c group (sudo usermod -aG i2c $USER, then log in again)"
    if exc.errno == errno.ENOENT:
        return "no such bus: enable I2C (raspi-config) and check the number (ls /dev/i2c-*)"
    return str(exc)
