"""``ethos-u55-32`` ... ``ethos-u85-2048``: an Arm Ethos-U NPU, profiled by Vela's performance estimator.

Nothing runs: no Ethos-U simulator (Arm's FVPs are not in any package
registry) or board is driven from here. The model is compiled by Vela
(:mod:`edgeq.npu`) for the accelerator the target is named after, with Vela's
default system configuration and memory mode for it, and the profile is
Vela's estimate: cycles per inference at the configuration's NPU clock, the
SRAM and flash (or DRAM) it uses. Every figure is labelled estimated and says
so in its source; ops Vela leaves on the CPU are named, their time is not in
the estimate. ``edgeq run`` cannot use these targets: host-tflm gives the
outputs TFLM (which runs Vela's output on a real board) computes.
"""

from __future__ import annotations

import numpy as np

from edgeq.errors import UnsupportedError
from edgeq.measurements import Cycles, Memory, Timing
from edgeq.npu import ACCELERATORS, NpuCompilation, compile_model
from edgeq.targets.base import Capabilities

NAMES = ACCELERATORS
CAPABILITIES = Capabilities(
    summary="an Arm Ethos-U NPU: Vela's performance estimate (nothing runs; pip install 'edgeq[npu]')",
    no_op_times=(
        "nothing runs on an Ethos-U here: Vela estimates the cycles of its NPU command streams as a whole "
        "(fused and cascaded ops overlap), not the time of each op of the model"
    ),
)
NO_ENERGY = (
    "no energy figure: edgeq has no sourced power figure for an Ethos-U NPU in a given system, so none is estimated"
)


class EthosUTarget:
    """One Ethos-U accelerator configuration (Vela's ``--accelerator-config``)."""

    capabilities = CAPABILITIES

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Not possible: nothing here executes an Ethos-U command stream."""
        raise UnsupportedError(
            f"{self.name} cannot run models here (no Ethos-U simulator or board); use --target host-tflm for outputs"
        )

    def profile(self, model: bytes, sample: list[np.ndarray], runs: int, warmup: int, threads: int = 1) -> Timing:
        """Vela's estimate for one inference, repeated ``runs`` times (it does not depend on the sample)."""
        compilation = compile_model(model, self.name)
        if compilation.npu_count == 0:
            raise UnsupportedError(
                f"Vela put no op of the model on {self.name}, so there is no NPU estimate; "
                f"`edgeq compile MODEL --npu {self.name} -o OUT.tflite` shows why each op stays on the CPU"
            )
        source = estimate_source(compilation)
        return Timing(
            (compilation.latency_s * 1e3,) * runs,
            latency_kind="estimated",
            latency_source=source,
            memory=Memory(ram_bytes=compilation.sram_bytes, flash_bytes=compilation.flash_bytes),
            notes=_notes(compilation),
            cycles=Cycles(float(compilation.npu_cycles), "estimated", source),
        )


def estimate_source(c: NpuCompilation) -> str:
    """How the latency was obtained, naming the configuration, that nothing ran, and the ops it leaves out."""
    text = (
        f"Vela's performance estimate for {c.accelerator} at {c.npu_clock_hz / 1e6:g} MHz "
        f"({c.system_config}, {c.memory_mode}); not measured: no Ethos-U simulator or board was run"
    )
    if c.cpu_ops:
        names = ", ".join(f"{op.index} {op.op}" for op in c.cpu_ops)
        text += f"; the time of the CPU ops is not included (Vela estimates only NPU work): {names}"
    return text


def _notes(c: NpuCompilation) -> tuple[str, ...]:
    notes = [
        f"Vela {c.vela_version}: {c.npu_count} of {len(c.ops)} ops on the NPU, {c.npu_cycles:,} cycles, "
        f"{c.macs:,} MACs ({c.macs_per_cycle:.3g} per cycle)",
        f"memory: SRAM {c.sram_bytes:,} B, {c.flash_area} {c.flash_bytes:,} B (Vela's totals; RAM column = SRAM)",
        "every run has the same estimate, so the spread is 0",
        NO_ENERGY,
    ]
    notes += [f"CPU op {op.index} {op.op}: {op.reason}" for op in c.cpu_ops]
    return tuple(notes)


def make_target(name: str) -> EthosUTarget:
    """The Ethos-U target called ``name`` (one of Vela's accelerator configurations); no options."""
    return EthosUTarget(name)
