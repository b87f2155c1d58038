"""Mixed precision under an accuracy budget: keep the fewest, most sensitive layers float.

``mixed_precision(model, calib_data, eval_data, budget_points)`` calibrates
once (as ``edgeq convert --mode int8``), measures each layer's sensitivity and
greedily keeps layers in float, through the TFLite quantizer's
``denylisted_nodes``, until the accuracy drop against the float model on the
evaluation data is at most ``budget_points``. TensorFlow 2.21 offers no per-layer
int16 activations (its int16x8 mode is whole-model), so "higher precision"
means float: such a model no longer runs integer-only, which matters on
microcontrollers (TFLM int8 kernels, no FPU) and on the Edge TPU (float ops
fall back to the CPU). The result says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edgeq import metrics
from edgeq.data import DEFAULT_SAMPLES
from edgeq.data.labelled import load_labelled
from edgeq.errors import ConversionError, DatasetError, UsageError
from edgeq.litert import Runner
from edgeq.log import logger, quiet
from edgeq.model import read_model
from edgeq.outputs import atomic_write_many
from edgeq.qtypes import DataSource, DataSpec, LabelledSource
from edgeq.quant import mixed_search as ms
from edgeq.quant.layer_map import LayerMap
from edgeq.quant.requantize import Calibrated, Rewrite, calibrate, float_op_outputs
from edgeq.tfimport import ModelSource
from edgeq.timing import measure

Metric = Callable[[np.ndarray, "np.ndarray | None", dict[str, np.ndarray]], float]
"""(first output of every sample, labels or None, inputs) -> score in [0, 1], higher is better."""

RANK_SAMPLES = 64
INTEGER_ONLY_WARNING = (
    "{n} op(s) kept in float: the model no longer runs integer-only "
    "(microcontrollers need float kernels for them; the Edge TPU runs them on the CPU)"
)


def top1_accuracy(outputs: np.ndarray, labels: np.ndarray | None, inputs: dict[str, np.ndarray]) -> float:
    """The default :data:`Metric`: :func:`edgeq.metrics.top1_accuracy`, refusing data without labels."""
    if labels is None:
        raise DatasetError("the evaluation data has no labels; give a labelled .npz (x, y) or class folders")
    return metrics.top1_accuracy(outputs, labels)


@dataclass(frozen=True)
class KeptFloat:
    """One layer kept in float: the op, its Keras layers and every op of its group."""

    op: str
    node: str
    layers: tuple[str, ...]
    gain: float
    float_ops: tuple[str, ...]


@dataclass(frozen=True)
class MixedResult:
    """What mixed precision chose and what it costs. Scores are fractions in [0, 1]."""

    model: str
    output: str | None
    budget_points: float
    metric: str
    eval_samples: int
    float_score: float
    int8_score: float
    score: float
    kept_float: tuple[KeptFloat, ...]
    integer_only: bool
    mechanism: str
    candidates: int
    trials: int
    sizes: dict[str, int]
    latency_p50_ms: dict[str, float]
    seconds: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def int8_drop_points(self) -> float:
        return 100.0 * (self.float_score - self.int8_score)

    @property
    def drop_points(self) -> float:
        return 100.0 * (self.float_score - self.score)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(int8_drop_points=self.int8_drop_points, drop_points=self.drop_points)
        return out


def mixed_precision(
    model: ModelSource,
    calib_data: DataSource,
    eval_data: LabelledSource,
    budget_points: float,
    *,
    output: str | Path | None = None,
    samples: int | None = DEFAULT_SAMPLES,
    seed: int = 0,
    metric: Metric = top1_accuracy,
    eval_limit: int | None = None,
    scale: float = 1.0 / 255.0,
    offset: float = 0.0,
    rewrite: Rewrite | None = None,
) -> MixedResult:
    """Find a small set of layers to keep float so the accuracy drop is within ``budget_points``.

    Args:
        model: SavedModel folder, ``.keras``/``.h5`` path or Keras model.
        calib_data: representative data (calibration and sensitivity ranking).
        eval_data: labelled data the budget is checked on (``.npz`` with x and y,
            class folders, or ``(x, y)`` for the default metric).
        budget_points: largest allowed drop of ``metric`` vs the float model, in points.
        output: where to write the chosen .tflite (and its JSON beside it); None writes nothing.
        samples, seed: the calibration draw. metric: the score (default top-1 accuracy).
        eval_limit: use only the first N evaluation samples.
        scale, offset: image-folder normalisation.
        rewrite: applied to the calibrated flatbuffer and calibration arrays (e.g. another
            calibration method's ranges, see :func:`edgeq.quant.requantize.calibrate`).

    Raises:
        ConversionError: even keeping every layer float misses the budget.
    """
    if not np.isfinite(budget_points) or budget_points < 0:
        raise UsageError(f"--accuracy-budget {budget_points} must be a number of points >= 0")
    started = time.monotonic()
    cal = calibrate(model, calib_data, samples=samples, seed=seed, scale=scale, offset=offset, rewrite=rewrite)
    score = scorer(cal.loaded.inputs, eval_data, metric, eval_limit, scale, offset)
    float_score, int8 = score.of(cal.float_model), cal.quantize()
    search = ms.Search(cal.quantize, score.of, float_score - budget_points / 100.0)
    int8_score = score.of(int8)
    chosen, value, best = _search(cal, search, int8, int8_score, budget_points)
    scores = (float_score, int8_score, value)
    result = _result(cal, model, output, budget_points, metric, score, scores, chosen, search)
    result = _costs(result, cal, {"float": cal.float_model, "int8": int8, "mixed": best}, started)
    if output is not None:
        _write(Path(output), best, result)
    return result


def _search(
    cal: Calibrated, search: ms.Search, int8: bytes, int8_score: float, budget: float
) -> tuple[list[ms.Sensitivity], float, bytes]:
    """(chosen sensitivities, score, model bytes); raises when the budget cannot be met."""
    if search.meets(int8_score):
        logger.info("full int8 is within the %.2f-point budget: every layer stays int8", budget)
        return [], int8_score, int8
    groups = ms.candidate_groups(read_model(cal.calibrated))
    everything, all_float = search.evaluate(groups)
    if not search.meets(everything):
        raise ConversionError(_impossible(search, int8_score, everything, budget, len(groups)))
    error = ms.OutputError(cal.float_model, cal.dataset.arrays, RANK_SAMPLES)
    ranked = ms.rank(groups, cal.quantize, error)
    return search.greedy(ranked) or (ranked, everything, all_float)


def _impossible(search: ms.Search, int8_score: float, best: float, budget: float, groups: int) -> str:
    float_score = search.target + budget / 100.0
    return (
        f"accuracy budget {budget:g} points cannot be met: int8 loses {100 * (float_score - int8_score):.2f} points "
        f"and keeping all {groups} layers float still loses {100 * (float_score - best):.2f} points "
        "(best reached; the int8 model inputs and outputs remain)"
    )


@dataclass(frozen=True)
class Score:
    """The evaluation inputs and labels, and the metric that scores a model on them."""

    inputs: dict[str, np.ndarray]
    labels: np.ndarray | None
    metric: Metric

    def of(self, model: bytes) -> float:
        """The metric of ``model`` on the evaluation data."""
        return float(self.metric(ms.run_outputs(model, self.inputs), self.labels, self.inputs))


def scorer(
    specs: Sequence[DataSpec],
    eval_data: LabelledSource,
    metric: Metric,
    limit: int | None,
    scale: float,
    offset: float,
) -> Score:
    """The :class:`Score` of ``eval_data`` (labelled source or ``(x, y)``) for a model with inputs ``specs``."""
    labels: np.ndarray | None
    if isinstance(eval_data, tuple) and len(eval_data) == 2:
        name = specs[0].name
        inputs, labels = {name: np.asarray(eval_data[0], np.float32)}, np.asarray(eval_data[1])
    else:
        inputs, labels, _ = load_labelled(eval_data, tuple(specs), scale=scale, offset=offset)
    if limit is not None:
        inputs = {k: v[:limit] for k, v in inputs.items()}
        labels = None if labels is None else labels[:limit]
    return Score(inputs, labels, metric)


def _result(  # noqa: PLR0913 - every field of the result comes from somewhere else
    cal: Calibrated,
    model: ModelSource,
    output: str | Path | None,
    budget: float,
    metric: Metric,
    score: Score,
    scores: tuple[float, float, float],
    chosen: list[ms.Sensitivity],
    search: ms.Search,
) -> MixedResult:
    layer_map = LayerMap.from_loaded(cal.loaded)
    kept = tuple(_kept(s, layer_map) for s in chosen)
    return MixedResult(
        model=str(model) if isinstance(model, (str, Path)) else "<keras model>",
        output=None if output is None else str(output),
        budget_points=budget,
        metric=getattr(metric, "__name__", "metric"),
        eval_samples=len(next(iter(score.inputs.values()))),
        float_score=scores[0],
        int8_score=scores[1],
        score=scores[2],
        kept_float=kept,
        integer_only=True,
        mechanism="float fallback (TFLite quantizer denylisted_nodes)" if kept else "none: all int8",
        candidates=len(ms.candidate_groups(read_model(cal.calibrated))),
        trials=search.trials,
        sizes={},
        latency_p50_ms={},
        seconds=0.0,
    )


def _costs(result: MixedResult, cal: Calibrated, models: dict[str, bytes], started: float) -> MixedResult:
    """Fill in sizes, latencies, the integer-only flag and its warning."""
    float_ops = float_op_outputs(read_model(models["mixed"]))
    warnings = (INTEGER_ONLY_WARNING.format(n=len(float_ops)),) if float_ops else ()
    for text in warnings:
        logger.warning("warning: %s", text)
    return replace(
        result,
        integer_only=not float_ops,
        sizes={k: len(v) for k, v in models.items()},
        latency_p50_ms=_latencies(models, cal.dataset.arrays),
        seconds=round(time.monotonic() - started, 2),
        warnings=warnings,
    )


def _kept(item: ms.Sensitivity, layer_map: LayerMap) -> KeptFloat:
    g = item.group
    return KeptFloat(g.op, g.node, layer_map.layers(g.node), round(item.gain, 4), g.nodes)


def _latencies(models: dict[str, bytes], arrays: dict[str, np.ndarray]) -> dict[str, float]:
    """p50 of each distinct model (a mixed model that is the int8 model is not timed twice)."""
    out: dict[str, float] = {}
    for key, model in models.items():
        same = next((k for k in out if models[k] == model), None)
        out[key] = out[same] if same else latency_p50(model, arrays)
    return out


def latency_p50(model: bytes, arrays: dict[str, np.ndarray], runs: int = 200) -> float:
    """Median LiteRT latency of one inference in milliseconds (one thread)."""
    with quiet():
        runner = Runner(model, threads=1)
    sample = [arrays[n][:1] for n in arrays]
    values = [info.quantize(v) for v, info in zip(sample, runner.inputs)]
    return round(measure(lambda: runner.run(values), runs=runs, warmup=20).p50, 4)


def _write(path: Path, model: bytes, result: MixedResult) -> None:
    text = json.dumps(result.to_dict(), indent=2) + "\n"
    atomic_write_many([(path, model), (path.with_suffix(".json"), text.encode())])


__all__ = ["KeptFloat", "Metric", "MixedResult", "Score", "mixed_precision", "scorer", "top1_accuracy"]
