"""Choose each activation tensor's int8 range from its histogram.

Methods:

- ``minmax``: the exact minimum and maximum seen (what the TFLite converter does).
- ``percentile``: clip at the p-th percentile of ``|x|`` (symmetric) or at the
  p-th and (100 - p)-th percentiles of ``x`` (asymmetric: each tail loses
  ``100 - p`` percent of the values).
- ``mse``: the range that minimises the expected squared error of int8
  quantization, rounding inside the range plus clipping outside it, computed
  exactly for the histogram read as a piecewise-uniform density and for the
  grid TFLite builds (zero point nudged so that 0 is exact).
- ``entropy``: the threshold whose 128-level quantized distribution is closest
  in KL divergence to the clipped reference distribution (Migacz, "8-bit
  Inference with TensorRT", GTC 2017); asymmetric ranges run it per sign,
  with 256 levels for a one-signed tensor.

Every range contains 0, as TFLite's quantizer requires. Symmetric ranges are
``[-t, t]`` and become zero point 0 (see :func:`tflite_min_max`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial

import numpy as np

from edgeq.calibration.histograms import Distribution, Histogram
from edgeq.errors import UsageError

QMIN, QMAX = -128, 127
DEFAULT_PERCENTILE = 99.99


class CalibrationMethod(str, Enum):
    """How ``edgeq convert --calibration`` picks activation ranges."""

    MINMAX = "minmax"
    PERCENTILE = "percentile"
    MSE = "mse"
    ENTROPY = "entropy"


@dataclass(frozen=True)
class RangeRule:
    """A calibration method and its settings, validated when built.

    Attributes:
        method: the :class:`CalibrationMethod` (or its name).
        percentile: for ``percentile`` only; None means 99.99.
        symmetric: ranges ``[-t, t]`` with zero point 0 instead of ``[lo, hi]``.
    """

    method: CalibrationMethod = CalibrationMethod.MINMAX
    percentile: float | None = None
    symmetric: bool = False

    def __post_init__(self) -> None:
        try:
            method = CalibrationMethod(str(getattr(self.method, "value", self.method)).lower())
        except ValueError:
            allowed = ", ".join(m.value for m in CalibrationMethod)
            raise UsageError(f"--calibration {self.method!r} is not one of: {allowed}") from None
        object.__setattr__(self, "method", method)
        if self.percentile is None:
            return
        if method is not CalibrationMethod.PERCENTILE:
            raise UsageError(f"--percentile applies to --calibration percentile, not {method.value}")
        p = float(self.percentile)
        if not (math.isfinite(p) and 50.0 < p <= 100.0):
            raise UsageError(f"--percentile {self.percentile} must be above 50 and at most 100 (e.g. 99.99)")
        object.__setattr__(self, "percentile", p)

    @property
    def is_default(self) -> bool:
        """Plain asymmetric min/max: the converter's own calibration, left untouched."""
        return self.method is CalibrationMethod.MINMAX and not self.symmetric

    @property
    def effective_percentile(self) -> float | None:
        """The percentile the ``percentile`` method uses (None for the other methods)."""
        if self.method is not CalibrationMethod.PERCENTILE:
            return None
        return DEFAULT_PERCENTILE if self.percentile is None else self.percentile

    def describe(self) -> str:
        """E.g. ``percentile 99.99, symmetric``."""
        text = self.method.value
        if self.effective_percentile is not None:
            text += f" {self.effective_percentile:g}"
        return text + (", symmetric" if self.symmetric else "")


def choose_range(hist: Histogram, rule: RangeRule) -> tuple[float, float]:
    """The ``(lo, hi)`` range of one tensor under ``rule``; ``lo <= 0 <= hi``, ``lo == -hi`` when symmetric."""
    lo, hi = min(hist.min, 0.0), max(hist.max, 0.0)
    if hist.count == 0 or hist.limit == 0.0:
        return (0.0, 0.0) if hist.count == 0 else (lo, hi)
    chooser = _CHOOSERS[rule.method]
    if rule.symmetric:
        t = min(chooser(hist, rule, True)[1], hist.absmax)
        return -t, t
    new_lo, new_hi = chooser(hist, rule, False)
    return max(min(new_lo, 0.0), lo), min(max(new_hi, 0.0), hi)


