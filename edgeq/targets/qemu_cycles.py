"""Per-op instructions and estimated cycles of the engine firmware on an emulated board.

The firmware built for an emulated board brackets every kernel call with
``eq_op_begin``/``eq_op_end``; edgeq's QEMU plugin counts, per call, how often
each translated block ran (:mod:`edgeq.firmware.counts`), and the core's cycle
costs turn the blocks into cycles (:mod:`edgeq.firmware.cycles`). The counts
cover every invoke of the session (warm-ups too); all invokes of one sample run
the same instructions, so they are divided by the number of invokes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgeq.boards.cores import CoreTiming, load_core_timing
from edgeq.errors import EdgeqError
from edgeq.firmware.counts import BlockCounts
from edgeq.firmware.cycles import Cost, bucket_costs
from edgeq.firmware.thumb import disassemble
from edgeq.measurements import Cycles, OpTime
from edgeq.model.analysis import op_macs
from edgeq.model.graph import Graph

_OP = re.compile(r"\bop (\d+)")


@dataclass(frozen=True)
class CycleEstimate:
    """Estimated cycles of one invoke and the figures of every kernel call."""

    cycles: Cycles
    ops: tuple[OpTime, ...]


def estimate_cycles(
    counts: BlockCounts,
    elf: Path,
    calls: list[tuple[int, int, str]],
    graph: Graph,
    core: str,
    invoke_instructions: int,
    clock_hz: float,
    clock_name: str,
    timing: CoreTiming | None = None,
) -> CycleEstimate:
    """Cycles per invoke and per kernel call; ``invoke_instructions`` is the exact count of one invoke.

    Instructions of the invoke outside the kernel calls (the call sequence and the hooks) are costed
    at one cycle each. ``timing`` replaces the core file's costs (to try other assumptions).
    """
    timing = timing or load_core_timing(core)
    costs = bucket_costs(counts, disassemble(elf), timing)
    invokes = counts.calls // len(calls)
    if invokes == 0 or counts.calls % len(calls):
        raise EdgeqError(
            f"the QEMU plugin saw {counts.calls} kernel calls, not a multiple of the engine's {len(calls)} per invoke"
        )
    source = (
        f"instructions counted per block by edgeq's QEMU plugin, costed with {timing.source} "
        f"(zero wait states), over {invokes} invokes; / {clock_name}"
    )
    ops = []
    for position, op_index, text in calls:
        cost = costs.get(position, Cost(0, 0.0))
        cycles = cost.cycles / invokes
        us = cycles / clock_hz * 1e6
        name = graph.operators[op_index].builtin if 0 <= op_index < len(graph.operators) else text
        steps = {op_index, *(int(i) for i in _OP.findall(text))}
        macs = sum(op_macs(graph, graph.operators[i]) for i in steps if 0 <= i < len(graph.operators))
        instructions = round(cost.instructions / invokes)
        detail = "" if text == name else text
        ops.append(OpTime(position, op_index, name, us, us, source, detail, instructions, cycles, macs))
    inside = sum(o.instructions or 0 for o in ops)
    outside = max(invoke_instructions - inside, 0)
    total = sum(o.cycles or 0.0 for o in ops) + outside * timing["alu"]
    unknown = sum(c.unknown for c in costs.values())
    what = (
        f"{inside:,} instructions in kernel calls counted per block by edgeq's QEMU plugin and costed with "
        f"{timing.source} (zero wait states); {outside:,} outside them (call sequence, hooks) at 1 cycle each"
    )
    if unknown:
        what += f"; {unknown:,} counted instructions were not in the disassembly (costed at 1 cycle)"
    return CycleEstimate(Cycles(total, "estimated", what), tuple(ops))


__all__ = ["CycleEstimate", "estimate_cycles"]
