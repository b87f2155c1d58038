"""An MLPerf Tiny dataset folder (``.bin`` inputs + ``y_labels.csv``) through a model on any target.

Classifiers report top-1 accuracy; anomaly detection (rows with window and
stride) reports ROC AUC over files, each file scored by the mean over its
windows of the MSE between the dequantized reconstruction and the dequantized
input, as the MLPerf Tiny runner does.

Files (and windows) are read by the rule of :func:`edgeq.data.binfiles.decode_bin`,
the one ``edgeq convert`` reads .bin calibration files with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeq.data.binfiles import BinFormat, decode_bin
from edgeq.errors import DatasetError
from edgeq.metrics import file_score, mse_per_sample, roc_auc, top1_accuracy
from edgeq.model import Graph
from edgeq.model.io import ModelIO, model_inputs, model_outputs
from edgeq.serialdut.dataset import MlperfDataset, bin_layout, load_mlperf_dataset, stack_samples

TRUTH_FILE = "y_labels.csv"


@dataclass(frozen=True)
class DatasetScore:
    metric: str  # "top1_accuracy" or "roc_auc"
    value: float
    files: int
    inputs: int


def is_mlperf_folder(path: Path) -> bool:
    return path.is_dir() and (path / TRUTH_FILE).is_file()


def dataset_inputs(
    graph: Graph, folder: Path, fmt: BinFormat | None = None
) -> tuple[MlperfDataset, list[np.ndarray], list[int]]:
    """The dataset, one (N, ...) array per model input over every window, and the file of each window.

    ``fmt``: the quantization of one-byte-per-element files (``--bin-dtype`` ...), or None.
    """
    data = load_mlperf_dataset(folder)
    if not _windowed(data):
        return data, data.arrays(graph.input_tensors, fmt), list(range(len(data.samples)))
    owners, pieces, layout = [], [], bin_layout(graph.input_tensors)
    for k, sample in enumerate(data.samples):
        for n, window in enumerate(sample.windows()):
            owners.append(k)
            pieces.append(decode_bin(window, layout, f"window {n} of {sample.row.file}", fmt))
    if not pieces:
        raise DatasetError(f"{folder}: no file is as long as one window; check the window column of {TRUTH_FILE}")
    return data, stack_samples(pieces, str(folder)), owners


def score(graph: Graph, data: MlperfDataset, inputs: list[np.ndarray], outputs: list[np.ndarray], owners: list[int]):
    """Top-1 accuracy of output 0, or ROC AUC of the per-file reconstruction error."""
    if not _windowed(data):
        scores = np.asarray(outputs[0]).reshape(len(owners), -1).astype(np.float64)
        value = top1_accuracy(scores, data.labels, validate=True)
        return DatasetScore("top1_accuracy", value, len(data.samples), len(owners))
    errors = _mse(_real(inputs[0], model_inputs(graph)[0]), _real(outputs[0], model_outputs(graph)[0]))
    per_file = [file_score(errors[np.asarray(owners) == k]) for k in range(len(data.samples))]
    return DatasetScore("roc_auc", roc_auc(np.asarray(per_file), data.labels), len(data.samples), len(owners))


def _windowed(data: MlperfDataset) -> bool:
    return any(s.row.window is not None for s in data.samples)


def _real(values: np.ndarray, spec: ModelIO) -> np.ndarray:
    """Real values (float64) of raw tensor values; float arrays (real already) pass unchanged."""
    if spec.scale is None or values.dtype.kind == "f":  # spec.scale is None: not quantized
        return np.asarray(values, np.float64)
    return (np.asarray(values, np.float64) - (spec.zero_point or 0)) * spec.scale


def _mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if a.shape != b.shape:
        raise DatasetError(f"anomaly scoring needs an autoencoder: input {a.shape[1:]} vs output {b.shape[1:]}")
    return mse_per_sample(a, b)
