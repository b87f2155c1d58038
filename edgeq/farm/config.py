"""``farm.yaml``: what one host of a farm offers beyond what it finds by itself.

.. code-block:: yaml

    node_ip: 10.0.0.12            # the private address this host joins with (or --node-ip)
    num_cpus: 4                   # Ray CPUs of this host (default: all); each job takes one
    serial:                       # pins: a port or probe serial number -> board id
      - {board: nucleo-l4r5zi, serial_number: 066DFF485550755187121723}
      - {board: nucleo-h7a3zi-q, port: /dev/ttyACM1}
    ignore: [/dev/ttyACM3]        # ports never offered
    ssh:                          # Linux boards this host reaches over SSH
      - {address: pi@10.0.0.7, board: rpi5, fingerprint: "SHA256:3q2+7w..."}
    qemu: {qemu-m4: 2, qemu-m55: 1}   # emulated boards: slots per target
    host: {host-c: 2}             # host targets: slots per target

Every key is optional; a bad file is a one-line UsageError naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from edgeq.errors import UsageError

QEMU_TARGETS = ("qemu-m4", "qemu-m7", "qemu-m55")
HOST_TARGETS = ("host", "host-c", "host-tflm")
KEYS = ("node_ip", "num_cpus", "serial", "ignore", "ssh", "qemu", "host")


@dataclass(frozen=True)
class SerialPin:
    """A board id for the port or probe serial number a board shows up as."""

    board: str
    port: str | None = None
    serial_number: str | None = None


@dataclass(frozen=True)
class SshBoard:
    """A Linux board reached over SSH: ``user@host[:port]``, its board id and host key fingerprint."""

    address: str
    board: str
    fingerprint: str | None = None


@dataclass(frozen=True)
class FarmConfig:
    node_ip: str | None = None
    num_cpus: int | None = None
    serial: tuple[SerialPin, ...] = ()
    ignore: tuple[str, ...] = ()
    ssh: tuple[SshBoard, ...] = ()
    slots: dict[str, int] = field(default_factory=dict)  # target -> count (qemu and host targets)


def load_config(path: str | Path | None) -> FarmConfig:
    """The farm.yaml at ``path`` (an empty config for None)."""
    if path is None:
        return FarmConfig()
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a mapping of {', '.join(KEYS)}")
    return parse_config(data, str(path))


def parse_config(data: dict[str, Any], where: str = "farm.yaml") -> FarmConfig:
    """A FarmConfig from the mapping of a farm.yaml; UsageError naming the bad key."""
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; keys: {', '.join(KEYS)}")
    slots = {**_counts(data.get("qemu"), QEMU_TARGETS, f"{where}: qemu")}
    slots.update(_counts(data.get("host"), HOST_TARGETS, f"{where}: host"))
    cpus = data.get("num_cpus")
    if cpus is not None and (not isinstance(cpus, int) or isinstance(cpus, bool) or cpus < 1):
        raise UsageError(f"{where}: num_cpus must be a whole number >= 1, got {cpus!r}")
    return FarmConfig(
        node_ip=_text(data.get("node_ip"), f"{where}: node_ip"),
        num_cpus=cpus,
        serial=tuple(_items(data.get("serial"), SerialPin, ("board",), f"{where}: serial")),
        ignore=tuple(str(p) for p in _list(data.get("ignore"), f"{where}: ignore")),
        ssh=tuple(_items(data.get("ssh"), SshBoard, ("address", "board"), f"{where}: ssh")),
        slots=slots,
    )


def _text(value: Any, what: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UsageError(f"{what} must be text, got {value!r}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"{what} must be a list, got {value!r}")
    return value


def _items(value: Any, cls: type, required: tuple[str, ...], what: str) -> list[Any]:
    items = []
    names = {f.name for f in fields(cls)}
    for n, item in enumerate(_list(value, what)):
        if not isinstance(item, dict) or set(item) - names or any(not item.get(k) for k in required):
            raise UsageError(f"{what}[{n}] must be a mapping with {', '.join(required)} (keys: {', '.join(names)})")
        items.append(cls(**{k: str(v) for k, v in item.items() if v is not None}))
    for n, pin in enumerate(items):
        if cls is SerialPin and not (pin.port or pin.serial_number):
            raise UsageError(f"{what}[{n}] must name a port or a serial_number for board {pin.board}")
    return items


def _counts(value: Any, allowed: tuple[str, ...], what: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{what} must map targets to counts, e.g. {{{allowed[0]}: 2}}")
    for target, count in value.items():
        if target not in allowed:
            raise UsageError(f"{what}: unknown target {target!r}; one of {', '.join(allowed)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise UsageError(f"{what}: {target} must be a whole number of slots, got {count!r}")
    return {str(t): int(c) for t, c in value.items() if c}
