"""``edgeq run``: where the outputs went and, on an MLPerf Tiny dataset, the score, as text."""

from __future__ import annotations

from typing import Any


def render_run(summary: dict[str, Any]) -> str:
    """From the JSON summary of ``edgeq run``: samples, model, target, output file and shapes, score."""
    lines = [
        f"{summary['samples']} samples through {summary['model']} on {summary['target']} -> "
        f"{summary['output']} {summary['output_shapes']}"
    ]
    if "metric" in summary:
        lines.append(f"{summary['metric'].replace('_', ' ')}: {summary['value']:.4f} over {summary['files']} files")
    return "\n".join(lines)
