"""The per-layer analysis for people: which rows are worth a look, and a bar chart (PNG).

The terminal table is :mod:`edgeq.cli.views.analyze`.
"""

from __future__ import annotations

from pathlib import Path

from edgeq.errors import DependencyError
from edgeq.quant.analyze import AnalysisResult, LayerStats
from edgeq.quant.layer_map import scope_label
from edgeq.quant.probe import ROUNDING_ONLY

FLAG_SCORE = 1.0  # more than ~3x the rounding-only error
FLAG_SATURATION = 0.01
FLAG_STEPS = 2.0  # median non-zero value within 2 quantization steps: the range is too wide
FIXED_RANGE_OPS = frozenset({"SOFTMAX", "LOGISTIC", "TANH", "LOG_SOFTMAX"})  # TFLite fixes their output scale


def flagged(row: LayerStats) -> bool:
    """True for rows worth a look: large error or noticeable clipping."""
    if (row.score or 0.0) > FLAG_SCORE:
        return True
    if row.op in FIXED_RANGE_OPS:  # TFLite fixes their range: 1.0 just above 255/256 is not a problem
        return False
    coarse = row.median_steps is not None and row.median_steps < FLAG_STEPS
    return (row.saturation or 0.0) > FLAG_SATURATION or coarse


def plot(result: AnalysisResult, path: str | Path) -> Path:
    """Write a bar chart of rmse/scale per tensor, in graph order, as a PNG.

    Raises:
        DependencyError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise DependencyError(f"--plot needs matplotlib ({exc}); pip install matplotlib") from exc
    rows = sorted(result.rows, key=lambda r: r.index)
    labels = [(r.layer or f"({scope_label(r.tensor)})")[:32] for r in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(rows) + 2), 4.5))
    positions = range(len(rows))
    ax.bar(positions, [r.rmse_scale or 0.0 for r in rows], color="#9db4d0", label="vs float model")
    local = [r.local_rmse_scale or 0.0 for r in rows]
    ax.bar(positions, local, width=0.45, color=["#c0392b" if flagged(r) else "#2c5d8f" for r in rows], label="local")
    ax.axhline(ROUNDING_ONLY, color="grey", linestyle="--", linewidth=1, label="rounding only")
    ax.set_xticks(list(positions), labels, rotation=70, ha="right", fontsize=7)
    ax.set_ylabel("RMSE / scale (quantization steps)")
    ax.set_title(f"per-layer int8 error: {Path(result.model).name}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


__all__ = ["flagged", "plot"]
