"""Activation histograms gathered in one pass over calibration data.

A :class:`Histogram` keeps ``2 * bins`` equal bins over ``[-limit, limit]``
plus the exact minimum, maximum, count and number of exact zeros. ``limit``
starts at the first non-zero absolute maximum seen and doubles whenever a later
value exceeds it; doubling merges neighbouring bin pairs, so re-binning is exact
and the final bins cover between half and all of ``[-limit, limit]`` per side.
Exact zeros (ReLU outputs, padding) are counted apart: they are always
representable and would otherwise blur the first bin.

The range methods read a histogram as a :class:`Distribution`: counts spread
evenly over their bins, with zeros as a zero-width bin at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeq.errors import ConversionError

DEFAULT_BINS = 4096
"""Bins per sign: 4096 over ``[0, limit]`` and 4096 over ``[-limit, 0]``.

With ``limit`` at most twice the largest value, at least 2048 bins cover the
data on its wider side, the resolution TensorRT's entropy calibration uses.
"""


@dataclass(frozen=True)
class Distribution:
    """Counts spread evenly over bins ``[edges[i], edges[i + 1]]`` (a zero-width bin is a point mass)."""

    edges: np.ndarray
    counts: np.ndarray

    @property
    def total(self) -> float:
        """Number of values."""
        return float(self.counts.sum())

    def quantile(self, q: float) -> float:
        """The value below which a fraction ``q`` (0..1) of the mass lies, interpolated within its bin."""
        cum = np.cumsum(self.counts)
        rank = min(max(q, 0.0), 1.0) * cum[-1]
        k = min(int(np.searchsorted(cum, rank, side="left")), len(self.counts) - 1)
        below = cum[k - 1] if k > 0 else 0.0
        frac = (rank - below) / self.counts[k] if self.counts[k] > 0 else 0.0
        return float(self.edges[k] + frac * (self.edges[k + 1] - self.edges[k]))

    def fraction_outside(self, lo: float, hi: float) -> float:
        """Fraction of the mass below ``lo`` or above ``hi``."""
        if self.total == 0:
            return 0.0
        return float((self._mass_below(lo) + self.total - self._mass_below(hi, upper=True)) / self.total)

    def _mass_below(self, x: float, upper: bool = False) -> float:
        a, b = self.edges[:-1], self.edges[1:]
        width = b - a
        inside = np.divide(np.clip(x - a, 0.0, width), width, out=np.zeros_like(width), where=width > 0)
        points = (a <= x) if upper else (a < x)  # a point mass at x counts as inside [lo, hi]
        share = np.where(width > 0, inside, points.astype(np.float64))
        return float(np.sum(self.counts * share))


class Histogram:
    """A growing symmetric histogram of one tensor's values.

    Args:
        bins: bins per sign (even; the histogram has ``2 * bins``).
        name: how error messages name the tensor.
    """

    def __init__(self, bins: int = DEFAULT_BINS, name: str = "tensor") -> None:
        if bins < 2 or bins % 2:
            raise ValueError(f"bins must be an even number >= 2, got {bins}")
        self.bins = bins
        self.name = name
        self.counts = np.zeros(2 * bins, np.int64)
        self.limit = 0.0
        self.count = 0
        self.zeros = 0
        self.min = float("inf")
        self.max = float("-inf")

    @property
    def width(self) -> float:
        """Width of one bin (0 before any non-zero value)."""
        return self.limit / self.bins

    @property
    def absmax(self) -> float:
        """Largest absolute value seen."""
        return max(abs(self.min), abs(self.max)) if self.count else 0.0

    def update(self, values: np.ndarray) -> None:
        """Add ``values`` (any shape) to the histogram.

        Raises:
            ConversionError: a value is NaN or infinite.
        """
        x = np.asarray(values, np.float64).ravel()
        if x.size == 0:
            return
        if not np.isfinite(x).all():
            raise ConversionError(
                f"tensor {self.name!r} produced NaN or Inf on the calibration data; "
                "check the data and the model (e.g. log or division of zero)"
            )
        self.count += x.size
        self.min, self.max = min(self.min, float(x.min())), max(self.max, float(x.max()))
        nonzero = x[x != 0.0]
        self.zeros += x.size - nonzero.size
        if nonzero.size:
            self._add(nonzero)

    def _add(self, x: np.ndarray) -> None:
        peak = float(np.abs(x).max())
        if self.limit == 0.0:
            self.limit = peak
        while peak > self.limit:
            self._double()
        index = np.floor((x + self.limit) / self.width).astype(np.int64)
        np.clip(index, 0, 2 * self.bins - 1, out=index)
        self.counts += np.bincount(index, minlength=2 * self.bins)

    def _double(self) -> None:
        merged = self.counts.reshape(-1, 2).sum(axis=1)
        self.counts = np.zeros_like(self.counts)
        self.counts[self.bins // 2 : self.bins // 2 + self.bins] = merged
        self.limit *= 2.0

    def signed(self) -> Distribution:
        """The values as a distribution over ``[min, max]`` (zeros as a point mass at 0).

        Bin edges are clipped to the exact extremes, so no mass spreads beyond them.
        """
        half = np.linspace(0.0, self.limit, self.bins + 1)
        edges = np.clip(np.concatenate([-half[::-1], half]), min(self.min, 0.0), max(self.max, 0.0))
        counts = np.concatenate([self.counts[: self.bins], [self.zeros], self.counts[self.bins :]])
        return Distribution(edges, counts.astype(np.float64))

    def positive(self) -> np.ndarray:
        """Counts of the bins over ``[0, limit]`` (exact zeros not included)."""
        return self.counts[self.bins :].astype(np.float64)

    def negative(self) -> np.ndarray:
        """Counts of the bins over ``[0, limit]`` of the negated negative values (exact zeros not included)."""
        return self.counts[: self.bins][::-1].astype(np.float64)

    def absolute(self) -> Distribution:
        """The absolute values as a distribution over ``[0, absmax]`` (zeros as a point mass at 0)."""
        folded = self.counts[self.bins :] + self.counts[: self.bins][::-1]
        edges = np.concatenate([[0.0], np.linspace(0.0, self.limit, self.bins + 1)]).clip(max=self.absmax)
        return Distribution(edges, np.concatenate([[self.zeros], folded]).astype(np.float64))
