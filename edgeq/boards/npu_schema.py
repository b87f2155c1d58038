"""The ``npu:`` section of a board file: an Arm Ethos-U NPU beside the CPU, and the memories it reaches.

Like the rest of the board schema (:mod:`edgeq.boards.schema`), each dataclass
checks its fields in ``__post_init__``, so a bad section fails on load naming
``npu.<field>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from edgeq.boards.rules import BoardFileError, Rules, check, validate

# Vela's --accelerator-config values for the NPUs a board file may name (ethos-u-vela 5.2).
NPU_ACCELERATORS = {
    "ethos-u55": ("ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256"),
    "ethos-u65": ("ethos-u65-256", "ethos-u65-512"),
    "ethos-u85": tuple(f"ethos-u85-{n}" for n in (128, 256, 512, 1024, 2048)),
}


@dataclass(frozen=True)
class NpuMemory:
    """A memory the NPU reaches over its AXI ports; ``holds`` says what a project places there.

    ``holds``: "arena" (TFLM's tensor arena, which holds Vela's scratch tensors), "model" (the
    compiled model: command stream and weights), "arena+model", or "fast" (the fast memory of
    Vela's Dedicated_Sram mode, given to ``ethosu_init``).
    """

    name: str
    size: int
    holds: str
    base: int | None = None
    RULES: ClassVar[Rules] = {"name": "text", "size": "count", "holds": ("arena", "model", "arena+model", "fast")}
    RULES.update(base="address?")

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class NpuSpec:
    """An Arm Ethos-U NPU: Vela's configuration for it, and what the driver needs (register base, IRQ).

    ``sources`` maps each field that has a value to where it comes from (as ``Board.sources`` does);
    a figure that could not be found is left out (None) and the board's ``notes`` say so.
    ``vela_config_file`` names the vendor's Vela .ini that defines ``system_config`` and
    ``memory_mode`` when they are not those of Vela's own ``Arm/vela.ini``.
    """

    model: str
    accelerator: str
    sources: dict[str, str] = field(hash=False)
    clock_hz: int | None = None
    base_address: int | None = None
    irq: int | None = None
    irq_vector: str | None = None  # the interrupt's handler name in the SoC's startup code (vector table)
    system_config: str | None = None
    memory_mode: str | None = None
    vela_config_file: str | None = None
    memories: tuple[NpuMemory, ...] = ()
    RULES: ClassVar[Rules] = {"model": tuple(NPU_ACCELERATORS), "clock_hz": "count?", "base_address": "address?"}
    RULES.update(system_config="text?", memory_mode="text?", vela_config_file="text?", irq_vector="text?")

    def __post_init__(self) -> None:
        memories = [m if isinstance(m, NpuMemory) else _npu_memory(m, n) for n, m in enumerate(self.memories or ())]
        object.__setattr__(self, "memories", tuple(memories))
        validate(self)
        allowed = NPU_ACCELERATORS[self.model]
        check(
            self.accelerator in allowed, "accelerator", f"is {self.accelerator!r}; {self.model}: {', '.join(allowed)}"
        )
        check(self.irq is None or (isinstance(self.irq, int) and 0 <= self.irq < 1024), "irq", f"bad {self.irq!r}")
        ident = self.irq_vector is None or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.irq_vector)
        check(bool(ident), "irq_vector", f"must be a C identifier, got {self.irq_vector!r}")
        check(isinstance(self.sources, dict), "sources", "must map npu field names to text")
        known = {f.name for f in fields(self)} - {"sources"}
        for key, text in self.sources.items():
            check(key in known, "sources", f"{key!r} is not an npu field")
            check(isinstance(text, str) and bool(text.strip()), f"sources.{key}", "must be non-empty text")
        missing = [n for n in sorted(known) if getattr(self, n) not in (None, ()) and n not in self.sources]
        check(not missing, "sources", f"no source for {', '.join(missing)}")

    @property
    def macs(self) -> int:
        """MACs per cycle, the number at the end of the accelerator config (ethos-u55-128 -> 128)."""
        return int(self.accelerator.rsplit("-", 1)[1])


def npu_from_dict(data: Any) -> NpuSpec:
    """The ``npu:`` block of a board file as an :class:`NpuSpec` (errors name ``npu.<field>``)."""
    check(isinstance(data, dict), "npu", f"must be a mapping, got {type(data).__name__}")
    known = [f.name for f in fields(NpuSpec)]
    unknown = [key for key in data if key not in known]
    check(not unknown, "npu", f"unknown field {unknown[0]!r} (known: {', '.join(known)})" if unknown else "")
    missing = [name for name in ("model", "accelerator", "sources") if name not in data]
    check(not missing, "npu", f"missing field {missing[0]!r}" if missing else "")
    try:
        return NpuSpec(**data)
    except BoardFileError as exc:
        raise BoardFileError(f"npu.{exc}") from None


def _npu_memory(data: Any, n: int) -> NpuMemory:
    check(isinstance(data, dict), f"memories[{n}]", "must be a mapping")
    try:
        return NpuMemory(**data)
    except TypeError as exc:
        raise BoardFileError(f"memories[{n}]: {exc}") from None
    except BoardFileError as exc:
        raise BoardFileError(f"memories[{n}].{exc}") from None
