"""The Pareto plots of the sweep report: accuracy against a cost, one dot per configuration, as inline SVG.

Built from the profile report's SVG pieces (:mod:`edgeq.profiling.svg`): the
same axes, fonts and colours. Pareto-optimal configurations are filled and
joined by a dashed line; the others are hollow. Every dot has a title (a
tooltip) naming its configuration.
"""

from __future__ import annotations

from html import escape
from typing import Any

from edgeq.profiling.svg import GRID, INK, MUTED, WIDTH, Axis, fmt, line, svg, text

PALETTE = ("#3b6ea8", "#d9822b", "#4c9a52", "#a8453b", "#7b5ea8", "#3b9aa8", "#a8883b", "#6b6b6b")
HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 300, 64, WIDTH - 150, 14, 244


def target_colors(rows: list[dict[str, Any]]) -> dict[str, str]:
    targets = list(dict.fromkeys(r["target"] for r in rows))
    return {t: PALETTE[k % len(PALETTE)] for k, t in enumerate(targets)}


def describe(row: dict[str, Any]) -> str:
    options = row["options"]
    opts = "as given" if options is None else ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"
    return f"{row['model']} ({opts}) on {row['target']}"


def pareto_chart(rows: list[dict[str, Any]], front: list[dict[str, Any]], metric: str, unit: str) -> str | None:
    """Accuracy (%) against ``metric``; None when fewer than one configuration has both figures."""
    points = [r for r in rows if r["status"] == "ok" and r["accuracy"] is not None and r.get(metric) is not None]
    if not points:
        return None
    xs = [float(r[metric]) for r in points]
    ys = [100.0 * r["accuracy"] for r in points]
    x_axis = Axis.fit(min(xs), max(xs), LEFT, RIGHT)
    y_axis = Axis.fit(min(ys), max(ys), BOTTOM, TOP, log=False)
    body = _x_marks(x_axis, unit)
    body += _y_marks(y_axis)
    colors = target_colors(rows)
    ids = {r["id"] for r in front}
    ordered = sorted((r for r in points if r["id"] in ids), key=lambda r: (r[metric], -r["accuracy"]))
    for a, b in zip(ordered, ordered[1:]):
        ax, ay = x_axis.px(a[metric]), y_axis.px(100 * a["accuracy"])
        bx, by = x_axis.px(b[metric]), y_axis.px(100 * b["accuracy"])
        body.append(line(ax, ay, bx, ay, MUTED, 1, dash=True) + line(bx, ay, bx, by, MUTED, 1, dash=True))
    for r, x, y in zip(points, xs, ys):
        body.append(_dot(x_axis.px(x), y_axis.px(y), colors[r["target"]], r["id"] in ids, r, metric))
    body += _legend(colors)
    label = f"accuracy against {unit}; Pareto-optimal configurations filled"
    return svg(WIDTH, HEIGHT, body, label, "pareto", metric)


def tick_label(value: float) -> str:
    """Whole numbers of 10,000 and more with separators (bytes), the rest as the profile report writes them."""
    return f"{value:,.0f}" if abs(value) >= 1e4 and float(value).is_integer() else fmt(value)


def _x_marks(axis: Axis, unit: str) -> list[str]:
    out = [line(axis.x0, BOTTOM, axis.x1, BOTTOM, MUTED)]
    for tick in axis.ticks():
        x = axis.px(tick)
        out.append(line(x, TOP, x, BOTTOM, GRID))
        out.append(text(x, BOTTOM + 13, tick_label(tick), "middle", 10, MUTED))
    title = f"{unit}, log scale" if axis.log else unit
    out.append(text((axis.x0 + axis.x1) / 2, BOTTOM + 27, title, "middle", 10, MUTED))
    return out


def _y_marks(axis: Axis) -> list[str]:
    out = [line(LEFT, axis.x0, LEFT, axis.x1, MUTED)]
    for tick in axis.ticks():
        y = axis.px(tick)
        out.append(line(LEFT, y, RIGHT, y, GRID))
        out.append(text(LEFT - 6, y + 3, fmt(tick), "end", 10, MUTED))
    out.append(
        f'<text x="14" y="{(TOP + BOTTOM) / 2:.1f}" font-size="10" text-anchor="middle" fill="{MUTED}" '
        f'transform="rotate(-90 14 {(TOP + BOTTOM) / 2:.1f})">accuracy, %</text>'
    )
    return out


def _dot(x: float, y: float, color: str, optimal: bool, row: dict[str, Any], metric: str) -> str:
    fill = color if optimal else "#ffffff"
    tip = f"{describe(row)}: accuracy {100 * row['accuracy']:.2f} %, {metric} {fmt(float(row[metric]))}"
    tip += " (Pareto-optimal)" if optimal else ""
    cls = "point optimal" if optimal else "point"
    return (
        f'<circle class="{cls}" data-id="{escape(row["id"])}" cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}" '
        f'stroke="{color}" stroke-width="2"><title>{escape(tip)}</title></circle>'
    )


def _legend(colors: dict[str, str]) -> list[str]:
    out = []
    for k, (target, color) in enumerate(colors.items()):
        y = TOP + 8 + 18 * k
        out.append(f'<circle cx="{RIGHT + 22}" cy="{y:.1f}" r="5" fill="{color}" stroke="{color}" stroke-width="2"/>')
        out.append(text(RIGHT + 32, y + 4, target, fill=INK))
    y = TOP + 8 + 18 * len(colors) + 6
    out.append(text(RIGHT + 16, y + 4, "filled: Pareto-optimal", size=10, fill=MUTED))
    return out
