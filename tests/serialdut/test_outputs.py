"""Model tensors <-> DUT bytes and floats (edgeq.serialdut.outputs), on hand-built tensors."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.errors import DatasetError, DeviceError, UnsupportedError
from edgeq.model import Quantization, Tensor
from edgeq.serialdut.outputs import inexact_outputs, results_to_outputs, sample_bytes, split_raw


def tensor(name: str, shape: tuple[int, ...], dtype: str, scale: tuple[float, ...] = (), zero: tuple[int, ...] = ()):
    quant = Quantization(scale, zero) if scale else None
    return Tensor(0, name, shape, shape, dtype, 0, None, quant)


OUTS = [
    tensor("probs", (1, 3), "int8", (0.1,), (-5,)),
    tensor("box", (1, 2, 2), "float32"),
    tensor("count", (2,), "int16", (0.5,), (0,)),
]


def test_split_raw_mixed_outputs():
    raw = bytes([1, 2, 255]) + np.arange(4, dtype="<f4").tobytes() + np.array([-2, 300], "<i2").tobytes()
    probs, box, count = split_raw(raw, OUTS)
    assert probs.tolist() == [1, 2, -1] and probs.dtype == np.int8
    assert box.shape == (2, 2) and box.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert count.shape == (2,) and count.tolist() == [-2, 300]
    with pytest.raises(DeviceError, match="sent 22 output bytes but the model's outputs take 23"):
        split_raw(raw[:-1], OUTS)


def test_results_to_outputs():
    values = [0.5, -100.0, 100.0, 1.25, 2.5, 3.0, 4.0, 1.0, -2.5]
    probs, box, count = results_to_outputs(values, OUTS)
    assert probs.tolist() == [0, -128, 127]  # 0.5 / 0.1 - 5 = 0; clipped to int8
    assert box.dtype == np.float32 and box.tolist() == [[1.25, 2.5], [3.0, 4.0]]
    assert count.tolist() == [2, -5]
    with pytest.raises(DeviceError, match="reported 1 result values but the model has 9 output values"):
        results_to_outputs([0.1], OUTS)
    per_channel = tensor("pc", (1, 2), "int8", (0.1, 0.2), (0, 0))
    with pytest.raises(UnsupportedError, match="per channel"):
        results_to_outputs([0.0, 0.0], [per_channel])


def test_inexact_outputs():
    small = tensor("tiny", (1, 2), "int8", (0.001,), (-128,))
    assert inexact_outputs([*OUTS, small]) == ["box (float32)", "tiny (scale 0.001)"]
    assert inexact_outputs([OUTS[0], tensor("softmax", (1, 10), "int8", (0.00390625,), (-128,))]) == []


def test_sample_bytes():
    ins = [tensor("a", (1, 2), "int8"), tensor("b", (1, 1), "int16")]
    data = sample_bytes(ins, [np.array([[1, 2], [3, 4]], np.int8), np.array([[5], [-1]], np.int16)])
    assert data == [b"\x01\x02\x05\x00", b"\x03\x04\xff\xff"]
    for bad in (
        [np.zeros((2, 2), np.int8)],
        [np.zeros((2, 2), np.uint8), np.zeros((2, 1), np.int16)],
        [np.zeros((2, 3), np.int8), np.zeros((2, 1), np.int16)],
        [np.zeros((2, 2), np.int8), np.zeros((3, 1), np.int16)],
    ):
        with pytest.raises(DatasetError):
            sample_bytes(ins, bad)
