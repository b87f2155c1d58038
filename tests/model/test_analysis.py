"""edgeq.model.analysis: MACs, sizes and float ops (the text report: tests/cli/test_views.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeq.errors import ModelFormatError
from edgeq.model import read_model
from edgeq.model.analysis import ModelInfo, inspect_model, peak_activation_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tflite"


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.tflite"


# conv2d 3x3 same, 3 -> 8 channels on 16x16; depthwise 3x3 valid -> 14x14x8;
# max pool 2 -> 7x7x8 = 392; dense 392 -> 10.
CONV_MACS = 16 * 16 * 8 * (3 * 3 * 3)
DEPTHWISE_MACS = 14 * 14 * 8 * (3 * 3)
DENSE_MACS = 392 * 10


@pytest.mark.parametrize("name", ["conv_float", "conv_int8"])
def test_macs_match_hand_computation(name):
    info = inspect_model(fixture(name))
    by_op = {op.op: op.macs for op in info.ops}
    assert by_op["CONV_2D"] == CONV_MACS == 55_296
    assert by_op["DEPTHWISE_CONV_2D"] == DEPTHWISE_MACS
    assert by_op["FULLY_CONNECTED"] == DENSE_MACS
    assert by_op["MAX_POOL_2D"] == by_op["SOFTMAX"] == by_op["RESHAPE"] == 0
    assert info.total_macs == CONV_MACS + DEPTHWISE_MACS + DENSE_MACS == 73_328


def test_two_input_macs_count_dense_only():
    info = inspect_model(fixture("two_input_int8"))
    assert info.total_macs == 8 * 16 + 8 * 16 + 16 * 4
    assert next(op for op in info.ops if op.op == "ADD").macs == 0
    assert info.op_counts == {"FULLY_CONNECTED": 3, "RESHAPE": 1, "ADD": 1}
    assert len(info.inputs) == 2


def test_float_model_sizes_and_float_ops():
    info = inspect_model(fixture("conv_float"))
    # conv weights, one zero bias the converter shares between conv and depthwise,
    # depthwise weights, dense weights (the dense layer has no bias tensor), reshape shape.
    assert info.parameter_bytes == 4 * (8 * 3 * 3 * 3 + 8 + 3 * 3 * 8 + 392 * 10 + 2)
    activations = 4 * (16 * 16 * 3 + 16 * 16 * 8 + 14 * 14 * 8 + 392 + 392 + 10 + 10)
    assert info.activation_bytes == activations
    assert info.float_ops == tuple(range(6))
    assert all(op.is_float for op in info.ops)


def test_parameter_bytes_match_constant_buffers():
    graph = read_model(fixture("conv_float"))
    constants = {t.buffer: len(t.data) for t in graph.tensors if t.is_constant}
    assert inspect_model(graph).parameter_bytes == sum(constants.values())


def test_int8_model_has_no_float_ops():
    info = inspect_model(fixture("conv_int8"))
    assert info.float_ops == ()
    conv = info.ops[0]
    assert conv.dtypes == ("int32", "int8") and not conv.is_float
    weights = conv.inputs[1]
    assert weights.per_channel and weights.quant_count == 8 and len(weights.scale) == 4
    assert info.inputs[0].dtype == "int8" and info.inputs[0].quant_count == 1
    assert info.activation_bytes == 16 * 16 * 3 + 16 * 16 * 8 + 14 * 14 * 8 + 392 * 2 + 10 * 2


def test_peak_activation_is_largest_live_pair():
    graph = read_model(fixture("conv_int8"))
    # conv: 16x16x3 in + 16x16x8 out; depthwise: 16x16x8 in + 14x14x8 out (the largest).
    assert peak_activation_bytes(graph) == 16 * 16 * 8 + 14 * 14 * 8


def test_to_dict_is_json_with_expected_keys():
    info = inspect_model(fixture("conv_int8"))
    data = json.loads(json.dumps(info.to_dict()))
    for key in ("ops", "total_macs", "parameter_bytes", "activation_bytes", "float_ops"):
        assert key in data
    assert data["inputs"][0]["shape"] == [1, 16, 16, 3]
    assert data["ops"][0]["op"] == "CONV_2D"
    assert data["ops"][4]["inputs"][2] is None  # absent dense bias
    assert data["ops"][0]["options"]["padding"] == "SAME"


def test_inspect_accepts_bytes_and_graph():
    data = fixture("two_input_int8").read_bytes()
    from_bytes, from_graph = inspect_model(data), inspect_model(read_model(data))
    assert isinstance(from_bytes, ModelInfo)
    assert from_bytes == from_graph


def test_inspect_bad_input_raises_model_format_error(tmp_path):
    with pytest.raises(ModelFormatError):
        inspect_model(tmp_path / "missing.tflite")
