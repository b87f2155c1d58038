"""Mixed int4/int8 weights under an accuracy budget: the most bytes saved for at most PTS points.

``mixed_bits(model, calib_data, eval_data, budget_points)`` converts the float
model at batch 1 and calibrates it once with the AI Edge Quantizer
(:mod:`edgeq.convert.int4`); every candidate model after that is the same
calibration quantized with another recipe (int8 activations everywhere, int4 or
int8 per-channel weights per conv/depthwise/dense layer), so the only thing
that differs between candidates is the weights' bits.

The budget is counted from the all-int8 model of the same quantizer and
calibration, not from the float model: it is what int4 costs on top of int8.

1. All layers int4 within budget: done (one evaluation).
2. Sensitivity: each layer alone gets int4 weights and the model's output
   error against the float model is measured on calibration samples (no labels
   needed, no peek at the evaluation data); the sensitivity is how much that
   error grows over the all-int8 model's. This measures exactly the decision
   being made; ``edgeq analyze``'s per-layer activation error is measured in
   the int8 model and cannot see what 4-bit weights do to a layer.
3. Layers are tried in order of bytes saved per unit of sensitivity: each one
   is added to the int4 set when the accuracy on the evaluation data (held out
   from calibration) stays within budget, and skipped when not. The model
   written is the last accepted one, whose accuracy was measured.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgeq.convert.int4 import QUANTIZER, Int4Quantizer, WeightLayer, batch1_float_model, quantizer_version
from edgeq.convert.loader import load_model
from edgeq.convert.report import find_float_ops
from edgeq.data import DEFAULT_SAMPLES, load_dataset
from edgeq.errors import ConversionError, UsageError
from edgeq.log import logger, progress
from edgeq.model import read_model
from edgeq.outputs import atomic_write_many
from edgeq.qtypes import DataSource, LabelledSource
from edgeq.quant import mixed_search as ms
from edgeq.quant.mixed import RANK_SAMPLES, Metric, scorer, top1_accuracy
from edgeq.tfimport import ModelSource, import_tf

MIN_SENSITIVITY = 1e-9  # a layer whose int4 weights change nothing measurable still sorts by bytes saved


@dataclass(frozen=True)
class LayerChoice:
    """One conv/depthwise/dense layer: its weight bits, the bytes int4 saves on it, its sensitivity."""

    op: str
    layer: str | None
    output: str
    weight: str
    shape: tuple[int, ...]
    bits: int
    saved_bytes: int
    sensitivity: float | None


@dataclass(frozen=True)
class MixedBitsResult:
    """What the int4/int8 search chose and what it costs. Scores are fractions in [0, 1]."""

    model: str
    output: str | None
    budget_points: float
    metric: str
    eval_samples: int
    float_score: float
    int8_score: float
    int4_score: float
    score: float
    layers: tuple[LayerChoice, ...]
    quantizer: str
    sizes: dict[str, int]
    trials: int
    seconds: float

    @property
    def drop_points(self) -> float:
        """Points lost against the all-int8 model."""
        return 100.0 * (self.int8_score - self.score)

    @property
    def int4_layers(self) -> int:
        return sum(1 for layer in self.layers if layer.bits == 4)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(drop_points=self.drop_points, int4_layers=self.int4_layers)
        return out


def mixed_bits(
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
) -> MixedBitsResult:
    """Choose int4 or int8 weights per layer: the smallest model within ``budget_points`` of int8.

    Args:
        model: SavedModel folder, ``.keras``/``.h5`` path or Keras model.
        calib_data: representative data (calibration and sensitivity).
        eval_data: labelled data the budget is checked on (``.npz`` with x and y,
            class folders, or ``(x, y)``).
        budget_points: largest allowed drop of ``metric`` vs the all-int8 model, in points.
        output: where to write the chosen .tflite (and its JSON beside it); None writes nothing.
        samples, seed: the calibration draw. metric: the score (default top-1 accuracy).
        eval_limit: use only the first N evaluation samples. scale, offset: image-folder normalisation.

    Raises DependencyError (no AI Edge Quantizer) and ConversionError (an op stays float).
    """
    if not budget_points >= 0 or budget_points == float("inf"):
        raise UsageError(f"--accuracy-budget {budget_points} must be a number of points >= 0")
    version = quantizer_version()
    started = time.monotonic()
    loaded = load_model(model)
    dataset = load_dataset(calib_data, loaded.inputs, samples=samples, seed=seed, scale=scale, offset=offset)
    float_model = batch1_float_model(import_tf(), loaded)
    quantizer = Int4Quantizer(float_model, dataset, loaded.layer_names)
    score = scorer(loaded.inputs, eval_data, metric, eval_limit, scale, offset)
    int8 = quantizer.quantize(set())
    _check_integer(int8, loaded.layer_names)  # a float op would be in every candidate: fail before the search
    int8_score = score.of(int8)
    search = ms.Search(quantizer.quantize, score.of, int8_score - budget_points / 100.0)
    int4_score, int4 = search.evaluate(_groups(quantizer.layers))
    if search.meets(int4_score):
        logger.info("all %d layers int4 are within the %.2f-point budget", len(quantizer.layers), budget_points)
        chosen, value, best, sensitivity = {layer.output for layer in quantizer.layers}, int4_score, int4, {}
    else:
        sensitivity = _sensitivity(quantizer, float_model, dataset.arrays, int8)
        chosen, value, best = _greedy(search, quantizer.layers, sensitivity, (int8_score, int8))
    result = MixedBitsResult(
        model=str(model) if isinstance(model, (str, Path)) else "<keras model>",
        output=None if output is None else str(output),
        budget_points=budget_points,
        metric=getattr(metric, "__name__", "metric"),
        eval_samples=len(next(iter(score.inputs.values()))),
        float_score=score.of(float_model),
        int8_score=int8_score,
        int4_score=int4_score,
        score=value,
        layers=tuple(_choice(layer, chosen, sensitivity) for layer in quantizer.layers),
        quantizer=f"{QUANTIZER} {version}",
        sizes=_sizes(float_model, int8, int4, best),
        trials=search.trials,
        seconds=round(time.monotonic() - started, 2),
    )
    if output is not None:
        _write(Path(output), best, result)
    return result


def _sizes(float_model: bytes, int8: bytes, int4: bytes, mixed: bytes) -> dict[str, int]:
    return {"float": len(float_model), "int8": len(int8), "int4": len(int4), "mixed": len(mixed)}


def _check_integer(model: bytes, layer_names: tuple[str, ...]) -> None:
    """ConversionError naming the ops that stayed float (the model is meant to be integer-only)."""
    float_ops = find_float_ops(read_model(model), layer_names)
    if float_ops:
        listed = ", ".join(op.describe() for op in float_ops)
        raise ConversionError(
            f"{len(float_ops)} op(s) stayed float with --weights int4: {listed}; "
            "replace those layers with integer-friendly ones"
        )


def _sensitivity(quantizer: Int4Quantizer, float_model: bytes, arrays: dict[str, Any], int8: bytes) -> dict[str, float]:
    """Each layer's growth of the output error (relative to the float model) when it alone is int4."""
    error = ms.OutputError(float_model, arrays, RANK_SAMPLES)
    base = error(int8)
    out: dict[str, float] = {}
    for layer in progress(quantizer.layers, len(quantizer.layers), "measuring int4 sensitivity"):
        out[layer.output] = max(error(quantizer.quantize({layer.output})) - base, 0.0)
        logger.debug("int4 sensitivity %s %s: %.3g", layer.op, layer.output, out[layer.output])
    return out


