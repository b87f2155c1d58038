"""``edgeq ros2 run``: what a node did, as text."""

from __future__ import annotations

from typing import Any


def render_summary(summary: dict[str, Any]) -> str:
    """From the JSON summary of ``edgeq ros2 run``: counts, then inference and node times (p50/p99)."""
    counts = ", ".join(
        f"{summary[k]} {k.replace('_', ' ')}"
        for k in ("received", "processed", "dropped", "malformed", "failed", "deadline_misses")
    )
    lines = [f"node {summary['node']} ({summary['model']} on {summary['target']}): {counts}"]
    for key, label in (("inference_ms", "inference"), ("overhead_ms", "node overhead"), ("latency_ms", "in the node")):
        pair = summary.get(key)
        if pair:
            lines.append(f"  {label:<14} p50 {pair['p50']:.3f} ms  p99 {pair['p99']:.3f} ms")
    lines.append(f"  inference times: {summary['inference_source']}")
    return "\n".join(lines)
