"""Quality metrics, one definition each, as pure numpy functions.

- :func:`top1`, :func:`top1_accuracy`, :func:`agreement`: classifier outputs, each
  sample's scores flattened (probabilities, logits or quantized outputs alike).
- :func:`rmse`, :func:`snr_db`: how far a candidate's outputs moved from a reference.
- :func:`roc_auc`, :func:`average_ranks`, :func:`file_score`, :func:`mse_per_sample`:
  anomaly detection as MLPerf Tiny scores it (ad01): the ROC AUC of a per-file
  score, the mean over the file's windows of an autoencoder's reconstruction error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from edgeq.errors import DatasetError

SNR_FLOOR = 1e-30
"""Signal power below this counts as this much in :func:`snr_db` (an all-zero reference)."""


def top1(scores: np.ndarray) -> np.ndarray:
    """The index of each sample's highest score: (N, ...) -> (N,), each sample flattened (first maximum wins)."""
    scores = np.asarray(scores)
    return scores.reshape(len(scores), -1).argmax(axis=1)


def top1_accuracy(scores: np.ndarray, labels: np.ndarray, *, validate: bool = False) -> float:
    """Fraction of samples whose highest score is the true class.

    Args:
        scores: (N, ...) class scores; each sample is flattened.
        labels: (N,) true class indices.
        validate: Also require (N, C) scores and labels in 0..C-1 (as MLPerf Tiny scoring does);
            otherwise a label no score can match just counts as a miss.

    Raises:
        DatasetError: No samples, or not one label per sample (or, with ``validate``, the checks above).
    """
    scores, labels = np.asarray(scores), np.asarray(labels).reshape(-1)
    if scores.ndim == 0 or len(scores) != len(labels) or len(labels) == 0 or (validate and scores.ndim != 2):
        raise DatasetError(f"top-1 accuracy needs (N, C) scores and N labels, got {scores.shape} and {labels.shape}")
    if validate and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise DatasetError(f"labels must be class indices 0..{scores.shape[1] - 1}, got {labels.min()}..{labels.max()}")
    return float(np.mean(top1(scores) == labels))


def agreement(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Fraction of samples on which two models' outputs (N, ...) have the same top-1 class."""
    return float(np.mean(top1(reference) == top1(candidate)))


def rmse(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Root mean squared error of ``candidate`` against ``reference`` (computed in float64)."""
    err = np.asarray(candidate, np.float64) - np.asarray(reference, np.float64)
    return float(np.sqrt(np.mean(err**2)))


def snr_db(signal_power: float, noise_power: float) -> float | None:
    """Signal-to-noise ratio in dB: 10 log10(signal / noise); None when the noise is exactly zero.

    Powers are mean squares (or sums of squares over the same count) of the
    reference and of the error; a signal below :data:`SNR_FLOOR` counts as that floor.
    """
    if noise_power == 0.0:
        return None
    return 10.0 * math.log10(max(signal_power, SNR_FLOOR) / noise_power)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; tied values share the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse.reshape(-1)]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for binary ``labels`` (1 = positive, e.g. anomaly).

    Computed as the Mann-Whitney U statistic with average ranks for ties: the
    probability that a random positive scores above a random negative, ties counting half.

    Raises:
        DatasetError: Shapes differ, scores are not finite, labels are not 0/1 or one class is absent.
    """
    scores, labels = np.asarray(scores, np.float64).reshape(-1), np.asarray(labels).reshape(-1)
    if len(scores) != len(labels):
        raise DatasetError(f"{len(scores)} scores for {len(labels)} labels; give one score per label")
    if not np.isfinite(scores).all():
        raise DatasetError("the anomaly scores contain NaN or Inf")
    if not np.isin(labels, (0, 1)).all():
        raise DatasetError("ROC AUC needs labels 0 (normal) and 1 (anomaly)")
    positive = labels == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise DatasetError(f"ROC AUC needs both classes, got {n_pos} anomalies and {n_neg} normal samples")
    rank_sum = average_ranks(scores)[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def file_score(window_scores: Sequence[float]) -> float:
    """One file's anomaly score: the mean over its windows (as the MLPerf Tiny runner averages)."""
    if len(window_scores) == 0:
        raise DatasetError("a file with no windows has no anomaly score; is it shorter than one window?")
    return float(np.mean(window_scores))


def mse_per_sample(reconstruction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-sample mean squared error between (N, ...) arrays: an autoencoder's anomaly score (float64).

    Raises:
        DatasetError: The arrays differ in shape.
    """
    a, b = np.asarray(reconstruction, np.float64), np.asarray(reference, np.float64)
    if a.shape != b.shape or a.ndim == 0:
        raise DatasetError(f"reconstruction {a.shape} and reference {b.shape} must have the same (N, ...) shape")
    return ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)


__all__ = [
    "SNR_FLOOR",
    "agreement",
    "average_ranks",
    "file_score",
    "mse_per_sample",
    "rmse",
    "roc_auc",
    "snr_db",
    "top1",
    "top1_accuracy",
]
