"""edgeq.metrics: hand-computed values, and scikit-learn where it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeq.errors import DatasetError
from edgeq.metrics import (
    agreement,
    average_ranks,
    file_score,
    mse_per_sample,
    rmse,
    roc_auc,
    snr_db,
    top1,
    top1_accuracy,
)


def _sklearn_metrics():
    return pytest.importorskip("sklearn.metrics")


def test_top1_flattens_each_sample_and_takes_the_first_maximum():
    scores = np.array([[[0.1, 0.9]], [[0.8, 0.2]], [[0.5, 0.5]]])  # (3, 1, 2)
    assert top1(scores).tolist() == [1, 0, 0]
    assert top1(np.array([[-3, -1, -2]], np.int8)).tolist() == [1]


def test_top1_accuracy():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert top1_accuracy(scores, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert top1_accuracy(scores[:, None, :], np.array([[1], [0], [1]])) == 1.0  # (N, 1, C) scores, (N, 1) labels
    assert top1_accuracy(scores, np.array([1, 0, 2])) == pytest.approx(2 / 3)  # a label no score matches: a miss
    for bad_scores, bad_labels in [(scores[0], [1]), (scores, [1, 0]), (scores[:0], [])]:
        with pytest.raises(DatasetError):
            top1_accuracy(np.asarray(bad_scores), np.asarray(bad_labels))


def test_top1_accuracy_validated_as_mlperf_scores_it():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert top1_accuracy(scores, np.array([1, 0, 0]), validate=True) == pytest.approx(2 / 3)
    for bad_scores, bad_labels in [(scores[0], [1]), (scores, [1, 0]), (scores, [1, 0, 2]), (scores[:0], [])]:
        with pytest.raises(DatasetError):
            top1_accuracy(np.asarray(bad_scores), np.asarray(bad_labels), validate=True)
    with pytest.raises(DatasetError, match=r"class indices 0\.\.1, got -1\.\.1"):
        top1_accuracy(scores, np.array([1, -1, 0]), validate=True)
    with pytest.raises(DatasetError, match="needs"):
        top1_accuracy(scores[:, None, :], np.array([1, 0, 0]), validate=True)


def test_top1_accuracy_matches_sklearn():
    sklearn_metrics = _sklearn_metrics()
    rng = np.random.default_rng(1)
    scores, labels = rng.normal(size=(200, 5)), rng.integers(0, 5, 200)
    assert top1_accuracy(scores, labels) == pytest.approx(sklearn_metrics.accuracy_score(labels, scores.argmax(1)))


def test_agreement():
    ref = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    cand = np.array([[0.2, 0.8], [0.4, 0.6], [0.1, 0.9], [0.6, 0.4]])
    assert agreement(ref, cand) == 0.75
    assert agreement(ref, ref) == 1.0


def test_rmse_and_snr():
    ref = np.array([[3.0, 4.0], [0.0, 0.0]])
    cand = np.array([[3.0, 5.0], [1.0, 0.0]])  # errors 0, 1, 1, 0: mean square 0.5
    assert rmse(ref, cand) == pytest.approx(math.sqrt(0.5))
    assert rmse(ref, ref) == 0.0
    signal = float(np.mean(ref**2))  # 25 / 4
    assert snr_db(signal, 0.5) == pytest.approx(10 * math.log10(6.25 / 0.5))
    assert snr_db(100.0, 1.0) == pytest.approx(20.0)
    assert snr_db(4.0, 0.0) is None  # identical outputs
    assert snr_db(0.0, 1.0) == pytest.approx(-300.0)  # an all-zero reference counts as 1e-30


def test_average_ranks():
    assert average_ranks(np.array([3.0, 1.0, 3.0, 2.0, 3.0])).tolist() == [4.0, 1.0, 4.0, 2.0, 4.0]


def test_roc_auc_by_hand():
    # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8 > 0.4, 0.8 > 0.1, 0.4 = 0.4 half, 0.4 > 0.1) = 3.5 / 4
    assert roc_auc(np.array([0.8, 0.4, 0.4, 0.1]), np.array([1, 1, 0, 0])) == 0.875


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1)), min_size=2, max_size=60).filter(
        lambda pairs: len({label for _, label in pairs}) == 2
    )
)
def test_roc_auc_matches_sklearn(pairs):
    sklearn_metrics = _sklearn_metrics()
    scores = np.array([s / 2 for s, _ in pairs])  # few distinct values: many ties
    labels = np.array([label for _, label in pairs])
    assert roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12)


def test_roc_auc_edges():
    assert roc_auc(np.array([0.1, 0.9]), np.array([0, 1])) == 1.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5
    for s, lab, match in [
        ([0.1, 0.2], [0, 0], "both classes"),
        ([0.1, 0.2], [0, 2], "labels 0"),
        ([0.1, np.nan], [0, 1], "NaN"),
        ([0.1], [0, 1], "1 scores for 2 labels"),
    ]:
        with pytest.raises(DatasetError, match=match):
            roc_auc(np.array(s), np.array(lab))


def test_roc_auc_random_matches_sklearn():
    sklearn_metrics = _sklearn_metrics()
    rng = np.random.default_rng(0)
    scores, labels = rng.normal(size=500), rng.integers(0, 2, 500)
    assert roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores))


def test_anomaly_scores():
    assert file_score([1.0, 2.0, 6.0]) == 3.0
    with pytest.raises(DatasetError):
        file_score([])
    mse = mse_per_sample(np.array([[1.0, 3.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 1.0]]))
    assert mse.tolist() == [2.0, 1.0]
    with pytest.raises(DatasetError):
        mse_per_sample(np.zeros((2, 2)), np.zeros((2, 3)))
