"""``edgeq demo``: float vs int8 (size, accuracy, latency), the TFLM and engine builds, the profiles, as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgeq.textfmt import format_table

if TYPE_CHECKING:
    from edgeq.demo import DemoResult


def render_demo(result: DemoResult) -> str:
    """The comparison table, the ratios, the generated C and the profiles of the demo."""
    rows = [
        [
            r.model,
            f"{r.size_bytes:,}",
            f"{100 * r.accuracy:.2f} %",
            f"{r.latency_ms_p50 * 1000:.1f}",
            f"{r.latency_ms_p99 * 1000:.1f}",
            r.path,
        ]
        for r in result.rows
    ]
    f, q = result.rows
    lines = [
        f"digits test set: {result.test_samples} samples; LiteRT on this machine, 1 thread\n",
        format_table(["model", "bytes", "accuracy", "p50 us", "p99 us", "file"], rows, "lrrrrl"),
        f"\nint8 is {q.size_bytes / f.size_bytes:.2f}x the float size, accuracy {100 * (q.accuracy - f.accuracy):+.2f} points, "
        f"p50 latency {q.latency_ms_p50 / f.latency_ms_p50:.2f}x float ({result.seconds:.0f} s in all)",
    ]
    if result.tflm:
        lines += _generated(result.tflm)
    if result.profiles:
        from edgeq.cli.views.profile import render_text

        lines += ["\nthe int8 model on every target (edgeq profile):", render_text(list(result.profiles))]
    lines += [f"skipped {skipped}" for skipped in result.skipped_targets]
    if result.report:
        lines.append(f"HTML report: {result.report}")
    return "\n".join(lines)


def _generated(t: dict) -> list[str]:
    """The TFLM project and the compiled engine: flash and RAM."""
    e = t["engine"]
    return [
        f"TFLM project for {t['board']} in {t['out_dir']}: model array {t['flash_bytes']:,} bytes of flash, "
        f"tensor arena {t['arena_bytes']:,} bytes of RAM, {len(t['ops'])} ops",
        f"edgeq compiled engine in {e['out_dir']}: arena {e['arena_bytes']:,} bytes of RAM "
        f"({e['arena_bytes'] / t['arena_bytes']:.2f}x TFLM's), {e['flash_bytes']:,} bytes of flash ({e['flash_how']})",
    ]