def _groups(layers: Sequence[WeightLayer]) -> list[ms.Group]:
    """The layers as the search's groups: one output tensor each, the name the int4 recipe selects."""
    return [ms.Group(layer.op_index, layer.op, layer.output, (layer.output,)) for layer in layers]


def _greedy(
    search: ms.Search, layers: tuple[WeightLayer, ...], sensitivity: dict[str, float], int8: tuple[float, bytes]
) -> tuple[set[str], float, bytes]:
    """Add layers by bytes saved per unit of sensitivity while the evaluation score stays within budget."""
    order = sorted(layers, key=lambda lay: -lay.saved_bytes / max(sensitivity[lay.output], MIN_SENSITIVITY))
    chosen: set[str] = set()
    value, best = int8
    for candidate in progress(order, len(order), "choosing int4 layers"):
        names = chosen | {candidate.output}
        trial_value, trial_model = search.evaluate(_groups([lay for lay in layers if lay.output in names]))
        logger.debug("int4 %s: score %.4f (target %.4f)", candidate.output, trial_value, search.target)
        if search.meets(trial_value):
            chosen, value, best = names, trial_value, trial_model
    return chosen, value, best


def _choice(layer: WeightLayer, chosen: set[str], sensitivity: dict[str, float]) -> LayerChoice:
    bits = 4 if layer.output in chosen else 8
    value = sensitivity.get(layer.output)
    return LayerChoice(
        op=layer.op,
        layer=layer.layer,
        output=layer.output,
        weight=layer.weight,
        shape=layer.shape,
        bits=bits,
        saved_bytes=layer.saved_bytes if bits == 4 else 0,
        sensitivity=None if value is None else float(f"{value:.4g}"),
    )


def _write(path: Path, model: bytes, result: MixedBitsResult) -> None:
    text = json.dumps(result.to_dict(), indent=2) + "\n"
    atomic_write_many([(path, model), (path.with_suffix(".json"), text.encode())])


__all__ = ["LayerChoice", "MixedBitsResult", "mixed_bits"]
