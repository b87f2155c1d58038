"""The ``--energy-monitor`` option: ``KIND[:TARGET][,KEY=VALUE...]`` to a power monitor.

Examples::

    pi5-pmic
    ina226:/dev/i2c-1@0x40,shunt=0.1
    ina219:1@0x41,shunt=0.1,max_current=2
    lpm01a:/dev/ttyACM1,volt=3.0,freq=1k
    ppk2:/dev/ttyACM2,volt=3.3,mode=source,edge=d0
    joulescope,edge=gpi0

Building a monitor does not touch the hardware; ``open``/``start`` do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgeq.energy.ina import CHIPS, InaMonitor
from edgeq.energy.joulescope_js import JoulescopeMonitor
from edgeq.energy.lpm01a import Lpm01aMonitor
from edgeq.energy.pi5_pmic import Pi5PmicMonitor
from edgeq.energy.ppk2 import Ppk2Monitor
from edgeq.energy.types import PowerMonitor
from edgeq.errors import UsageError

EXAMPLES = (
    "pi5-pmic",
    "ina226:/dev/i2c-1@0x40,shunt=0.1",
    "ina219:/dev/i2c-1@0x40,shunt=0.1",
    "lpm01a:/dev/ttyACM1",
    "ppk2:/dev/ttyACM2",
    "joulescope",
)


@dataclass(frozen=True)
class MonitorSpec:
    """A parsed ``--energy-monitor`` value."""

    kind: str
    target: str | None
    options: tuple[tuple[str, str], ...] = ()

    def option(self, key: str, default: str | None = None) -> str | None:
        return dict(self.options).get(key, default)


def _opt_float(spec: MonitorSpec, key: str) -> float | None:
    text = spec.option(key)
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"energy monitor {spec.kind}: {key}={text!r} is not a number") from None


def _float(spec: MonitorSpec, key: str, default: float) -> float:
    value = _opt_float(spec, key)
    return default if value is None else value


def _choice(spec: MonitorSpec, key: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    text = spec.option(key, default)
    if text is not None and text not in allowed:
        raise UsageError(f"energy monitor {spec.kind}: {key}={text!r}; allowed: {', '.join(allowed)}")
    return text


def _i2c_target(spec: MonitorSpec) -> tuple[str, int]:
    bus, _, addr = (spec.target or "").partition("@")
    bus = f"/dev/i2c-{bus}" if bus.isdigit() else bus
    try:
        address = int(addr, 0) if addr else 0x40
    except ValueError:
        raise UsageError(f"energy monitor {spec.kind}: I2C address {addr!r}; write it like 0x40") from None
    return bus, address


def _ina(spec: MonitorSpec) -> PowerMonitor:
    bus, address = _i2c_target(spec)
    shunt = _opt_float(spec, "shunt")
    if shunt is None:
        raise UsageError(
            f"energy monitor {spec.kind} needs the shunt resistor in ohm, e.g. {spec.kind}:{bus},shunt=0.1"
        )
    max_current = _opt_float(spec, "max_current")
    return InaMonitor(CHIPS[spec.kind], bus, address, shunt, max_current, interval_s=_float(spec, "interval", 0.002))


def _pmic(spec: MonitorSpec) -> PowerMonitor:
    return Pi5PmicMonitor(interval_s=_float(spec, "interval", 0.0))


def _lpm01a(spec: MonitorSpec) -> PowerMonitor:
    return Lpm01aMonitor(
        spec.target or "",
        voltage_v=_float(spec, "volt", 3.3),
        freq=spec.option("freq", "1k") or "1k",
        trigger=_choice(spec, "trigger", ("sw", "d7"), "sw") or "sw",
        events=_choice(spec, "events", ("yes", "no"), "yes") == "yes",
    )


def _edge_channel(spec: MonitorSpec) -> int | None:
    edge = _choice(spec, "edge", tuple(f"d{n}" for n in range(8)), None)
    return None if edge is None else int(edge[1])


def _ppk2(spec: MonitorSpec) -> PowerMonitor:
    mode = _choice(spec, "mode", ("source", "ampere"), "source") or "source"
    return Ppk2Monitor(spec.target or "", _float(spec, "volt", 3.3), mode, _edge_channel(spec))


def _joulescope(spec: MonitorSpec) -> PowerMonitor:
    freq = _opt_float(spec, "freq")
    edge = _choice(spec, "edge", ("gpi0", "gpi1"), None)
    return JoulescopeMonitor(None if freq is None else int(freq), edge, int(_float(spec, "buffer", 30.0)))


@dataclass(frozen=True)
class _Kind:
    build: Callable[[MonitorSpec], PowerMonitor]
    target: str | None  # what TARGET is, or None when the kind takes none
    options: tuple[str, ...]


KINDS: dict[str, _Kind] = {
    "pi5-pmic": _Kind(_pmic, None, ("interval",)),
    "ina226": _Kind(_ina, "an I2C bus and address, e.g. /dev/i2c-1@0x40", ("shunt", "max_current", "interval")),
    "ina219": _Kind(_ina, "an I2C bus and address, e.g. /dev/i2c-1@0x40", ("shunt", "max_current", "interval")),
    "lpm01a": _Kind(_lpm01a, "a serial port, e.g. /dev/ttyACM1", ("volt", "freq", "trigger", "events")),
    "ppk2": _Kind(_ppk2, "a serial port, e.g. /dev/ttyACM2", ("volt", "mode", "edge")),
    "joulescope": _Kind(_joulescope, None, ("freq", "edge", "buffer")),
}
MONITOR_KINDS = tuple(KINDS)


def parse_monitor_spec(value: str) -> MonitorSpec:
    """Parse and check an ``--energy-monitor`` value (building the monitor once, without hardware).

    Raises:
        UsageError: Unknown kind (the message lists the kinds), missing or extra target, unknown option, bad value.
    """
    head, *pairs = [part.strip() for part in value.strip().split(",")]
    kind, colon, target = head.partition(":")
    if kind not in KINDS:
        raise UsageError(
            f"unknown energy monitor {kind or value!r}; kinds: {', '.join(MONITOR_KINDS)} (e.g. {', '.join(EXAMPLES)})"
        )
    info = KINDS[kind]
    if info.target is None and colon:
        raise UsageError(f"energy monitor {kind} takes no ':{target}' part")
    if info.target is not None and not target:
        raise UsageError(f"energy monitor {kind} needs {info.target}: {kind}:TARGET")
    options = []
    for pair in pairs:
        key, eq, text = pair.partition("=")
        if not eq or key not in info.options:
            allowed = ", ".join(f"{k}=" for k in info.options)
            raise UsageError(f"energy monitor {kind}: unknown option {pair!r}; allowed: {allowed}")
        options.append((key, text))
    spec = MonitorSpec(kind, target or None, tuple(options))
    info.build(spec)
    return spec


def create_monitor(spec: MonitorSpec | str) -> PowerMonitor:
    """The monitor for a spec or an ``--energy-monitor`` value; the hardware is opened later by ``open``/``start``."""
    if isinstance(spec, str):
        spec = parse_monitor_spec(spec)
    return KINDS[spec.kind].build(spec)
