"""MLPerf Tiny dataset folders and the accuracy / ROC AUC metrics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeq.errors import DatasetError
from edgeq.model import read_model
from edgeq.serialdut.dataset import LabelRow, load_mlperf_dataset, parse_labels
from edgeq.serialdut.metrics import average_ranks, file_score, reconstruction_mse, roc_auc, top1_accuracy
from tests.conftest import FIXTURES

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def test_parse_labels():
    text = "emu_s_002009.bin,10,2\n\n# a comment\n taxi_s_001241.bin , 10 , 1 \r\nanomaly_id_01.bin,2,1,2560,512\n"
    rows = parse_labels(text)
    assert rows == [
        LabelRow("emu_s_002009.bin", 10, 2),
        LabelRow("taxi_s_001241.bin", 10, 1),
        LabelRow("anomaly_id_01.bin", 2, 1, 2560, 512),
    ]
    for bad, match in [
        ("a.bin,10\n", "line 1 has 2 fields"),
        ("a.bin,10,2,5\n", "has 4 fields"),
        ("a.bin,ten,2\n", "not all integers"),
        ("a.bin,10,10\n", "class 10 is not in 0..9"),
        ("a.bin,2,1,0,5\n", "window and stride"),
    ]:
        with pytest.raises(DatasetError, match=match):
            parse_labels(bad)


def test_load_dataset(tmp_path):
    graph = read_model((FIXTURES / "tflite" / "two_input_int8.tflite").read_bytes())
    for i in range(3):
        (tmp_path / f"s{i}.bin").write_bytes(bytes(range(i, i + 16)))
    (tmp_path / "y_labels.csv").write_text("s0.bin,4,3\ns1.bin,4,0\ns2.bin,4,1\n")
    data = load_mlperf_dataset(tmp_path)
    assert data.labels.tolist() == [3, 0, 1] and data.inputs()[1] == bytes(range(1, 17))
    assert data.samples[0].windows() == [bytes(range(16))]
    b, a = data.arrays(graph.input_tensors)  # graph order: b then a
    assert b.shape == (3, 8) and b.dtype == np.int8 and a[2].tolist() == list(range(10, 18))
    assert len(load_mlperf_dataset(tmp_path, limit=2).samples) == 2
    (tmp_path / "s2.bin").write_bytes(bytes(17))
    with pytest.raises(DatasetError, match="s2.bin has 17 bytes but the model's inputs take 16"):
        data = load_mlperf_dataset(tmp_path).arrays(graph.input_tensors)
    (tmp_path / "s1.bin").unlink()
    with pytest.raises(DatasetError, match="names s1.bin, which is not in"):
        load_mlperf_dataset(tmp_path)
    with pytest.raises(DatasetError, match="y_labels.csv not found"):
        load_mlperf_dataset(tmp_path / "nowhere")
    (tmp_path / "y_labels.csv").write_text("# nothing\n")
    with pytest.raises(DatasetError, match="lists no files"):
        load_mlperf_dataset(tmp_path)


def test_anomaly_windows(tmp_path):
    (tmp_path / "a.bin").write_bytes(bytes(range(20)))
    (tmp_path / "y_labels.csv").write_text("a.bin,2,1,8,4\n")
    (sample,) = load_mlperf_dataset(tmp_path).samples
    assert sample.windows() == [bytes(range(s, s + 8)) for s in (0, 4, 8, 12)]  # 16..23 would overrun


def test_top1_accuracy():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert top1_accuracy(scores, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    for bad_scores, bad_labels in [(scores[0], [1]), (scores, [1, 0]), (scores, [1, 0, 2]), (scores[:0], [])]:
        with pytest.raises(DatasetError):
            top1_accuracy(np.asarray(bad_scores), np.asarray(bad_labels))


def test_average_ranks():
    assert average_ranks(np.array([3.0, 1.0, 3.0, 2.0, 3.0])).tolist() == [4.0, 1.0, 4.0, 2.0, 4.0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1)), min_size=2, max_size=60).filter(
        lambda pairs: len({label for _, label in pairs}) == 2
    )
)
def test_roc_auc_matches_sklearn(pairs):
    scores = np.array([s / 2 for s, _ in pairs])  # few distinct values: many ties
    labels = np.array([label for _, label in pairs])
    assert roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12)


def test_roc_auc_edges():
    assert roc_auc(np.array([0.1, 0.9]), np.array([0, 1])) == 1.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5
    rng = np.random.default_rng(0)
    scores, labels = rng.normal(size=500), rng.integers(0, 2, 500)
    assert roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores))
    for s, lab, match in [
        ([0.1, 0.2], [0, 0], "both classes"),
        ([0.1, 0.2], [0, 2], "labels 0"),
        ([0.1, np.nan], [0, 1], "NaN"),
        ([0.1], [0, 1], "1 scores for 2 labels"),
    ]:
        with pytest.raises(DatasetError, match=match):
            roc_auc(np.array(s), np.array(lab))


def test_scores():
    assert file_score([1.0, 2.0, 6.0]) == 3.0
    with pytest.raises(DatasetError):
        file_score([])
    mse = reconstruction_mse(np.array([[1.0, 3.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [1.0, 1.0]]))
    assert mse.tolist() == [2.0, 1.0]
    with pytest.raises(DatasetError):
        reconstruction_mse(np.zeros((2, 2)), np.zeros((2, 3)))
