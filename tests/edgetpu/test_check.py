"""The Edge TPU check: per-op verdicts, the single partition, the table (its text: tests/cli/test_views.py)."""

from __future__ import annotations

import json

import pytest

from edgeq.edgetpu import EdgeTpuReport, OpCheck, Status, check_model
from edgeq.errors import ModelFormatError
from tests.edgetpu.models import (
    CONV_FLOAT,
    CONV_INT8,
    OPS,
    ZOO,
    add_subgraph_copy,
    replace_opcode,
    set_shapes,
    static_flatten,
)


def statuses(report: EdgeTpuReport) -> list[Status]:
    return [op.status for op in report.ops]


def test_int8_cnn_maps_fully():
    report = check_model(CONV_INT8)
    assert (report.edgetpu_count, report.cpu_count) == (6, 0)
    assert report.first_cpu_op is None
    assert all(op.reason == "" for op in report.ops)


@pytest.mark.parametrize("name", ["vww_mobilenet", "kws_dscnn", "ic_resnet8"])
def test_zoo_model_with_fixed_batch_maps_fully(name):
    """MobileNet, DS-CNN and ResNet-8 use only Edge TPU ops once Flatten's shape is a constant."""
    report = check_model(static_flatten((ZOO / name / "int8.tflite").read_bytes()))
    assert report.cpu_count == 0, [(op.op, op.reason) for op in report.ops if not op.on_edgetpu]
    assert report.notes == ()


def test_zoo_model_with_dynamic_batch_splits_at_shape():
    """The stored zoo models compute Flatten's shape at run time: SHAPE's int32 output ends the Edge TPU segment."""
    report = check_model(ZOO / "vww_mobilenet" / "int8.tflite")
    first = report.first_cpu_op
    assert (first.index, first.op, first.status) == (28, "SHAPE", Status.DATA_TYPE)
    assert all(op.on_edgetpu for op in report.ops[:28])
    assert [op.status for op in report.ops[-2:]] == [Status.SUBGRAPH, Status.SUBGRAPH]
    assert (report.edgetpu_count, report.cpu_count) == (28, 6)
    assert any("fixed batch size" in note for note in report.notes)


def test_float_model_is_unsupported_data_type():
    report = check_model(CONV_FLOAT)
    assert statuses(report) == [Status.DATA_TYPE] * 6
    assert report.edgetpu_count == 0
    assert "float32" in report.ops[0].reason


def test_unsupported_op_in_the_middle_sends_the_rest_to_the_cpu(conv_int8):
    report = check_model(replace_opcode(conv_int8, "MAX_POOL_2D", "HARD_SWISH"))
    assert [op.op for op in report.ops] == [
        "CONV_2D", "DEPTHWISE_CONV_2D", "HARD_SWISH", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX",
    ]  # fmt: skip
    assert statuses(report) == [Status.MAPPED] * 2 + [Status.NOT_SUPPORTED] + [Status.SUBGRAPH] * 3
    assert (report.edgetpu_count, report.cpu_count) == (2, 4)
    assert report.first_cpu_op.index == 2
    assert "after op 2 (HARD_SWISH)" in report.ops[4].reason
    assert "ReLU" in report.ops[2].reason  # the maintainers' suggested replacement


def test_stranded_quantize_is_reported_as_unspecified_limitation():
    """After the split the compiler logs a supported QUANTIZE as "otherwise supported" (issue 461)."""
    data = (OPS / "concat_requantized_inputs.tflite").read_bytes()  # RELU, MUL, CONCATENATION
    data = replace_opcode(replace_opcode(data, "RELU", "LEAKY_RELU"), "MUL", "QUANTIZE")  # analysis only
    report = check_model(data)
    assert [op.op for op in report.ops] == ["LEAKY_RELU", "QUANTIZE", "CONCATENATION"]
    assert statuses(report) == [Status.NOT_SUPPORTED, Status.LIMITATION, Status.SUBGRAPH]


def test_float_io_conversions_stay_on_the_cpu_without_splitting():
    """Input QUANTIZE and output DEQUANTIZE run on the CPU; the integer op between them still maps."""
    report = check_model(OPS / "float_io_add.tflite")
    assert statuses(report) == [Status.LIMITATION, Status.LIMITATION, Status.MAPPED, Status.DATA_TYPE]
    assert (report.edgetpu_count, report.cpu_count) == (1, 3)


