"""The profile report's plots, as inline SVG: latency box plots and histograms, per-op times, energy.

Estimated values (emulated boards, power-figure energy) are drawn orange with a
dashed outline and a ``~``; measured ones are solid blue.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeq.measurements import OpTime
from edgeq.profiling.svg import (
    CHAR_PX,
    ESTIMATED,
    INK,
    MUTED,
    WIDTH,
    Axis,
    Bar,
    axis_marks,
    bar_chart,
    color,
    fmt,
    line,
    rect,
    svg,
    text,
)
from edgeq.profiling.types import ProfileResult

DEADLINE = "#c0392b"


def is_estimated(result: ProfileResult) -> bool:
    return result.timing.latency_kind == "estimated"


def is_constant(ms: np.ndarray) -> bool:
    """Every run the same (a deterministic emulator): no spread to plot."""
    return float(np.ptp(ms)) <= 1e-9 * max(float(np.max(ms)), 1e-300)


def latency_comparison(results: list[ProfileResult], deadline_ms: float | None = None) -> str:
    """Every target's latency on one axis (log when they differ by orders of magnitude): a box plot per row.

    Box p25-p75, thick line p50, whiskers min-max, diamond mean, tick p99.
    """
    samples = [np.asarray(r.timing.ms, np.float64) for r in results]
    every = np.concatenate(samples)
    positive = every[every > 0]
    lo = float(positive.min()) if positive.size else 1e-3
    hi = max(float(every.max()), lo)
    if deadline_ms is not None and deadline_ms > 0:
        lo, hi = min(lo, deadline_ms), max(hi, deadline_ms)
    left = min(16 + CHAR_PX * max(len(r.target) + 2 for r in results), 200)
    axis = Axis.fit(lo, hi, left, WIDTH - 20)
    row, top = 34, 8
    body: list[str] = []
    for k, (r, ms) in enumerate(zip(results, samples)):
        y = top + k * row + row / 2
        name = f"~{r.target}" if is_estimated(r) else r.target
        body.append(text(left - 8, y + 4, name, "end", fill=color(is_estimated(r))))
        body.extend(_box(axis, y, ms, r))
    bottom = top + len(results) * row
    body[:0] = axis_marks(axis, top, bottom, "latency per inference (ms)")
    if deadline_ms is not None:
        body.extend(_deadline(axis.px(deadline_ms), top, bottom, deadline_ms))
    return svg(WIDTH, bottom + 34, body, "latency of every target", "latency-compare")


def _box(axis: Axis, y: float, ms: np.ndarray, r: ProfileResult) -> list[str]:
    est = is_estimated(r)
    q25, q50, q75 = (axis.px(float(v)) for v in np.percentile(ms, [25, 50, 75]))
    lo, hi = axis.px(float(ms.min())), axis.px(float(ms.max()))
    mean, p99 = axis.px(r.latency.mean), axis.px(r.latency.p99)
    ink = color(est)
    out = [line(lo, y, hi, y, ink, 1.5, est), line(lo, y - 6, lo, y + 6, ink), line(hi, y - 6, hi, y + 6, ink)]
    out.append(rect(q25, y - 9, q75 - q25, 18, est, 0.35))
    out.append(line(q50, y - 10, q50, y + 10, INK, 2.5))
    out.append(line(p99, y - 4, p99, y + 4, INK, 1.5))
    out.append(
        f'<path d="M{mean:.1f},{y - 4:.1f} l4,4 l-4,4 l-4,-4 z" fill="#ffffff" stroke="{INK}" stroke-width="1"/>'
    )
    return out


def _deadline(x: float, top: float, bottom: float, deadline_ms: float) -> list[str]:
    label = text(x + 4, top + 30, f"deadline {fmt(deadline_ms)} ms", fill=DEADLINE)
    halo = label.replace("<text ", '<text stroke="#ffffff" stroke-width="3" paint-order="stroke" ', 1)
    return [line(x, top - 4, x, bottom, DEADLINE, 1.5, True), halo]


def latency_histogram(result: ProfileResult, deadline_ms: float | None = None) -> str:
    """One target's run-to-run distribution on its own linear axis, with p50/p90/p99 marked."""
    ms = np.asarray(result.timing.ms, np.float64)
    est = is_estimated(result)
    label = f"{result.target}: latency of {len(ms)} runs" + (" (estimated)" if est else "")
    top, bottom = 22, 112
    axis = Axis.fit(float(ms.min()), float(ms.max()), 40, WIDTH - 20, log=False)
    body = axis_marks(axis, top, bottom, "latency per inference (ms)")
    if is_constant(ms):
        x = axis.px(float(ms[0]))
        body.append(rect(x - 3, top, 6, bottom - top, est))
        body.append(text(x + 8, top + 14, f"every run the same: {'~' if est else ''}{fmt(float(ms[0]))} ms"))
    else:
        body.extend(_bins(axis, ms, top, bottom, est))
        body.extend(_percentile_marks(axis, result, top))
    if deadline_ms is not None and axis.lo <= deadline_ms <= axis.hi:
        body.extend(_deadline(axis.px(deadline_ms), top, bottom, deadline_ms))
    if est:
        body.append(text(WIDTH - 20, 12, f"estimated: {result.timing.latency_source}"[:110], "end", 10, ESTIMATED))
    return svg(WIDTH, bottom + 34, body, label, "latency-plot", result.target)


