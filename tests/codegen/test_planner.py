"""The offline arena planner: no two live tensors overlap, aliases share, the bound holds."""

from __future__ import annotations

import itertools
import random

from edgeq.codegen.engine.inplace import window_shift
from edgeq.codegen.engine.planner import Buffer, group_aliases, lifetimes, lower_bound, plan


def _check_no_overlap(result):
    placed = [(b, result.offsets[b.tensors[0]] - b.start_of(b.tensors[0])) for b in result.buffers]
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


# ---- outputs written over their dying inputs (engine.inplace) ----


def test_shifted_pairs_share_a_buffer_at_their_offsets():
    """t1 written 48 bytes before t0, t2 16 bytes before t1: one buffer of 200 + 64 bytes."""
    spans = lifetimes(3, [([0], [1]), ([1], [2]), ([2], [3])], [0], [3])
    sizes = {0: 200, 1: 200, 2: 200, 3: 16}
    (shared,) = [b for b in group_aliases(spans, sizes, [], [(0, 1, 48), (1, 2, 16)]) if len(b.tensors) > 1]
    assert shared.tensors == (0, 1, 2) and shared.size == 208 + 64
    assert [shared.start_of(t) for t in (0, 1, 2)] == [64, 16, 0]
    result = plan(group_aliases(spans, sizes, [], [(0, 1, 48), (1, 2, 16)]))
    assert result.offsets[0] - result.offsets[1] == 48 and result.offsets[1] - result.offsets[2] == 16
    _check_no_overlap(result)


def _first_clobbered_read(in_hwc, out_hwc, kernel, strides, dilations, padding, shift):
    """Run the kernels' order on bytes: per output pixel, store it, then read every in-image tap of its
    window (the strictest interleaving the kernels allow); the first read of a byte already stored over,
    or None. Input byte i and output byte j - shift are the same arena byte."""
    (in_h, in_w, in_c), (out_h, out_w, out_c) = in_hwc, out_hwc
    stored_up_to = -shift  # arena bytes [.., stored_up_to) relative to the input's start hold output
    pads = []
    for size, out, k, s, d in zip((in_h, in_w), (out_h, out_w), kernel, strides, dilations, strict=True):
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        pads.append(total // 2 if padding == "SAME" else 0)
    for oy in range(out_h):
        for ox in range(out_w):
            stored_up_to += out_c
            for ky in range(kernel[0]):
                for kx in range(kernel[1]):
                    y = oy * strides[0] - pads[0] + ky * dilations[0]
                    x = ox * strides[1] - pads[1] + kx * dilations[1]
                    if 0 <= y < in_h and 0 <= x < in_w and (y * in_w + x) * in_c < stored_up_to:
                        return (oy, ox, y, x)
    return None


def test_window_shift_is_the_least_safe_shift_of_the_kernels_order():
    rng = random.Random(11)
    for _ in range(300):
        k = (rng.choice((1, 2, 3, 5)), rng.choice((1, 3, 4)))
        strides, dilations = (rng.randint(1, 2), rng.randint(1, 3)), (rng.randint(1, 2), rng.randint(1, 2))
        padding = rng.choice(("SAME", "VALID"))
        in_hwc = (rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 8))
        outs = []
        for size, kk, s, d in zip(in_hwc[:2], k, strides, dilations, strict=True):
            span = (kk - 1) * d + 1
            outs.append(-(-size // s) if padding == "SAME" else (size - span) // s + 1)
        if min(outs) <= 0:
            continue
        out_hwc = (*outs, rng.randint(1, 9))
        shift = window_shift(in_hwc, out_hwc, k, strides, dilations, padding)
        case = (in_hwc, out_hwc, k, strides, dilations, padding)
        assert shift % 16 == 0
        assert _first_clobbered_read(*case, shift) is None, case
        if _every_window_reads(*case):  # a window without taps in the image reads nothing: the shift is loose
            assert _first_clobbered_read(*case, shift - 16) is not None, case


def _every_window_reads(in_hwc, out_hwc, kernel, strides, dilations, padding):
    for size, out, k, s, d in zip(in_hwc[:2], out_hwc[:2], kernel, strides, dilations, strict=True):
        pad = max(0, (out - 1) * s + (k - 1) * d + 1 - size) // 2 if padding == "SAME" else 0
        if not all(any(0 <= o * s - pad + t * d < size for t in range(k)) for o in range(out)):
            return False
    return True
