"""``edgeq run``: a batch of inputs through a model on a target, raw outputs back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeq.errors import DatasetError
from edgeq.model import Graph, read_model
from edgeq.model.reader import read_bytes
from edgeq.targets import get_target


@dataclass(frozen=True)
class RunResult:
    target: str
    samples: int
    outputs: list[np.ndarray]


def prepare_inputs(graph: Graph, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Check shapes and dtypes; float data for an integer input is quantized with its parameters."""
    if len(arrays) != len(graph.inputs):
        raise DatasetError(f"the model has {len(graph.inputs)} inputs, got {len(arrays)} arrays")
    return [_prepare(t, a) for t, a in zip(graph.input_tensors, arrays)]


def _prepare(tensor, array: np.ndarray) -> np.ndarray:
    sample = tuple(tensor.shape[1:]) if tensor.shape and tensor.shape[0] == 1 else tuple(tensor.shape)
    if tuple(array.shape[1:]) != sample:
        raise DatasetError(f"input {tensor.name} expects (N, {', '.join(map(str, sample))}), got {array.shape}")
    if tensor.dtype in ("int8", "uint8", "int16") and array.dtype.kind == "f":
        from edgeq.runtime import IOInfo, quantize

        q = tensor.quantization
        info = IOInfo(0, tensor.name, tensor.shape, np.dtype(tensor.dtype), float(q.scale[0]), int(q.zero_point[0]))
        if not np.isfinite(array).all():
            bad = int(np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(1))[0])
            raise DatasetError(f"sample {bad} of the input contains NaN or Inf")
        return quantize(array, info)
    if array.dtype != np.dtype(tensor.dtype):
        raise DatasetError(f"input {tensor.name} is {tensor.dtype}, got {array.dtype} data")
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


def run_dataset(model: str | Path, target: str, folder: Path, **options: object):
    """Run an MLPerf Tiny dataset folder (.bin files + y_labels.csv); returns (RunResult, DatasetScore)."""
    from edgeq.mlperf_eval import dataset_inputs, score

    graph = read_model(read_bytes(model), name=str(model))
    data, inputs, owners = dataset_inputs(graph, folder)
    result = run(model, target, inputs, **options)
    return result, score(graph, data, inputs, result.outputs, owners)
