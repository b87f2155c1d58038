"""MLPerf Tiny dataset folders (their metrics are tested in tests/test_metrics.py)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.errors import DatasetError
from edgeq.model import read_model
from edgeq.serialdut.dataset import LabelRow, load_mlperf_dataset, parse_labels
from tests.conftest import FIXTURES


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
