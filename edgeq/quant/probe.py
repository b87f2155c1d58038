"""Run TFLite models with every intermediate tensor kept, and accumulate error statistics.

LiteRT normally reuses tensor memory; ``experimental_preserve_all_tensors=True``
keeps each intermediate readable after ``invoke()``. Inputs are fed as float
samples and quantized the way the model's input says (round half away from
zero, clamp: :meth:`edgeq.model.io.ModelIO.quantize`), exactly as :class:`edgeq.litert.Runner` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edgeq.errors import DependencyError
from edgeq.litert import feed_order, interpreter_class
from edgeq.log import quiet
from edgeq.metrics import snr_db
from edgeq.model import read_model
from edgeq.model.io import model_inputs

ROUNDING_ONLY = 1.0 / math.sqrt(12.0)
"""RMSE of pure rounding to a grid of step 1 (uniform error on [-0.5, 0.5])."""
MAGNITUDE_SAMPLES = 512  # non-zero values kept per tensor and sample for the median


class TensorProbe:
    """A LiteRT interpreter over ``model`` that keeps every tensor after each run."""

    def __init__(self, model: bytes, input_names: list[str]) -> None:
        cls, package = interpreter_class()
        try:
            with quiet():
                self.interpreter = cls(model_content=model, experimental_preserve_all_tensors=True)
                self.interpreter.allocate_tensors()
        except TypeError as exc:
            raise DependencyError(
                f"{package} cannot keep intermediate tensors ({exc}); pip install ai-edge-litert"
            ) from exc
        self.inputs = list(model_inputs(read_model(model)))
        self.order = feed_order([info.name for info in self.inputs], input_names, same_count=True)

    def run(self, sample: list[np.ndarray]) -> None:
        """Run one sample: float arrays with batch axis 1, in data order."""
        for info, k in zip(self.inputs, self.order):
            value = info.quantize(np.asarray(sample[k], np.float32))
            self.interpreter.set_tensor(info.index, value.reshape(info.shape))
        self.interpreter.invoke()

    def tensor(self, index: int) -> np.ndarray:
        """The value of tensor ``index`` after the last run (raw dtype)."""
        return self.interpreter.get_tensor(index)


@dataclass
class ErrorStats:
    """Running statistics of an approximation against a float reference tensor."""

    count: int = 0
    sum_sq_err: float = 0.0
    sum_sq_ref: float = 0.0
    ref_min: float = math.inf
    ref_max: float = -math.inf
    saturated: int = 0
    magnitudes: list[np.ndarray] = field(default_factory=list, repr=False)

    def update(self, ref: np.ndarray, approx: np.ndarray, lo: float, hi: float, step: float) -> None:
        """Add one sample; values of ``ref`` beyond [lo, hi] by more than half a step count as saturated."""
        ref = np.asarray(ref, np.float64).reshape(-1)
        err = np.asarray(approx, np.float64).reshape(-1) - ref
        self.count += ref.size
        self.sum_sq_err += float(err @ err)
        self.sum_sq_ref += float(ref @ ref)
        if ref.size:
            self.ref_min = min(self.ref_min, float(ref.min()))
            self.ref_max = max(self.ref_max, float(ref.max()))
        self.saturated += int(np.count_nonzero((ref < lo - step / 2) | (ref > hi + step / 2)))
        nonzero = np.abs(ref[ref != 0.0])
        self.magnitudes.append(nonzero[:: max(1, nonzero.size // MAGNITUDE_SAMPLES)])

    def median_magnitude(self) -> float | None:
        """Median |value| of the reference's non-zero values (from a subsample of each update)."""
        values = np.concatenate(self.magnitudes) if self.magnitudes else np.empty(0)
        return float(np.median(values)) if values.size else None

    @property
    def rmse(self) -> float | None:
        return math.sqrt(self.sum_sq_err / self.count) if self.count else None

    @property
    def snr_db(self) -> float | None:
        """Signal-to-noise ratio in dB (None when the error is exactly zero or nothing was seen)."""
        return snr_db(self.sum_sq_ref, self.sum_sq_err) if self.count else None

    @property
    def saturation(self) -> float | None:
        return self.saturated / self.count if self.count else None


def dequantize_tensor(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Integer tensor -> float with one scale and zero point."""
    return (q.astype(np.float64) - zero_point) * scale


__all__ = ["ROUNDING_ONLY", "ErrorStats", "TensorProbe", "dequantize_tensor"]
