"""``edgeq evaluate``: a reference model against a candidate .tflite on the same data.

The reference is a Keras model / SavedModel (needs TensorFlow) or a .tflite;
the candidate is a .tflite run with LiteRT. With labels: top-1 accuracy of both
and the drop in points; always: agreement of the top-1 predictions and RMSE and
SNR of the dequantized outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.convert.fidelity import compare_outputs, ordered_inputs
from edgeq.convert.loader import load_model
from edgeq.data.labelled import load_labelled
from edgeq.errors import UsageError
from edgeq.litert import Runner
from edgeq.log import logger, progress, quiet
from edgeq.metrics import top1_accuracy
from edgeq.qtypes import DataSource, DataSpec
from edgeq.tfimport import ModelSource

Predictor = Callable[[dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class EvaluationResult:
    """Reference vs candidate on one data set. Accuracies are fractions in [0, 1]."""

    reference: str
    candidate: str
    data: str
    samples: int
    labelled: bool
    reference_accuracy: float | None
    candidate_accuracy: float | None
    accuracy_drop_points: float | None
    top1_agreement: float | None
    rmse: float
    snr_db: float | None
    max_abs_error: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    reference: ModelSource,
    candidate: str | Path,
    data: DataSource,
    *,
    limit: int | None = None,
    scale: float = 1 / 255,
    offset: float = 0.0,
) -> EvaluationResult:
    """Run both models on ``data`` and compare them (see module docstring)."""
    cand = Runner(Path(candidate))
    specs = cand.data_specs()
    ref_predict, ref_specs = _reference_predictor(reference)
    specs = ref_specs or specs
    inputs, labels, _ = load_labelled(data, specs, scale=scale, offset=offset)
    if limit is not None:
        inputs = {k: v[:limit] for k, v in inputs.items()}
        labels = None if labels is None else labels[:limit]
    count = len(next(iter(inputs.values())))
    ref_out = ref_predict(inputs)
    cand_out = _run_tflite(cand, inputs, "candidate")
    return _result(reference, candidate, data, count, labels, ref_out, cand_out)


def _result(reference, candidate, data, count, labels, ref_out, cand_out) -> EvaluationResult:
    metrics = compare_outputs(ref_out, cand_out)
    ref_acc = cand_acc = drop = None
    if labels is not None:
        ref_acc = top1_accuracy(ref_out, labels)
        cand_acc = top1_accuracy(cand_out, labels)
        drop = 100.0 * (ref_acc - cand_acc)
    return EvaluationResult(
        str(reference),
        str(candidate),
        str(data),
        count,
        labels is not None,
        ref_acc,
        cand_acc,
        drop,
        metrics["top1_agreement"],
        metrics["rmse"],
        metrics["snr_db"],
        metrics["max_abs_error"],
    )


def _reference_predictor(reference: ModelSource) -> tuple[Predictor, list[DataSpec] | None]:
    if isinstance(reference, (str, Path)) and str(reference).lower().endswith(".tflite"):
        runner = Runner(Path(reference))
        return (lambda inputs: _run_tflite(runner, inputs, "reference")), None
    loaded = load_model(reference)
    if loaded.keras_model is None:
        raise_for_savedmodel(reference)
    model = loaded.keras_model
    specs = [DataSpec(s.name, s.shape, "float32") for s in loaded.inputs]

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        args = [inputs[s.name] for s in specs]
        with quiet():
            out = model.predict(args if len(args) > 1 else args[0], batch_size=64, verbose=0)
        return np.asarray(out[0] if isinstance(out, list) else out, np.float32)

    return predict, specs


def raise_for_savedmodel(reference: ModelSource) -> None:
    raise UsageError(
        f"{reference}: a SavedModel reference is not supported by evaluate; "
        "pass the float .tflite (edgeq convert --mode float16 or a plain conversion) or a .keras/.h5 file"
    )


def _run_tflite(runner: Runner, inputs: dict[str, np.ndarray], label: str) -> np.ndarray:
    names = list(inputs)
    order = ordered_inputs(runner, names)
    count = len(inputs[names[0]])
    outputs = []
    for i in progress(range(count), count, f"running {label}"):
        sample = [inputs[names[j]][i : i + 1] for j in order]
        outputs.append(runner.run_float(sample)[0][0])
    logger.debug("%s: %d samples", label, count)
    return np.stack(outputs)
