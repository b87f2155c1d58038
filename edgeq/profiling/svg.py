"""SVG building blocks for the profile report: a linear or log axis, shapes, text and a bar chart.

Everything returns SVG markup as strings; text is escaped here, so callers may pass any label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

MEASURED = "#3b6ea8"
ESTIMATED = "#d9822b"
INK = "#222222"
MUTED = "#6b6b6b"
GRID = "#e2e2e2"
WIDTH = 760
CHAR_PX = 6.6  # width of one character of 11 px sans-serif, for label columns
LOG_RATIO = 30.0  # a log axis once the largest value is this many times the smallest


def fmt(value: float) -> str:
    """Four significant digits, without an exponent for the values a report shows."""
    if value == 0:
        return "0"
    text = f"{value:.4g}"
    return f"{value:.2e}" if "e" in text else text


def color(estimated: bool) -> str:
    return ESTIMATED if estimated else MEASURED


@dataclass(frozen=True)
class Axis:
    """Maps values in [lo, hi] to pixels in [x0, x1], linearly or by log10."""

    lo: float
    hi: float
    x0: float
    x1: float
    log: bool = False

    @classmethod
    def fit(cls, lo: float, hi: float, x0: float, x1: float, log: bool | None = None) -> Axis:
        """An axis with round bounds around [lo, hi]; log when asked or when hi/lo >= LOG_RATIO."""
        if log is None:
            log = lo > 0 and hi / lo >= LOG_RATIO
        if log:
            return cls(10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi) + 1e-12), x0, x1, True)
        if hi - lo <= 1e-12 * max(abs(hi), 1e-300):
            lo, hi = lo * 0.9, hi * 1.1 if hi > 0 else 1.0
        step = _nice_step((hi - lo) / 5)
        return cls(math.floor(lo / step) * step, math.ceil(hi / step) * step, x0, x1, False)

    def px(self, value: float) -> float:
        """Pixel of ``value``, clamped to the axis."""
        if self.log:
            value = max(value, self.lo)
            frac = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            frac = (value - self.lo) / (self.hi - self.lo)
        return self.x0 + min(max(frac, 0.0), 1.0) * (self.x1 - self.x0)

    def ticks(self) -> list[float]:
        """Round values to label: decades (with 2 and 5 on short log axes) or 1-2-5 steps."""
        if self.log:
            decades = range(round(math.log10(self.lo)), round(math.log10(self.hi)) + 1)
            mults = (1, 2, 5) if len(decades) <= 3 else (1,)
            return [m * 10.0**d for d in decades for m in mults if self.lo <= m * 10.0**d <= self.hi * 1.0001]
        step = _nice_step((self.hi - self.lo) / 5)
        count = round((self.hi - self.lo) / step)
        return [self.lo + k * step for k in range(count + 1)]


def _nice_step(raw: float) -> float:
    raw = raw if raw > 0 else 1.0
    base = 10 ** math.floor(math.log10(raw))
    return next(m * base for m in (1, 2, 5, 10) if m * base >= raw)


def svg(width: float, height: float, body: list[str], label: str, cls: str, target: str = "") -> str:
    """A standalone ``<svg>`` element with a title (its accessible name)."""
    data = f' data-target="{escape(target)}"' if target else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}"{data} width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def text(x: float, y: float, value: str, anchor: str = "start", size: int = 11, fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(value)}</text>'
    )


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = INK, width: float = 1, dash: bool = False) -> str:
    dashes = ' stroke-dasharray="4 3"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width}"{dashes}/>'
    )


def rect(x: float, y: float, w: float, h: float, estimated: bool = False, opacity: float = 0.85) -> str:
    """A filled rectangle: measured solid blue; estimated orange with a dashed outline."""
    fill = color(estimated)
    outline = f' stroke="{INK}" stroke-dasharray="4 2" stroke-width="1"' if estimated else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 1):.1f}" height="{h:.1f}" fill="{fill}" '
        f'fill-opacity="{opacity}"{outline}/>'
    )


def axis_marks(axis: Axis, top: float, bottom: float, unit: str) -> list[str]:
    """Grid lines from ``top`` to ``bottom`` and tick labels under ``bottom``, plus the axis title."""
    out = [line(axis.x0, bottom, axis.x1, bottom, MUTED)]
    for tick in axis.ticks():
        x = axis.px(tick)
        out.append(line(x, top, x, bottom, GRID))
        out.append(text(x, bottom + 13, fmt(tick), "middle", 10, MUTED))
    title = f"{unit}, log scale" if axis.log else unit
    out.append(text((axis.x0 + axis.x1) / 2, bottom + 27, title, "middle", 10, MUTED))
    return out


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart."""

    label: str
    value: float
    estimated: bool = False
    note: str = ""


def bar_chart(bars: list[Bar], unit: str, label: str, cls: str, target: str = "") -> str:
    """Horizontal bars from zero on a shared linear axis, each labelled on the left and valued on the right."""
    left = min(12 + CHAR_PX * max(len(b.label) for b in bars), 320)
    axis = Axis.fit(0.0, max(max(b.value for b in bars), 1e-12), left, WIDTH - 210, log=False)
    row, top = 20, 8
    body: list[str] = []
    for k, b in enumerate(bars):
        y = top + k * row
        body.append(text(left - 6, y + 13, b.label, "end"))
        body.append(rect(axis.x0, y + 3, axis.px(b.value) - axis.x0, row - 6, b.estimated))
        value = f"{'~' if b.estimated else ''}{fmt(b.value)} {unit}" + (f"  {b.note}" if b.note else "")
        body.append(text(axis.px(b.value) + 5, y + 13, value, fill=INK))
    bottom = top + len(bars) * row + 2
    body[:0] = axis_marks(axis, top, bottom, unit)
    return svg(WIDTH, bottom + 34, body, label, cls, target)
