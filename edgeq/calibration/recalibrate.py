"""Replace the ranges TFLite's calibrator recorded with ranges chosen by a calibration method.

Input: the calibrated float flatbuffer (``converter._experimental_calibrate_only``)
and the calibration samples. Output: the same flatbuffer with new min/max per
activation tensor, ready for TFLite's quantizer, and a :class:`CalibrationSummary`.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

import numpy as np

from edgeq.calibration.histograms import Histogram
from edgeq.calibration.methods import RangeRule, choose_range, tflite_min_max
from edgeq.calibration.observe import collect_histograms
from edgeq.calibration.recorded import RecordedRange, recorded_ranges, rewrite_ranges
from edgeq.errors import EdgeqError
from edgeq.log import logger
from edgeq.model import read_model

FIXED_RANGE_OPS = frozenset({"SOFTMAX", "LOG_SOFTMAX", "LOGISTIC", "TANH"})
"""Ops whose int8 output range TFLite fixes whatever the calibration says."""


@dataclass(frozen=True)
class TensorRange:
    """One activation tensor: the range min/max calibration saw and the range chosen.

    Attributes:
        index, name: the tensor in the converted graph.
        min, max: exact range over the calibration data (what TFLite would use).
        lo, hi: the chosen range (contains 0; ``lo == -hi`` when symmetric).
        clipped_fraction: fraction of the calibration values outside ``[lo, hi]``.
    """

    index: int
    name: str
    min: float
    max: float
    lo: float
    hi: float
    clipped_fraction: float

    @property
    def ratio(self) -> float:
        """Width of the chosen range over the width of the min/max range (with 0 included)."""
        full = max(self.max, 0.0) - min(self.min, 0.0)
        return (self.hi - self.lo) / full if full > 0 else 1.0

    @property
    def clipped(self) -> bool:
        """Whether the chosen range cuts off calibration values."""
        return self.clipped_fraction > 0.0


@dataclass(frozen=True)
class CalibrationSummary:
    """Which method chose the activation ranges, and what it did to them."""

    method: str
    percentile: float | None
    symmetric: bool
    samples: int | None
    tensors: tuple[TensorRange, ...] = ()
    fixed: tuple[str, ...] = ()

    @property
    def clipped(self) -> tuple[TensorRange, ...]:
        """The tensors whose range cuts off some calibration values."""
        return tuple(t for t in self.tensors if t.clipped)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, with counts and the median range ratio."""
        out = asdict(self)
        out["tensors"] = [dict(asdict(t), ratio=t.ratio) for t in self.tensors]
        out["clipped_tensors"] = len(self.clipped)
        out["median_ratio"] = statistics.median(t.ratio for t in self.tensors) if self.tensors else None
        return out


def recalibrate(calibrated: bytes, samples: dict[str, np.ndarray], rule: RangeRule) -> tuple[bytes, CalibrationSummary]:
    """Choose every activation range of ``calibrated`` with ``rule`` and write them into a copy.

    Args:
        calibrated: float flatbuffer with ranges recorded by TFLite's calibrator.
        samples: the calibration data, one ``(N, ...)`` array per input.
        rule: the calibration method and settings.

    Returns:
        The rewritten flatbuffer and a summary of the chosen ranges.
    """
    recorded = recorded_ranges(calibrated)
    fixed = _fixed_range_outputs(calibrated)
    observed = [r for r in recorded if r.index not in fixed]
    hists = collect_histograms(calibrated, [(r.index, r.name) for r in observed], samples)
    chosen = [_choose(r, hists[r.index], rule) for r in observed if r.index in hists and hists[r.index].count]
    ranges = {t.index: tflite_min_max(t.lo, t.hi, rule.symmetric) for t in chosen if t.hi > t.lo}
    summary = CalibrationSummary(
        method=rule.method.value,
        percentile=rule.effective_percentile,
        symmetric=rule.symmetric,
        samples=len(next(iter(samples.values()))),
        tensors=tuple(chosen),
        fixed=tuple(r.name for r in recorded if r.index in fixed),
    )
    logger.debug("calibration %s: %d of %d ranges clipped", rule.describe(), len(summary.clipped), len(chosen))
    return rewrite_ranges(calibrated, recorded, ranges), summary


def _choose(recorded: RecordedRange, hist: Histogram, rule: RangeRule) -> TensorRange:
    lo, hi = choose_range(hist, rule)
    outside = hist.signed().fraction_outside(lo, hi) if hist.limit > 0 else 0.0
    return TensorRange(recorded.index, recorded.name, hist.min, hist.max, lo, hi, outside)


def _fixed_range_outputs(calibrated: bytes) -> set[int]:
    try:
        graph = read_model(calibrated, name="<calibrated model>")
    except EdgeqError as exc:
        logger.debug("cannot read the calibrated model's ops (%s); no range treated as fixed", exc)
        return set()
    return {i for op in graph.operators if op.builtin in FIXED_RANGE_OPS for i in op.outputs}