def tflite_min_max(lo: float, hi: float, symmetric: bool) -> tuple[float, float]:
    """The min/max to record for TFLite: symmetric ``[-t, t]`` becomes ``[-t * 128/127, t]`` (zero point 0)."""
    return (-hi * -QMIN / QMAX, hi) if symmetric else (lo, hi)


def _minmax(hist: Histogram, rule: RangeRule, symmetric: bool) -> tuple[float, float]:
    return (-hist.absmax, hist.absmax) if symmetric else (hist.min, hist.max)


def _percentile(hist: Histogram, rule: RangeRule, symmetric: bool) -> tuple[float, float]:
    q = (rule.effective_percentile or DEFAULT_PERCENTILE) / 100.0
    if symmetric:
        t = hist.absolute().quantile(q)
        return -t, t
    dist = hist.signed()
    return dist.quantile(1.0 - q), dist.quantile(q)


def _mse(hist: Histogram, rule: RangeRule, symmetric: bool) -> tuple[float, float]:
    dist, floor = hist.signed(), hist.width
    if symmetric:
        t = _search(lambda t: expected_error(dist, -t * -QMIN / QMAX, t), hist.absmax, floor)
        return -t, t
    lo, hi = min(hist.min, 0.0), max(hist.max, 0.0)
    for _ in range(2):  # coordinate descent: each end given the other
        if hi > 0.0:
            hi = _search(partial(_cost_of_hi, dist, lo), max(hist.max, 0.0), floor)
        if lo < 0.0:
            lo = -_search(partial(_cost_of_lo, dist, hi), -min(hist.min, 0.0), floor)
    return lo, hi


def _cost_of_hi(dist: Distribution, lo: float, h: np.ndarray) -> np.ndarray:
    """Expected error of each upper end ``h`` with the lower end fixed at ``lo``."""
    return expected_error(dist, np.full_like(h, lo), h)


def _cost_of_lo(dist: Distribution, hi: float, t: np.ndarray) -> np.ndarray:
    """Expected error of each lower end ``-t`` with the upper end fixed at ``hi``."""
    return expected_error(dist, -t, np.full_like(t, hi))


def _search(cost: Callable[[np.ndarray], np.ndarray], top: float, bottom: float) -> float:
    """The candidate in ``(bottom, top]`` of least cost: a geometric grid, then a linear one around its best."""
    bottom = max(bottom, top * 1e-4)
    if bottom >= top:
        return top
    grid = np.geomspace(top, bottom, 64)
    k = int(np.argmin(cost(grid)))
    fine = np.linspace(grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)], 41)
    return float(fine[int(np.argmin(cost(fine)))])


