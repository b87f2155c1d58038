"""Offline arena planning over tensor lifetimes.

Every non-constant tensor gets an offset in one static arena. Reshape-like ops
make their output an alias of their input (one buffer, the union of both
lifetimes). An op that may write its output over its dying input
(engine.inplace) puts both in one buffer too, the output starting a fixed number
of bytes before the input, so a buffer holds each of its tensors at its own
start. Buffers are placed greedily, largest first, at the lowest offset
that overlaps no already-placed buffer alive at the same time (the same idea as
TFLM's greedy planner, done once at generation time). The lower bound is the
largest total size of buffers alive at the same time: no plan can be smaller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ALIGN = 16


def align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


@dataclass(frozen=True)
class Buffer:
    """One arena region: the tensors sharing it, its size and its lifetime (op indices, inclusive).

    ``starts``: the byte offset of each tensor inside the region (all 0 when empty).
    """

    tensors: tuple[int, ...]
    size: int
    first: int
    last: int
    starts: tuple[int, ...] = ()

    def start_of(self, tensor: int) -> int:
        return self.starts[self.tensors.index(tensor)] if self.starts else 0

    def overlaps(self, other: Buffer) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class ArenaPlan:
    """Tensor index -> byte offset in the arena, the arena size and its lower bound."""

    offsets: dict[int, int]
    arena_bytes: int
    lower_bound_bytes: int
    buffers: tuple[Buffer, ...]


def lifetimes(
    n_ops: int, uses: list[tuple[list[int], list[int]]], graph_inputs: list[int], graph_outputs: list[int]
) -> dict[int, tuple[int, int]]:
    """(first, last) op index of every tensor in ``uses`` (per op: inputs, outputs)."""
    span: dict[int, list[int]] = {}
    for index, (inputs, outputs) in enumerate(uses):
        for t in (*inputs, *outputs):
            first_last = span.setdefault(t, [index, index])
            first_last[0] = min(first_last[0], index)
            first_last[1] = max(first_last[1], index)
    for t in graph_inputs:
        span.setdefault(t, [0, 0])[0] = 0
    last = max(n_ops - 1, 0)  # a graph without ops (an output that is an input) still has one position
    for t in graph_outputs:
        span.setdefault(t, [last, last])[1] = last
    return {t: (a, b) for t, (a, b) in span.items()}


def group_aliases(
    spans: dict[int, tuple[int, int]],
    sizes: dict[int, int],
    aliases: list[tuple[int, int]],
    shifted: Sequence[tuple[int, int, int]] = (),
) -> list[Buffer]:
    """Merge (input, output) alias pairs into shared buffers; every other tensor gets its own.

    ``shifted``: (input, output, shift) triples whose output starts ``shift`` bytes (a multiple of
    ALIGN) before its input inside one buffer; a triple that contradicts the placements already made
    is left out.
    """
    parent = {t: t for t in spans}
    delta = dict.fromkeys(spans, 0)  # byte offset of a tensor from its parent's start

    def root(t: int) -> tuple[int, int]:
        offset = 0
        while parent[t] != t:
            offset += delta[t]
            t = parent[t]
        return t, offset

    def join(a: int, b: int, b_from_a: int) -> None:
        (ra, oa), (rb, ob) = root(a), root(b)
        if ra != rb:
            parent[rb], delta[rb] = ra, oa + b_from_a - ob

    for a, b in aliases:
        join(a, b, 0)
    for a, b, shift in shifted:
        join(a, b, -shift)
    groups: dict[int, list[tuple[int, int]]] = {}
    for t in spans:
        r, offset = root(t)
        groups.setdefault(r, []).append((t, offset))
    return [_buffer(sorted(members), spans, sizes) for members in groups.values()]


def _buffer(members: list[tuple[int, int]], spans: dict[int, tuple[int, int]], sizes: dict[int, int]) -> Buffer:
    low = min(offset for _, offset in members)
    starts = tuple(offset - low for _, offset in members)
    return Buffer(
        tuple(t for t, _ in members),
        align(max(start + sizes[t] for (t, _), start in zip(members, starts, strict=True))),
        min(spans[t][0] for t, _ in members),
        max(spans[t][1] for t, _ in members),
        starts if any(starts) else (),
    )


# Orders in which buffers are placed; the plan keeps the smallest arena any of them gives.
ORDERS = (
    lambda b: (-b.size, b.first, b.tensors),
    lambda b: (b.first, -b.size, b.tensors),
    lambda b: (-(b.size * (b.last - b.first + 1)), b.first, b.tensors),
    lambda b: (-(b.last - b.first), -b.size, b.tensors),
)


def plan(buffers: list[Buffer]) -> ArenaPlan:
    """Place ``buffers`` greedily in several orders; keep the smallest arena."""
    best: list[tuple[Buffer, int]] | None = None
    for order in ORDERS:
        placed = _place(sorted(buffers, key=order))
        if best is None or _extent(placed) < _extent(best):
            best = placed
    placed = best or []
    offsets = {t: o + b.start_of(t) for b, o in placed for t in b.tensors}
    return ArenaPlan(offsets, _extent(placed), lower_bound(buffers), tuple(b for b, _ in placed))


def _place(ordered: list[Buffer]) -> list[tuple[Buffer, int]]:
    placed: list[tuple[Buffer, int]] = []
    for buf in ordered:
        offset = _lowest_free(buf, [(b, o) for b, o in placed if b.overlaps(buf)])
        placed.append((buf, offset))
    return placed


def _extent(placed: list[tuple[Buffer, int]]) -> int:
    return max((o + b.size for b, o in placed), default=0)


def _lowest_free(buf: Buffer, busy: list[tuple[Buffer, int]]) -> int:
    offset = 0
    for other, start in sorted(busy, key=lambda p: p[1]):
        if offset + buf.size <= start:
            break
        offset = max(offset, start + other.size)
    return offset


def lower_bound(buffers: list[Buffer]) -> int:
    """Largest total size of buffers alive at one op index."""
    if not buffers:
        return 0
    last = max(b.last for b in buffers)
    return max(sum(b.size for b in buffers if b.first <= i <= b.last) for i in range(last + 1))
