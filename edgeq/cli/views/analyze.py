"""``edgeq analyze``: the per-layer analysis as a table, worst first.

Which rows are worth a look (:func:`edgeq.quant.analyze_plot.flagged`) is decided
with the data: the bar chart (``--plot``) colours the same rows.
"""

from __future__ import annotations

from edgeq.quant.analyze import AnalysisResult, LayerStats
from edgeq.quant.analyze_plot import flagged
from edgeq.quant.layer_map import describe, scope_label
from edgeq.quant.probe import ROUNDING_ONLY
from edgeq.textfmt import format_table

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


def _num(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _range(bounds: tuple[float, float] | None) -> str | None:
    return None if bounds is None else f"[{bounds[0]:.3g}, {bounds[1]:.3g}]"