def expected_error(dist: Distribution, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
    """Total squared int8 quantization error of ``dist`` for each candidate range ``[lo, hi]``.

    Values inside the nudged grid round to the nearest level; values outside
    are clipped to its ends. Each bin is integrated exactly as a uniform density.
    """
    lo, hi = np.atleast_1d(np.asarray(lo, np.float64)), np.atleast_1d(np.asarray(hi, np.float64))
    width = np.diff(dist.edges)
    keep = (dist.counts > 0) & (width > 0)  # point masses sit at 0, which the grid holds exactly
    a, b = dist.edges[:-1][keep][None, :], dist.edges[1:][keep][None, :]
    density = (dist.counts[keep] / width[keep])[None, :]
    scale = np.maximum((hi - lo) / (QMAX - QMIN), 1e-300)
    zero_point = np.clip(np.floor(QMIN - lo / scale + 0.5), QMIN, QMAX)
    s = scale[:, None]
    g_lo, g_hi = (QMIN - zero_point)[:, None] * s, (QMAX - zero_point)[:, None] * s
    ia, ib = np.clip(a, g_lo, g_hi), np.clip(b, g_lo, g_hi)
    inside = s**3 * (_sawtooth_integral(ib / s) - _sawtooth_integral(ia / s))
    below = -((np.minimum(a, g_lo) - g_lo) ** 3) / 3.0 + ((np.minimum(b, g_lo) - g_lo) ** 3) / 3.0
    above = ((np.maximum(b, g_hi) - g_hi) ** 3 - (np.maximum(a, g_hi) - g_hi) ** 3) / 3.0
    return np.sum(density * (inside + below + above), axis=1)


def _sawtooth_integral(u: np.ndarray) -> np.ndarray:
    """Integral from 0 to ``u`` of ``(v - round(v))**2 dv``."""
    n = np.floor(u + 0.5)
    frac = u + 0.5 - n
    return n / 12.0 + ((frac - 0.5) ** 3 + 0.125) / 3.0 - 1.0 / 24.0


def _entropy(hist: Histogram, rule: RangeRule, symmetric: bool) -> tuple[float, float]:
    # Exact zeros (ReLU) stay out: the grid holds 0 exactly, and their spike in the first
    # bin would make every coarse candidate look bad.
    if symmetric:
        t = kl_threshold(hist.positive() + hist.negative(), hist.width, 128)
        return -t, t
    both = hist.min < 0.0 < hist.max
    levels = 128 if both else 256
    hi = kl_threshold(hist.positive(), hist.width, levels) if hist.max > 0.0 else 0.0
    lo = -kl_threshold(hist.negative(), hist.width, levels) if hist.min < 0.0 else 0.0
    return lo, hi


def kl_threshold(counts: np.ndarray, width: float, levels: int = 128) -> float:
    """TensorRT-style entropy calibration of a one-sided histogram (bin ``i`` covers ``[i, i + 1) * width``).

    For each candidate ``i >= levels`` the reference P is the first ``i`` bins
    with all mass beyond added to the last; the candidate Q merges those bins
    into ``levels`` groups and spreads each group's mass evenly over its
    non-empty bins. The threshold is the upper edge of the best ``i``.
    """
    nonzero = np.flatnonzero(counts)
    used = int(nonzero[-1]) + 1 if nonzero.size else 0
    if used <= levels:
        return used * width
    tail = np.concatenate([np.cumsum(counts[:used][::-1])[::-1], [0.0]])  # tail[i] = mass of bins >= i
    stride = max(1, (used - levels) // 512)
    best = _best_candidate(counts, tail, levels, range(levels, used + 1, stride))
    if stride > 1:  # refine between the coarse neighbours of the best candidate
        best = _best_candidate(counts, tail, levels, range(max(levels, best - stride), min(used, best + stride) + 1))
    return best * width


def _best_candidate(counts: np.ndarray, tail: np.ndarray, levels: int, candidates: range) -> int:
    best, best_kl = candidates[-1], math.inf
    for i in candidates:
        kl = _kl(counts[:i], tail[i], levels)
        if kl < best_kl:
            best, best_kl = i, kl
    return best


def _kl(head: np.ndarray, outliers: float, levels: int) -> float:
    p = head.copy()
    p[-1] += outliers
    starts = np.floor(np.linspace(0, len(head), levels + 1)).astype(np.int64)
    present = (head > 0).astype(np.float64)
    sums = np.add.reduceat(head, starts[:-1])
    filled = np.add.reduceat(present, starts[:-1])
    per_bin = np.divide(sums, filled, out=np.zeros_like(sums), where=filled > 0)
    q = np.repeat(per_bin, np.diff(starts)) * present
    mask = p > 0
    p, q = p[mask] / p.sum(), q[mask] / max(q.sum(), 1e-300)
    q = np.maximum(q, 1e-12)  # P mass where Q has none: clipped outliers landing on an empty bin
    return float(np.sum(p * np.log(p / q)))


_CHOOSERS = {
    CalibrationMethod.MINMAX: _minmax,
    CalibrationMethod.PERCENTILE: _percentile,
    CalibrationMethod.MSE: _mse,
    CalibrationMethod.ENTROPY: _entropy,
}