@pytest.mark.parametrize(
    ("shape", "mapped"),
    [
        ([1, 2, 3, 4, 5], False),  # rank 5: dimension 1 (size 2) is outside the 3 innermost
        ([2, 3, 4, 5], False),  # 4 dimensions above 1 (a batch of 2)
        ([1, 1, 4, 5, 6], True),  # rank 5, but only the 3 innermost dimensions exceed 1
        ([1, 4, 5, 3], True),
    ],
)
def test_rank_rule(shape, mapped):
    report = check_model(set_shapes((OPS / "relu.tflite").read_bytes(), shape))
    op = report.ops[0]
    assert op.on_edgetpu is mapped
    if not mapped:
        assert op.status is Status.RANK
        assert op.status.value == "Tensor has unsupported rank (up to 3 innermost dimensions mapped)"
        assert str(shape) in op.reason


def test_dynamic_size_beyond_the_batch_dimension():
    data = set_shapes((OPS / "relu.tflite").read_bytes(), [1, 4, 5, 3], signature=[1, -1, 5, 3])
    op = check_model(data).ops[0]
    assert op.status is Status.DYNAMIC_SHAPE and "[1, -1, 5, 3]" in op.reason


def test_two_subgraphs(conv_int8):
    report = check_model(add_subgraph_copy(conv_int8))
    assert report.subgraph_count == 2
    assert len(report.ops) == 12
    assert set(statuses(report)) == {Status.SUBGRAPH}
    assert report.edgetpu_count == 0
    assert "2 subgraphs" in report.ops[0].reason


@pytest.mark.parametrize(
    ("fixture", "needle"),
    [
        ("fc_b3_bias_relu6", "not one-dimensional"),
        ("softmax_3d", "not one-dimensional"),
        ("squeeze_axis2", "relayout"),
        ("slice_steps", "only stride 1"),
    ],
)
def test_documented_op_limitations(fixture, needle):
    op = check_model(OPS / f"{fixture}.tflite").ops[0]
    assert op.status is Status.LIMITATION
    assert needle in op.reason


def test_unsupported_ops_are_named():
    for fixture, name in [("leaky_relu_0.1", "LEAKY_RELU"), ("padv2_constant", "PADV2")]:
        op = check_model(OPS / f"{fixture}.tflite").ops[0]
        assert (op.op, op.status) == (name, Status.NOT_SUPPORTED)
        assert op.status.value == "Operation not supported"


def test_status_wording_matches_the_compiler():
    assert Status.MAPPED.value == "Mapped to Edge TPU"
    assert Status.DATA_TYPE.value == "Operation is working on an unsupported data type"
    assert Status.SUBGRAPH.value == "More than one subgraph is not supported"
    assert Status.LIMITATION.value == (
        "Operation is otherwise supported, but not mapped due to some unspecified limitation"
    )


def test_table_groups_by_operator_and_status():
    report = EdgeTpuReport(
        "m",
        (
            OpCheck(0, "PAD", Status.MAPPED),
            OpCheck(1, "TRANSPOSE", Status.NOT_SUPPORTED, "x"),
            OpCheck(2, "PAD", Status.SUBGRAPH, "y"),
            OpCheck(3, "PAD", Status.SUBGRAPH, "y"),
        ),
    )
    assert [(r.op, r.count, r.status) for r in report.table()] == [
        ("PAD", 1, Status.MAPPED),
        ("TRANSPOSE", 1, Status.NOT_SUPPORTED),
        ("PAD", 2, Status.SUBGRAPH),
    ]


def test_json_keys(conv_int8):
    data = json.loads(json.dumps(check_model(replace_opcode(conv_int8, "MAX_POOL_2D", "HARD_SWISH")).to_dict()))
    assert set(data) == {
        "model", "edgetpu_ops", "cpu_ops", "total_ops", "fully_mapped", "first_cpu_op",
        "subgraph_count", "compiled", "operators", "ops", "notes",
    }  # fmt: skip
    assert (data["edgetpu_ops"], data["cpu_ops"], data["first_cpu_op"], data["fully_mapped"]) == (2, 4, 2, False)
    assert data["operators"][2] == {"operator": "HARD_SWISH", "count": 1, "status": "Operation not supported"}
    assert set(data["ops"][0]) == {"index", "op", "status", "on_edgetpu", "reason"}


def test_corrupt_model_raises_model_format_error(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(CONV_INT8.read_bytes()[:900])
    with pytest.raises(ModelFormatError):
        check_model(bad)
