"""What a Vela compilation reports: each op's placement, memory, and Vela's performance estimate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLACEMENTS = ("npu", "cpu")
ESTIMATE_NOTE = (
    "sram, flash, cycles, latency and bandwidth are Vela's estimates for the named system configuration, "
    "not measurements: no Ethos-U simulator or board was run; Vela estimates the NPU's work only, "
    "so the time of CPU ops is not included"
)


@dataclass(frozen=True)
class NpuOp:
    """Where one operator of the input model runs after Vela.

    Attributes:
        index: The operator's position in the input model.
        op: Builtin name (or custom code).
        placement: ``"npu"`` (inside one of Vela's ``ethos-u`` command streams) or ``"cpu"`` (left to TFLM).
        reason: Why it stays on the CPU, one sentence (None on the NPU).
    """

    index: int
    op: str
    placement: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"index": self.index, "op": self.op, "placement": self.placement, "reason": self.reason}


@dataclass(frozen=True)
class NpuCompilation:
    """A model compiled by Vela for one Ethos-U configuration.

    Attributes:
        accelerator: Vela's accelerator configuration, e.g. ``"ethos-u55-128"``.
        system_config: The ``vela.ini`` system configuration the estimate assumes.
        memory_mode: The ``vela.ini`` memory mode the estimate assumes.
        npu_clock_hz: The system configuration's NPU clock.
        ops: Every op of the input model with its placement, in the input's order.
        sram_bytes: Vela's "Total SRAM used".
        flash_bytes: Vela's "Total <flash_area> used": where the weights live (Off-chip Flash, On-chip
            Flash or DRAM, by memory mode).
        npu_cycles: Vela's estimated cycles per inference (its ``cycles_total``: compute and memory access).
        latency_s: Vela's estimated time per inference, ``npu_cycles / npu_clock_hz``.
        macs: Vela's count of multiply-accumulates (pooling windows and copies count too).
        macs_per_cycle: ``macs / npu_cycles``.
        bandwidth: Bytes per inference moved to and from each memory area Vela uses.
        compiled: The compiled ``.tflite`` (``ethos-u`` custom ops in place of the NPU's ops).
        flash_area: The name Vela gives the memory of ``flash_bytes``.
        vela_version: The Vela that compiled it.
        notes: Remarks on the compilation (Vela warnings that did not keep an op on the CPU).
        macs_by_op: Vela's MAC count summed by the input operator type it came from (Vela's names, e.g.
            ``Conv2D``, ``AvgPool``): how ``macs`` is made up.
    """

    accelerator: str
    system_config: str
    memory_mode: str
    npu_clock_hz: int
    ops: tuple[NpuOp, ...]
    sram_bytes: int
    flash_bytes: int
    npu_cycles: int
    latency_s: float
    macs: int
    macs_per_cycle: float
    bandwidth: dict[str, float]
    compiled: bytes = field(repr=False)
    flash_area: str = "Off-chip Flash"
    vela_version: str = ""
    notes: tuple[str, ...] = ()
    macs_by_op: dict[str, int] = field(default_factory=dict)

    @property
    def cpu_ops(self) -> tuple[NpuOp, ...]:
        """The ops left on the CPU, in order."""
        return tuple(op for op in self.ops if op.placement == "cpu")

    @property
    def npu_count(self) -> int:
        """Number of input ops Vela placed on the NPU."""
        return len(self.ops) - len(self.cpu_ops)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (without the compiled bytes); its keys are relied on by other tooling."""
        return {
            "accelerator": self.accelerator,
            "system_config": self.system_config,
            "memory_mode": self.memory_mode,
            "npu_clock_hz": self.npu_clock_hz,
            "vela_version": self.vela_version,
            "npu_ops": self.npu_count,
            "cpu_ops": len(self.cpu_ops),
            "ops": [op.to_dict() for op in self.ops],
            "sram_bytes": self.sram_bytes,
            "flash_bytes": self.flash_bytes,
            "flash_area": self.flash_area,
            "npu_cycles": self.npu_cycles,
            "latency_s": self.latency_s,
            "macs": self.macs,
            "macs_per_cycle": self.macs_per_cycle,
            "macs_by_op": dict(self.macs_by_op),
            "bandwidth_bytes": dict(self.bandwidth),
            "estimated": True,
            "estimate_source": f"Vela {self.vela_version} performance estimator".replace("  ", " "),
            "estimate_note": ESTIMATE_NOTE,
            "compiled_bytes": len(self.compiled),
            "notes": list(self.notes),
        }