def _bins(axis: Axis, ms: np.ndarray, top: float, bottom: float, est: bool) -> list[str]:
    bins = int(min(40, max(8, np.sqrt(len(ms)) * 2)))
    counts, edges = np.histogram(ms, bins=bins, range=(axis.lo, axis.hi))
    scale = (bottom - top - 16) / max(int(counts.max()), 1)
    out = []
    for n, a, b in zip(counts, edges[:-1], edges[1:]):
        if n:
            h = n * scale
            out.append(rect(axis.px(a) + 0.5, bottom - h, axis.px(b) - axis.px(a) - 1, h, est))
    out.append(text(axis.x0, top - 8, f"runs per bin (tallest {int(counts.max())})", size=10, fill=MUTED))
    return out


def _percentile_marks(axis: Axis, result: ProfileResult, top: float) -> list[str]:
    lat = result.latency
    out, last = [], -1e9
    for name, value in (("p50", lat.p50), ("p90", lat.p90), ("p99", lat.p99)):
        x = axis.px(value)
        out.append(line(x, top + 16, x, top + 90, INK, 1, True))
        if x - last >= 26:  # label only marks that do not overlap
            out.append(text(x, top + 12, name, "middle", 10, MUTED))
            last = x
    return out


def op_chart(target: str, ops: Sequence[OpTime]) -> str:
    """Mean time of every step of the invoke, in execution order, with its share of their sum and its median."""
    total = sum(o.mean_us for o in ops) or 1.0
    bars = [Bar(f"{o.position}: {o.label}", o.mean_us, note=_op_note(o, total)) for o in ops]
    return bar_chart(bars, "us", f"{target}: time per op", "op-plot", target)


def _op_note(o: OpTime, total: float) -> str:
    """Share of the ops' sum and median; estimated cycles and MACs per cycle where counted."""
    if o.cycles is None:
        return f"{100 * o.mean_us / total:.1f}%  (p50 {fmt(o.p50_us)})"
    per = f", {o.macs / o.cycles:.2f} MACs/cycle" if o.macs and o.cycles else ""
    return f"{100 * o.mean_us / total:.1f}%  (~{o.cycles:,.0f} cycles{per})"


def energy_chart(results: list[ProfileResult]) -> str | None:
    """Energy per inference of every target that reports one; None when none does."""
    bars = [
        Bar(r.target, r.timing.energy.value, r.timing.energy.kind == "estimated")
        for r in results
        if r.timing.energy is not None
    ]
    return bar_chart(bars, "uJ", "energy per inference", "energy-plot") if bars else None


__all__ = ["energy_chart", "is_constant", "is_estimated", "latency_comparison", "latency_histogram", "op_chart"]
