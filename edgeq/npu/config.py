"""Vela's accelerator configurations and the system configurations and memory modes of its ``vela.ini``.

The figures (NPU clock, memory ports) are not edgeq's: they are read from the
``vela.ini`` that ships inside the installed ``ethos-u-vela`` package
(``ethosu/config_files/Arm/vela.ini``), which is Arm's own description of
typical Ethos-U systems. edgeq only decides which of them belong to which
NPU:

- a system configuration belongs to the NPU family its section name carries
  (``System_Config.Ethos_U55_*`` to the Ethos-U55, ``Ethos_U65_*`` to the
  Ethos-U65, ``Ethos_U85_*`` to the Ethos-U85), as ``vela.ini``'s own comments
  describe them;
- the ``Dedicated_Sram*`` memory modes use the SRAM as a cache in front of a
  read-writeable external memory, which Arm's Ethos-U integration guide
  (CMSIS-Ethos-U, "FVP Ethos-U setup",
  https://arm-software.github.io/CMSIS-Ethos-U/main/integration/fvp-ethos-setup.html)
  lists for the Ethos-U65 and not for the Ethos-U55, so they are offered for
  the Ethos-U65 and Ethos-U85 only.

The defaults are Vela's own defaults when no configuration is named (Vela
5.2, ``ethosu/vela/architecture_features.py``): Ethos_U55_High_End_Embedded
with Shared_Sram for the Ethos-U55, Ethos_U65_Client_Server with
Dedicated_Sram_384KB for the Ethos-U65, Ethos_U85_SYS_DRAM_Mid with
Dedicated_Sram_384KB for the Ethos-U85. edgeq passes them explicitly, so the
report always names what the estimate assumed.
"""

from __future__ import annotations

import configparser
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from edgeq.errors import DependencyError, UsageError

# Vela's --accelerator-config values (vela --help, ethos-u-vela 5.2).
ACCELERATORS: tuple[str, ...] = (
    "ethos-u55-32",
    "ethos-u55-64",
    "ethos-u55-128",
    "ethos-u55-256",
    "ethos-u65-256",
    "ethos-u65-512",
    "ethos-u85-128",
    "ethos-u85-256",
    "ethos-u85-512",
    "ethos-u85-1024",
    "ethos-u85-2048",
)
INSTALL_HINT = "install Arm's Vela compiler with pip install 'edgeq[npu]' (the ethos-u-vela package)"
VELA_INI = ("config_files", "Arm", "vela.ini")  # inside the ethosu package
DEFAULTS = {  # family -> (system config, memory mode): Vela's own defaults (see the module docstring)
    "u55": ("Ethos_U55_High_End_Embedded", "Shared_Sram"),
    "u65": ("Ethos_U65_Client_Server", "Dedicated_Sram_384KB"),
    "u85": ("Ethos_U85_SYS_DRAM_Mid", "Dedicated_Sram_384KB"),
}
_SYSTEM = "System_Config."
_MODE = "Memory_Mode."


@dataclass(frozen=True)
class NpuConfig:
    """One accelerator with the system configuration and memory mode an estimate assumes.

    Attributes:
        accelerator: Vela's accelerator configuration, e.g. ``"ethos-u55-128"`` (MACs per cycle in the name).
        system_config: The ``vela.ini`` system configuration (NPU clock, memory ports and their speeds).
        memory_mode: The ``vela.ini`` memory mode (where weights, the tensor arena and the cache live).
        npu_clock_hz: The system configuration's ``core_clock``.
        ini: The ``vela.ini`` the values come from.
    """

    accelerator: str
    system_config: str
    memory_mode: str
    npu_clock_hz: int
    ini: Path


def family(accelerator: str) -> str:
    """``"u55"``, ``"u65"`` or ``"u85"`` for a known accelerator; UsageError listing them otherwise."""
    if accelerator not in ACCELERATORS:
        raise UsageError(f"unknown Ethos-U accelerator {accelerator!r}; accelerators: {', '.join(ACCELERATORS)}")
    return accelerator.split("-")[1]


def vela_ini() -> Path:
    """The ``vela.ini`` of the installed ethos-u-vela; DependencyError naming the extra when it is missing."""
    try:
        spec = importlib.util.find_spec("ethosu.vela")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError(f"Arm's Vela compiler is not installed; {INSTALL_HINT}")
    package = Path(next(iter(spec.submodule_search_locations))).parent
    ini = package.joinpath(*VELA_INI)
    if not ini.is_file():
        raise DependencyError(f"the installed Vela has no {ini}; reinstall it with pip install 'edgeq[npu]'")
    return ini


def _sections(ini: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(ini)
    return parser


def system_configs(accelerator: str, ini: Path | None = None) -> tuple[str, ...]:
    """The ``vela.ini`` system configurations for ``accelerator``'s NPU family, in file order."""
    prefix = f"Ethos_{family(accelerator).upper()}_"
    names = [s[len(_SYSTEM) :] for s in _sections(ini or vela_ini()).sections() if s.startswith(_SYSTEM)]
    return tuple(n for n in names if n.startswith(prefix))


def memory_modes(accelerator: str, ini: Path | None = None) -> tuple[str, ...]:
    """The ``vela.ini`` memory modes for ``accelerator`` (no ``Dedicated_Sram*`` for the Ethos-U55)."""
    u55 = family(accelerator) == "u55"
    names = [s[len(_MODE) :] for s in _sections(ini or vela_ini()).sections() if s.startswith(_MODE)]
    return tuple(n for n in names if not (u55 and n.startswith("Dedicated_Sram")))


def resolve(accelerator: str, system_config: str | None = None, memory_mode: str | None = None) -> NpuConfig:
    """The configuration an estimate uses: the given names checked against ``vela.ini``, or Vela's defaults.

    Raises:
        UsageError: Unknown accelerator, or a system configuration or memory mode that is not one of
            ``accelerator``'s (the message lists the valid ones).
        DependencyError: Vela is not installed.
    """
    default_system, default_mode = DEFAULTS[family(accelerator)]
    ini = vela_ini()
    system = system_config or default_system
    mode = memory_mode or default_mode
    systems, modes = system_configs(accelerator, ini), memory_modes(accelerator, ini)
    if system not in systems:
        raise UsageError(
            f"unknown system config {system!r} for {accelerator}; Vela's vela.ini has: {', '.join(systems)}"
        )
    if mode not in modes:
        raise UsageError(f"unknown memory mode {mode!r} for {accelerator}; Vela's vela.ini has: {', '.join(modes)}")
    clock = _sections(ini).get(_SYSTEM + system, "core_clock", fallback=None)
    if clock is None:
        raise UsageError(f"system config {system} in {ini} has no core_clock; choose another system config")
    return NpuConfig(accelerator, system, mode, int(float(clock)), ini)
