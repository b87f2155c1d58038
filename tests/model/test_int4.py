"""int4 constants in the model reader: unpacked values for callers that ask for values, packed sizes for size figures."""

from __future__ import annotations

import numpy as np
import pytest

from edgeq.errors import ModelFormatError
from edgeq.model import read_model
from edgeq.model.analysis import inspect_model
from edgeq.model.graph import pack_int4, unpack_int4
from tests.conftest import FIXTURES, repack

INT4 = FIXTURES / "int4"
NAMES = ("conv", "depthwise", "fc", "ds_cnn", "residual")


@pytest.mark.parametrize("name", NAMES)
def test_int4_weights_read_as_their_int8_twin(name):
    """Every int4 tensor unpacks to the values its int8-stored twin holds (scripts/make_int4_fixtures.py)."""
    int4, w8 = read_model(INT4 / f"{name}.tflite"), read_model(INT4 / f"{name}_w8.tflite")
    packed = [t for t in int4.tensors if t.dtype == "int4"]
    assert packed
    for t in packed:
        twin = w8.tensors[t.index]
        assert twin.dtype == "int8"
        values = t.numpy()
        assert values.dtype == np.int8 and values.shape == t.shape
        assert np.array_equal(values, twin.numpy())
        assert t.nbytes == len(t.data) == (t.size + 1) // 2
        assert values.min() >= -8 and values.max() <= 7


def test_odd_counts_leave_a_half_byte():
    values = np.array([-8, 7, -1, 0, 3], np.int8)
    packed = pack_int4(values)
    assert packed == bytes([0x78, 0x0F, 0x03])  # low nibble first
    assert unpack_int4(packed, 5).tolist() == values.tolist()
    assert unpack_int4(b"\xf8", 2).tolist() == [-8, -1]
    with pytest.raises(ValueError, match=r"\[-8, 7\]"):
        pack_int4(np.array([8], np.int8))


def test_parameter_bytes_count_packed_weights():
    int4, w8 = (inspect_model(read_model(INT4 / f"ds_cnn{s}.tflite")) for s in ("", "_w8"))
    graph = read_model(INT4 / "ds_cnn.tflite")
    saved = sum(t.size - t.nbytes for t in graph.tensors if t.dtype == "int4")
    assert w8.parameter_bytes - int4.parameter_bytes == saved > 0


def test_short_int4_data_is_a_format_error():
    def truncate(model) -> None:
        for tensor in model.subgraphs[0].tensors:
            if tensor.type == 17:  # INT4
                model.buffers[tensor.buffer].data = model.buffers[tensor.buffer].data[:-1]
                return

    data = repack((INT4 / "fc.tflite").read_bytes(), truncate)
    with pytest.raises(ModelFormatError, match="4-bit values packed into bytes"):
        read_model(data)
