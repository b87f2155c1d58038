"""Estimated cycles from exact executed-instruction counts and a core's cycle costs.

Every translated block the plugin counted (:mod:`edgeq.firmware.counts`) is a
straight run of instructions ending at a branch. Its cost is worked out once,
in order, with the rules of the core file (``edgeq/boards/cores/``): each
instruction's class cost, a single load or store pipelined behind a single
load, the stall of an address that the previous data-processing instruction
wrote, multiple loads and stores by their words, and, on dual-issue cores, a
second instruction issued beside the first. A block's runs that ended in a
taken branch add the branch's taken cost (with the pipeline refill). What the
rules leave out is said in docs/cycles.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from edgeq.boards.cores import CoreTiming
from edgeq.firmware.counts import BlockCounts
from edgeq.firmware.thumb import Insn

_SIMPLE = frozenset({"alu", "mul", "load", "store"})
_UNKNOWN = Insn("?", "alu")


@dataclass(frozen=True)
class Cost:
    """Instructions and estimated cycles (of one bucket, or one invoke)."""

    instructions: int
    cycles: float
    unknown: int = 0  # instructions not found in the disassembly (costed as one-cycle ALU instructions)

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.instructions + other.instructions, self.cycles + other.cycles, self.unknown + other.unknown)


def insn_cycles(insn: Insn, prev: Insn | None, timing: CoreTiming) -> float:
    """Cycles of ``insn`` after ``prev`` (its branch, if any, not taken)."""
    c = timing.cycles
    kind = insn.kind
    after_load = prev is not None and prev.kind == "load" and not (prev.writes & insn.address)
    if kind in ("load", "store", "load_double"):
        if kind == "load_double":
            cost = c["load_double"]
        elif kind == "load":
            cost = c["load_pipelined"] if after_load else c["load"]
        else:
            cost = (
                c["load_pipelined"]
                if after_load and insn.reg_offset
                else c["store_reg" if insn.reg_offset else "store_imm"]
            )
        if prev is not None and prev.kind in ("alu", "mul") and prev.writes & insn.address:
            cost += c["agu_stall"]
        return cost + (c["load_pc"] if insn.to_pc else 0.0)
    if kind == "multiple":
        words = math.ceil(insn.words / 2) if timing.multiple_per_two_words else insn.words
        return c["multiple_base"] + words + (c["load_pc"] if insn.to_pc else 0.0)
    if kind == "branch":
        return c["branch_not_taken"]
    if kind == "table_branch":
        return c["table_branch"] + c["refill"]
    if kind == "mve":
        overlapped = (
            prev is not None and prev.kind == "mve" and (prev.address == frozenset()) != (insn.address == frozenset())
        )
        return c.get("mve_overlapped" if overlapped else "mve", c["alu"])
    cost = c[kind]
    return cost + (c["branch_taken"] + c["refill"] - c["alu"] if insn.to_pc else 0.0)


def _pairs(first: Insn, second: Insn) -> bool:
    """Dual issue: two simple instructions, at most one memory access or multiply, no dependency."""
    if first.kind not in _SIMPLE or second.kind not in _SIMPLE or first.to_pc or second.to_pc:
        return False
    if first.kind != "alu" and second.kind != "alu":
        return False
    return not (first.writes & (second.reads | second.address))


def block_cycles(insns: Sequence[Insn], timing: CoreTiming) -> tuple[float, float]:
    """(cycles of one run with the last branch not taken, extra cycles when that branch is taken)."""
    total, prev, paired = 0.0, None, False
    for insn in insns:
        cost = insn_cycles(insn, prev, timing)
        if timing.dual_issue and prev is not None and not paired and _pairs(prev, insn):
            cost, paired = 0.0, True
        else:
            paired = False
        total += cost
        prev = insn
    last = insns[-1] if insns else None
    taken = 0.0
    if last is not None and last.kind == "branch":
        taken = timing["branch_taken"] + timing["refill"] - timing["branch_not_taken"]
    return total, taken


def bucket_costs(counts: BlockCounts, code: dict[int, Insn], timing: CoreTiming) -> dict[int, Cost]:
    """Instructions and estimated cycles per bucket (-1: outside the kernel calls), over every run counted."""
    per_block: dict[int, tuple[int, float, float, int]] = {}
    for block, addresses in counts.blocks.items():
        insns = [code.get(a, _UNKNOWN) for a in addresses]
        base, taken = block_cycles(insns, timing)
        per_block[block] = (len(insns), base, taken, sum(a not in code for a in addresses))
    out: dict[int, Cost] = {}
    for bucket, block, runs, taken_runs in counts.counts:
        n, base, taken, unknown = per_block[block]
        cost = Cost(n * runs, base * runs + taken * taken_runs, unknown * runs)
        out[bucket] = out[bucket] + cost if bucket in out else cost
    return out


__all__ = ["Cost", "block_cycles", "bucket_costs", "insn_cycles"]
