"""The offline arena planner: no two live tensors overlap, aliases share, the bound holds."""

from __future__ import annotations

import itertools
import random

from edgeq.codegen.engine.planner import Buffer, group_aliases, lifetimes, lower_bound, plan


def _check_no_overlap(result):
    placed = [(b, result.offsets[b.tensors[0]]) for b in result.buffers]
    for (a, oa), (b, ob) in itertools.combinations(placed, 2):
        if a.overlaps(b):
            assert oa + a.size <= ob or ob + b.size <= oa, (a, oa, b, ob)


def test_chain_reuses_memory():
    # t0 -> op0 -> t1 -> op1 -> t2 -> op2 -> t3: at most two tensors alive at once.
    spans = lifetimes(3, [([0], [1]), ([1], [2]), ([2], [3])], [0], [3])
    sizes = {0: 100, 1: 200, 2: 100, 3: 50}
    result = plan(group_aliases(spans, sizes, []))
    _check_no_overlap(result)
    assert result.lower_bound_bytes == 112 + 208  # aligned to 16
    assert result.arena_bytes == result.lower_bound_bytes


def test_alias_shares_one_buffer():
    spans = lifetimes(2, [([0], [1]), ([1], [2])], [0], [2])
    buffers = group_aliases(spans, {0: 64, 1: 64, 2: 32}, [(0, 1)])
    result = plan(buffers)
    assert result.offsets[0] == result.offsets[1]
    _check_no_overlap(result)


def test_random_graphs_never_overlap_and_respect_the_bound():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 12)
        buffers = []
        for t in range(n):
            first = rng.randint(0, 10)
            buffers.append(Buffer((t,), 16 * rng.randint(1, 20), first, first + rng.randint(0, 5)))
        result = plan(buffers)
        _check_no_overlap(result)
        assert result.arena_bytes >= lower_bound(buffers) == result.lower_bound_bytes


def test_residual_adds_run_in_place(tmp_path):
    """ResNet-8: every CONV_2D+ADD pair fuses, so no block keeps three 16 KB tensors alive.

    The peak is two 16 KB tensors plus the scratch of the 3x3x16 conv between them: four int16
    columns of 144 taps (eight would grow the arena, so that conv runs blocks of four).
    """
    from edgeq.codegen import generate
    from tests.conftest import FIXTURES

    report = generate(FIXTURES / "zoo" / "ic_resnet8" / "int8.tflite", "engine", tmp_path, name="net")
    assert "CONV_2D+ADD" in report.ops and "ADD" not in report.ops
    assert report.arena_bytes == report.arena_lower_bound_bytes == 2 * 32 * 32 * 16 + 4 * 2 * 144
    assert "eq_conv2d_add_s8" in (tmp_path / "net.c").read_text()


def test_kernel_scratch_regions_are_planned_buffers():
    """Each conv / FC scratch region is a buffer alive during its op, placed and counted (depthwise needs none)."""
    from edgeq.codegen.engine.analyze import analyze
    from edgeq.codegen.engine.build import plan_arena
    from edgeq.codegen.engine.scratch import scratch_sizes
    from edgeq.model import read_model
    from tests.conftest import FIXTURES

    graph = read_model(FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite")
    analysis = analyze(graph)
    result = plan_arena(graph, analysis.ops, analysis.aliases)
    sizes = scratch_sizes(graph, analysis.ops)
    kinds = {analysis.ops[position].builtin for position, _ in sizes.values()}
    assert kinds == {"CONV_2D", "FULLY_CONNECTED"}
    for key, (position, size) in sizes.items():
        buffer = next(b for b in result.buffers if key in b.tensors)
        assert (buffer.first, buffer.last) == (position, position) and buffer.size >= size
    _check_no_overlap(result)
    assert result.arena_bytes == result.lower_bound_bytes
