"""Quick check of a converted model against its float reference.

This is not an accuracy measurement (that needs labels: ``edgeq evaluate``),
but it tells right away how far the quantized outputs moved: top-1 agreement
for classifier-shaped outputs, RMSE and SNR of the dequantized outputs. The
conversion pipeline runs it on samples held out from calibration when the data
has them: on the calibration samples themselves, to which the quantizer fitted
its ranges, a badly calibrated model can still look perfect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np

from edgeq.litert import Runner, feed_order
from edgeq.log import quiet
from edgeq.metrics import agreement, rmse, snr_db


class OutputMetrics(TypedDict):
    """What :func:`compare_outputs` measures (a plain dict at run time)."""

    rmse: float
    snr_db: float | None  # None: identical outputs (infinite SNR)
    top1_agreement: float | None  # None: outputs not classifier-shaped
    max_abs_error: float


def compare_outputs(reference: Sequence[np.ndarray], candidate: Sequence[np.ndarray]) -> OutputMetrics:
    """Metrics between stacked float outputs (N, ...) of a reference and a candidate."""
    ref = np.asarray(reference, np.float64)
    cand = np.asarray(candidate, np.float64)
    err = cand - ref
    classifier = ref.ndim >= 2 and ref.shape[-1] > 1 and ref.size // ref.shape[-1] == len(ref)
    return {
        "rmse": rmse(ref, cand),
        "snr_db": snr_db(float(np.mean(ref**2)), float(np.mean(err**2))),
        "top1_agreement": agreement(ref, cand) if classifier else None,
        "max_abs_error": float(np.max(np.abs(err))) if err.size else 0.0,
    }


def ordered_inputs(runner: Runner, names: Sequence[str]) -> list[int]:
    """For each runtime input, the index in ``names`` of the data array that feeds it."""
    return feed_order([info.name for info in runner.inputs], names)


def check_fidelity(
    float_model: bytes, quant_model: bytes, samples: dict[str, np.ndarray], limit: int
) -> dict[str, object] | None:
    """Run both models on up to ``limit`` of ``samples``; metrics of the first output (and ``samples``: the count)."""
    if limit <= 0:
        return None
    names = list(samples)
    count = min(limit, len(samples[names[0]]))
    with quiet():
        ref_runner, cand_runner = Runner(float_model), Runner(quant_model)
    ref_order, cand_order = ordered_inputs(ref_runner, names), ordered_inputs(cand_runner, names)
    ref_out, cand_out = [], []
    for i in range(count):
        sample = [samples[n][i : i + 1] for n in names]
        ref_out.append(ref_runner.run_float([sample[j] for j in ref_order])[0])
        cand_out.append(cand_runner.run_float([sample[j] for j in cand_order])[0])
    metrics: dict[str, object] = dict(compare_outputs(ref_out, cand_out))
    metrics["samples"] = count
    return metrics
