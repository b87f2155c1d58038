"""What one host of a farm has: boards on USB, SSH boards, emulator and host slots, and abilities.

Serial boards are found with pyserial's ``comports()``: a port whose USB
vendor:product ID appears in exactly one board file's ``usb_ids`` is that
board. IDs shared by several boards (every NUCLEO with an ST-LINK/V2-1, say)
need a pin in farm.yaml (port or probe serial number -> board id); an
unpinned shared ID is skipped with a warning naming the candidates.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from typing import Any

from edgeq import procs
from edgeq.farm.config import FarmConfig, SerialPin, SshBoard
from edgeq.farm.devices import Device
from edgeq.farm.resources import CAPABILITIES, board_resource, target_resource
from edgeq.remote.endpoint import Endpoint


@dataclass(frozen=True)
class Inventory:
    """A host's devices, its abilities and the warnings met while finding them."""

    devices: tuple[Device, ...]
    abilities: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def resources(self) -> dict[str, float]:
        """The Ray custom resources to advertise: one unit per device of each kind, one per ability."""
        counts: dict[str, float] = {}
        for device in self.devices:
            counts[device.resource] = counts.get(device.resource, 0) + 1
        counts.update({CAPABILITIES[a]: 1 for a in self.abilities})
        return counts


def abilities() -> tuple[str, ...]:
    """What this host can do: tensorflow importable, arm-none-eabi-gcc, qemu-system-arm, a C compiler."""
    found = []
    if importlib.util.find_spec("tensorflow") is not None:
        found.append("tensorflow")
    if shutil.which("arm-none-eabi-gcc"):
        found.append("arm-gcc")
    if shutil.which("qemu-system-arm"):
        found.append("qemu")
    if any(shutil.which(cc) for cc in ("cc", "gcc", "clang")):
        found.append("cc")
    return tuple(found)


def inventory(config: FarmConfig, ports: list[Any] | None = None) -> Inventory:
    """Everything this host offers under ``config``; ``ports`` replaces ``comports()`` (tests)."""
    able = abilities()
    warnings: list[str] = []
    devices = [*serial_devices(config, _comports() if ports is None else ports, warnings)]
    devices += [d for ssh in config.ssh for d in ssh_devices(ssh, warnings)]
    devices += slot_devices(config.slots, able, warnings)
    return Inventory(tuple(devices), able, tuple(warnings))


def _comports() -> list[Any]:
    from serial.tools import list_ports

    return list(list_ports.comports())


def usb_table() -> dict[str, list[str]]:
    """USB ``vvvv:pppp`` -> the ids of the boards that show up with it."""
    from edgeq.boards import list_boards

    table: dict[str, list[str]] = {}
    for board in list_boards():
        for usb in board.usb_ids:
            table.setdefault(usb, []).append(board.id)
    return table


def serial_devices(config: FarmConfig, ports: list[Any], warnings: list[str]) -> list[Device]:
    """One Device per port that is a known board (by pin, or by a USB ID only one board has)."""
    table = usb_table()
    found = []
    ignored = {os.path.realpath(p) for p in config.ignore}
    for port in ports:
        if os.path.realpath(port.device) in ignored or port.vid is None:
            continue
        usb = f"{port.vid:04x}:{port.pid:04x}"
        pin = _pin_for(config.serial, port)
        board = pin.board if pin else _only(table.get(usb, []), usb, port.device, warnings)
        if board is None:
            continue
        sn = port.serial_number or None
        found.append(Device(f"{board}@{port.device}", board_resource(board), "serial", board, port.device, sn))
    seen = {os.path.realpath(d.port or "") for d in found} | {d.serial_number for d in found}
    for pin in config.serial:
        if (os.path.realpath(pin.port) if pin.port else pin.serial_number) not in seen:
            warnings.append(f"farm.yaml pins {pin.port or pin.serial_number} to {pin.board}, but no such port is here")
    return found


def _pin_for(pins: tuple[SerialPin, ...], port: Any) -> SerialPin | None:
    for pin in pins:
        if pin.port and os.path.realpath(pin.port) == os.path.realpath(port.device):  # /dev/serial/by-id/... too
            return pin
        if pin.serial_number and pin.serial_number == port.serial_number:
            return pin
    return None


def _only(boards: list[str], usb: str, device: str, warnings: list[str]) -> str | None:
    if len(boards) > 1:
        warnings.append(
            f"{device} ({usb}) may be any of {', '.join(boards)}; pin its port or serial number in farm.yaml"
        )
        return None
    return boards[0] if boards else None


def ssh_devices(ssh: SshBoard, warnings: list[str]) -> list[Device]:
    """The SSH board as its ``ssh://`` target and as one board of its id (one device, one lock)."""
    target = ssh.address if ssh.address.startswith("ssh://") else f"ssh://{ssh.address}"
    if ssh.fingerprint and ssh.fingerprint not in known_fingerprints(target):
        warnings.append(
            f"{target} is not offered: its host key in known_hosts does not have the fingerprint "
            f"{ssh.fingerprint} that farm.yaml gives (check it on the board, then ssh-keyscan it into known_hosts)"
        )
        return []
    return [
        Device(target, resource, target, ssh.board, fingerprint=ssh.fingerprint)
        for resource in (target_resource(target), board_resource(ssh.board))
    ]


def known_fingerprints(target: str) -> set[str]:
    """SHA256 fingerprints of the host keys known_hosts records for ``target`` (empty when none or no ssh-keygen)."""
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        return set()
    name = Endpoint.parse(target).known_hosts_name
    file = os.environ.get("EDGEQ_SSH_KNOWN_HOSTS") or os.path.expanduser("~/.ssh/known_hosts")
    found = procs.run([keygen, "-F", name, "-f", file], capture_output=True, text=True, timeout=10)
    keys = "".join(line + "\n" for line in found.stdout.splitlines() if line and not line.startswith("#"))
    if not keys:
        return set()
    listed = procs.run([keygen, "-lf", "-"], input=keys, capture_output=True, text=True, timeout=10)
    return {line.split()[1] for line in listed.stdout.splitlines() if len(line.split()) > 1}


def slot_devices(slots: dict[str, int], able: tuple[str, ...], warnings: list[str]) -> list[Device]:
    """``count`` slots of each emulated or host target, if this host has what the target needs."""
    emulated = ("qemu", "arm-gcc")  # the firmware is built on the host that runs it
    needs = {"qemu-m4": emulated, "qemu-m7": emulated, "qemu-m55": emulated, "host-c": ("cc",)}
    devices = []
    for target, count in slots.items():
        missing = [_tool(n) for n in needs.get(target, ()) if n not in able]
        if missing:
            warnings.append(f"{target} is not offered: this host lacks {' and '.join(missing)}")
            continue
        devices += [Device(f"{target}#{n}", target_resource(target), target) for n in range(count)]
    return devices


def _tool(ability: str) -> str:
    return {"qemu": "qemu-system-arm", "cc": "a C compiler", "arm-gcc": "arm-none-eabi-gcc"}.get(ability, ability)
