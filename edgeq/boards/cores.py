"""Per-core cycle costs: one YAML file per Cortex-M core in ``edgeq/boards/cores/``.

A core file gives the cycles each class of instruction takes (zero wait states),
the pipeline refill after a taken branch, whether the core dual-issues, and the
manual every figure comes from. :mod:`edgeq.firmware.cycles` turns executed
instruction counts into estimated cycles with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from edgeq.errors import UsageError
from edgeq.resources import package_dir

CLASSES = (
    "alu mul div load load_pipelined store_imm store_reg load_double multiple_base agu_stall branch_not_taken "
    "refill branch_taken load_pc table_branch fp fp_mac fp_div fp_load barrier"
).split()


@dataclass(frozen=True)
class CoreTiming:
    """The cycle costs of one core (see the module docstring); ``sources`` says where they come from."""

    core: str
    cycles: dict[str, float]
    dual_issue: bool
    multiple_per_two_words: bool
    sources: dict[str, str]
    path: Path

    def __getitem__(self, name: str) -> float:
        return self.cycles[name]

    @property
    def source(self) -> str:
        """One line naming the file the costs come from."""
        return f"edgeq/boards/cores/{self.path.name}"


def cores_dir() -> Path:
    """The folder of the core files (package data of edgeq.boards)."""
    return package_dir("edgeq.boards", "cores")


@cache
def load_core_timing(core: str) -> CoreTiming:
    """The cycle costs of ``core`` (``cortex-m4``, ``cortex-m4f``, ``cortex-m7``, ``cortex-m55``)."""
    name = core.removesuffix("f") if core.endswith("m4f") else core
    path = cores_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in cores_dir().glob("*.yaml")))
        raise UsageError(f"no cycle costs for core {core!r}; cores with costs: {known}")
    raw: dict[str, Any] = yaml.safe_load(path.read_text())
    cycles = {k: float(v) for k, v in raw["cycles"].items() if not isinstance(v, bool)}
    missing = [c for c in CLASSES if c not in cycles]
    if missing:
        raise UsageError(f"{path} lacks the cycle costs of {', '.join(missing)}")
    return CoreTiming(
        core=raw["core"],
        cycles=cycles,
        dual_issue=raw.get("issue") == "dual",
        multiple_per_two_words=bool(raw["cycles"].get("multiple_per_two_words", False)),
        sources=dict(raw.get("sources", {})),
        path=path,
    )


__all__ = ["CLASSES", "CoreTiming", "cores_dir", "load_core_timing"]
