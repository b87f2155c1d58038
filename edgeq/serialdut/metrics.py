"""MLPerf Tiny quality metrics as pure numpy functions: top-1 accuracy and ROC AUC.

Classification (ic01, kws01, vww01) scores with top-1 accuracy; anomaly detection
(ad01) with the ROC AUC of a per-file anomaly score: the MSE the DUT reports (or
:func:`reconstruction_mse` of the outputs), averaged over the file's windows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgeq.errors import DatasetError


def top1_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose highest score is the true class.

    Args:
        scores: (N, C) class scores (probabilities, logits or quantized outputs).
        labels: (N,) true class indices.
    """
    scores, labels = np.asarray(scores), np.asarray(labels).reshape(-1)
    if scores.ndim != 2 or len(scores) != len(labels) or len(labels) == 0:
        raise DatasetError(f"top-1 accuracy needs (N, C) scores and N labels, got {scores.shape} and {labels.shape}")
    if labels.min() < 0 or labels.max() >= scores.shape[1]:
        raise DatasetError(f"labels must be class indices 0..{scores.shape[1] - 1}, got {labels.min()}..{labels.max()}")
    return float(np.mean(np.argmax(scores, axis=1) == labels))


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


def reconstruction_mse(reconstruction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-sample mean squared error between (N, ...) arrays: an autoencoder's anomaly score."""
    a, b = np.asarray(reconstruction, np.float64), np.asarray(reference, np.float64)
    if a.shape != b.shape or a.ndim == 0:
        raise DatasetError(f"reconstruction {a.shape} and reference {b.shape} must have the same (N, ...) shape")
    return ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)
