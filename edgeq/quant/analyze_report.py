"""Show a per-layer analysis: a terminal table (worst first) and a bar chart."""

from __future__ import annotations

from pathlib import Path

from edgeq.errors import DependencyError
from edgeq.quant.analyze import AnalysisResult, LayerStats
from edgeq.quant.layer_map import describe, scope_label
from edgeq.quant.probe import ROUNDING_ONLY
from edgeq.textfmt import format_table

FLAG_SCORE = 1.0  # more than ~3x the rounding-only error
FLAG_SATURATION = 0.01
FLAG_STEPS = 2.0  # median non-zero value within 2 quantization steps: the range is too wide
FIXED_RANGE_OPS = frozenset({"SOFTMAX", "LOGISTIC", "TANH", "LOG_SOFTMAX"})  # TFLite fixes their output scale

HEADERS = ["op", "layer", "rmse/scale", "local", "SNR dB", "median steps", "range used", "range seen", "clipped %", ""]


def render_table(result: AnalysisResult, top: int | None = None) -> str:
    """The analysis as text: a header line, the rows worst first, and how to read them."""
    rows = result.rows[:top] if top else result.rows
    more = len(result.rows) - len(rows)
    lines = [
        f"{result.quantized}: {len(result.rows)} quantized tensors, {result.samples} samples of {result.data}",
        "",
        format_table(HEADERS, [_cells(r) for r in rows], "llrrrrrrrl"),
        f"... {more} more (--top 0 shows all)" if more else None,
        "",
        f"rmse/scale: error vs the float model in quantization steps ({ROUNDING_ONLY:.2f} = rounding only); "
        "local: the op's own error (same inputs); median steps: typical non-zero value in steps; "
        "* = error over 1 step, over 1 % clipped, or median under 2 steps (range too wide)",
    ]
    return "\n".join(line for line in lines if line is not None)


def _cells(row: LayerStats) -> list[object]:
    return [
        row.op,
        label(row),
        _num(row.rmse_scale),
        _num(row.local_rmse_scale),
        None if row.snr_db is None else f"{row.snr_db:.1f}",
        None if row.median_steps is None else f"{row.median_steps:.1f}",
        _range(row.range_used),
        _range(row.range_seen),
        None if row.saturation is None else f"{100 * row.saturation:.2f}",
        "*" if flagged(row) else "",
    ]


def label(row: LayerStats) -> str:
    """The Keras layer(s) of a row, or its note and scope when it has none."""
    if row.layers:
        return describe(row.layers)
    return f"({row.note or 'no Keras layer'}) {scope_label(row.tensor)}"


def flagged(row: LayerStats) -> bool:
    """True for rows worth a look: large error or noticeable clipping."""
    if (row.score or 0.0) > FLAG_SCORE:
        return True
    if row.op in FIXED_RANGE_OPS:  # TFLite fixes their range: 1.0 just above 255/256 is not a problem
        return False
    coarse = row.median_steps is not None and row.median_steps < FLAG_STEPS
    return (row.saturation or 0.0) > FLAG_SATURATION or coarse


def _num(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _range(bounds: tuple[float, float] | None) -> str | None:
    return None if bounds is None else f"[{bounds[0]:.3g}, {bounds[1]:.3g}]"


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


__all__ = ["flagged", "label", "plot", "render_table"]
