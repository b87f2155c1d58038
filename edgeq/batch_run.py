"""``edgeq run``: a batch of inputs through a model on a target, raw outputs back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgeq.errors import DatasetError
from edgeq.model import Graph, read_model
from edgeq.model.io import ModelIO, model_inputs
from edgeq.model.reader import read_bytes
from edgeq.targets import get_target

if TYPE_CHECKING:
    from edgeq.data.binfiles import BinFormat
    from edgeq.mlperf_eval import DatasetScore


@dataclass(frozen=True)
class RunResult:
    target: str
    samples: int
    outputs: list[np.ndarray]


def prepare_inputs(graph: Graph, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Check shapes and dtypes; float data for an integer input is quantized with its parameters."""
    if len(arrays) != len(graph.inputs):
        raise DatasetError(f"the model has {len(graph.inputs)} inputs, got {len(arrays)} arrays")
    check_sample_counts(arrays, "the input")
    return [_prepare(spec, a) for spec, a in zip(model_inputs(graph), arrays)]


def check_sample_counts(arrays: list[np.ndarray], what: str) -> None:
    """DatasetError unless every array has the same number N >= 1 of samples (axis 0)."""
    shapes = [tuple(np.shape(a)) for a in arrays]
    if any(not s for s in shapes):
        raise DatasetError(f"{what} holds a scalar; give an array of shape (N, *input_shape)")
    counts = [s[0] for s in shapes]
    if len(set(counts)) > 1:
        raise DatasetError(f"{what} holds arrays of different sample counts {counts}; give every input the same N")
    if counts and counts[0] == 0:
        raise DatasetError(f"{what} holds no samples (shape {shapes[0]}); give at least one sample")


def _prepare(spec: ModelIO, array: np.ndarray) -> np.ndarray:
    sample = spec.sample_shape
    if tuple(array.shape[1:]) != sample:
        raise DatasetError(f"input {spec.name} expects (N, {', '.join(map(str, sample))}), got {array.shape}")
    if spec.dtype in ("int8", "uint8", "int16") and spec.quantized and array.dtype.kind == "f":
        if not np.isfinite(array).all():
            bad = int(np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(1))[0])
            raise DatasetError(f"sample {bad} of the input contains NaN or Inf")
        return spec.quantize(array)
    if array.dtype != spec.numpy_dtype:
        raise DatasetError(f"input {spec.name} is {spec.dtype}, got {array.dtype} data")
    return np.ascontiguousarray(array)


def run(model: str | Path, target: str, inputs: list[np.ndarray], **options: object) -> RunResult:
    """Run ``inputs`` (one (N, ...) array per model input) through ``model`` on ``target``.

    ``options`` reach the target (``port`` and ``baud`` for ``serial``).
    """
    data = read_bytes(model)
    graph = read_model(data, name=str(model))
    prepared = prepare_inputs(graph, inputs)
    outputs = get_target(target, **options).run(data, prepared)
    return RunResult(target, len(prepared[0]), outputs)


def run_dataset(
    model: str | Path, target: str, folder: Path, bin_format: BinFormat | None = None, **options: object
) -> tuple[RunResult, DatasetScore]:
    """Run an MLPerf Tiny dataset folder (.bin files + y_labels.csv); returns (RunResult, DatasetScore).

    ``bin_format``: a :class:`edgeq.data.binfiles.BinFormat` for one-byte-per-element
    files holding another model's quantized input, or None (see that module's rule).
    """
    from edgeq.mlperf_eval import dataset_inputs, score

    graph = read_model(read_bytes(model), name=str(model))
    data, inputs, owners = dataset_inputs(graph, folder, bin_format)
    result = run(model, target, inputs, **options)
    return result, score(graph, data, inputs, result.outputs, owners)
