"""edgeq.model.read_model against the checked-in fixtures, LiteRT's view of them, and bad files."""

from __future__ import annotations

import copy
import hashlib
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeq.errors import ModelFormatError
from edgeq.model import Graph, Quantization, Tensor, read_model, schema
from edgeq.model.flatbuf import FlatBuffer
from tests.conftest import generated_schema, repack

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tflite"
NAMES = ["conv_float", "conv_int8", "two_input_int8"]


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.tflite"


def interpreter(path: Path, allocate: bool = False):
    """LiteRT's interpreter without delegates; allocating adds kernel scratch tensors."""
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interp = litert.Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    if allocate:
        interp.allocate_tensors()
    return interp


# --- the fixtures, compared with LiteRT -------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_counts_match_litert(name):
    graph = read_model(fixture(name))
    interp = interpreter(fixture(name))
    ops = interp._get_ops_details()
    assert len(graph.tensors) == len(interp.get_tensor_details())
    assert [op.builtin for op in graph.operators] == [op["op_name"] for op in ops]
    for op, ref in zip(graph.operators, ops):
        assert op.inputs == tuple(ref["inputs"].tolist())
        assert op.outputs == tuple(ref["outputs"].tolist())
    assert graph.inputs == tuple(d["index"] for d in interp.get_input_details())
    assert graph.outputs == tuple(d["index"] for d in interp.get_output_details())


@pytest.mark.parametrize("name", NAMES)
def test_tensors_match_litert(name):
    graph = read_model(fixture(name))
    for ref in interpreter(fixture(name)).get_tensor_details():
        tensor = graph.tensors[ref["index"]]
        assert tensor.name == ref["name"]
        assert tensor.shape == tuple(ref["shape"].tolist())
        assert tensor.dtype == np.dtype(ref["dtype"]).name
        params = ref["quantization_parameters"]
        if tensor.quantization is None:
            assert len(params["scales"]) == 0
            continue
        np.testing.assert_array_equal(tensor.quantization.scale, params["scales"])
        np.testing.assert_array_equal(tensor.quantization.zero_point, params["zero_points"])
        assert tensor.quantization.quantized_dimension == params["quantized_dimension"]


def test_int8_io_quantization_matches_litert():
    graph = read_model(fixture("conv_int8"))
    interp = interpreter(fixture("conv_int8"))
    pairs = [(graph.input_tensors, interp.get_input_details())]
    pairs.append((graph.output_tensors, interp.get_output_details()))
    for tensors, details in pairs:
        for tensor, ref in zip(tensors, details, strict=True):
            assert tensor.dtype == "int8" == np.dtype(ref["dtype"]).name
            assert tensor.shape == tuple(ref["shape"].tolist())
            scale, zero_point = ref["quantization"]
            assert tensor.quantization.scale == (pytest.approx(scale, rel=1e-7),)
            assert tensor.quantization.zero_point == (zero_point,)
            assert not tensor.quantization.per_channel


def test_per_channel_conv_weights_match_litert():
    graph = read_model(fixture("conv_int8"))
    conv = next(op for op in graph.operators if op.builtin == "CONV_2D")
    weights = graph.tensors[conv.inputs[1]]
    assert weights.is_constant and weights.dtype == "int8" and weights.shape == (8, 3, 3, 3)
    quant = weights.quantization
    assert quant.per_channel and len(quant.scale) == 8 and quant.quantized_dimension == 0
    interp = interpreter(fixture("conv_int8"), allocate=True)
    ref = interp.get_tensor_details()[weights.index]["quantization_parameters"]
    np.testing.assert_array_equal(np.float32(quant.scale), ref["scales"])
    np.testing.assert_array_equal(weights.numpy(), interp.get_tensor(weights.index))


def test_depthwise_weights_quantized_along_last_axis():
    graph = read_model(fixture("conv_int8"))
    dw = next(op for op in graph.operators if op.builtin == "DEPTHWISE_CONV_2D")
    weights = graph.tensors[dw.inputs[1]]
    assert weights.shape == (1, 3, 3, 8)
    assert weights.quantization.quantized_dimension == 3


def test_float_fixture_structure_and_options():
    graph = read_model(fixture("conv_float"))
    assert isinstance(graph, Graph)
    assert graph.version == 3 and graph.subgraph_count == 1
    assert "serving_default" in graph.signature_keys
    assert [op.builtin for op in graph.operators] == [
        "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX",
    ]  # fmt: skip
    conv, dw, pool, _, fc, softmax = graph.operators
    assert conv.options["padding"] == "SAME" and conv.options["stride_w"] == 1
    assert conv.options["fused_activation_function"] == "RELU"
    assert dw.options["padding"] == "VALID" and dw.options["depth_multiplier"] == 1
    assert pool.options["filter_width"] == pool.options["filter_height"] == 2
    assert fc.options["keep_num_dims"] is False and fc.inputs[2] == -1
    assert softmax.options["beta"] == pytest.approx(1.0)
    assert all(t.dtype in ("float32", "int32") for t in graph.tensors)
    assert graph.input_tensors[0].shape == (1, 16, 16, 3)


def test_producers_and_consumers():
    graph = read_model(fixture("two_input_int8"))
    add = next(op for op in graph.operators if op.builtin == "ADD")
    for t in add.inputs:
        assert graph.producers[t] < add.index
        assert add.index in graph.consumers[t]
    assert all(t not in graph.producers for t in graph.inputs)
    assert len(graph.inputs) == 2


def test_tensor_helpers():
    graph = read_model(fixture("conv_float"))
    weights = graph.tensors[graph.operators[0].inputs[1]]
    assert weights.nbytes == len(weights.data) == 8 * 3 * 3 * 3 * 4
    assert weights.numpy().shape == (8, 3, 3, 3) and weights.numpy().dtype == np.float32
    activation = graph.tensors[graph.operators[0].outputs[0]]
    assert not activation.is_constant and activation.numpy() is None
    assert activation.nbytes == 16 * 16 * 8 * 4


def test_reads_bytes_and_sha256():
    data = fixture("conv_int8").read_bytes()
    graph = read_model(data)
    assert graph.name == "<bytes>" and graph.size_bytes == len(data)
    assert graph.sha256 == hashlib.sha256(data).hexdigest()
    assert read_model(fixture("conv_int8")).tensors == graph.tensors


def test_quantization_rejects_mismatched_zero_points():
    with pytest.raises(ModelFormatError):
        Quantization(scale=(0.1, 0.2), zero_point=(0,))


def test_numpy_refuses_undecodable_dtype():
    from edgeq.errors import UnsupportedError

    tensor = Tensor(0, "w", (2,), (), "uint4", 1, b"\x12", None)
    assert tensor.nbytes == 1
    with pytest.raises(UnsupportedError):
        tensor.numpy()


def test_edgeq_model_does_not_import_tensorflow():
    modules = "edgeq.model, edgeq.model.analysis, edgeq.cli.inspect"
    code = f"import sys, {modules}; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- schema facts, checked against LiteRT's generated schema ----------------------------


def test_builtin_operator_table_matches_litert():
    fbs = generated_schema()
    for name, number in vars(fbs.BuiltinOperator).items():
        if not name.startswith("_"):
            assert schema.builtin_name(number) == name
    assert schema.builtin_name(100_000) == "UNKNOWN_100000"


def test_tensor_types_match_litert():
    fbs = generated_schema()
    for name, number in vars(fbs.TensorType).items():
        if not name.startswith("_"):
            assert schema.TENSOR_TYPES[number][0] == name.lower()


def test_builtin_options_numbers_match_litert():
    fbs = generated_schema()
    for number, (table, _) in schema.BUILTIN_OPTIONS.items():
        assert getattr(fbs.BuiltinOptions, table) == number


@pytest.mark.parametrize(
    ("deprecated", "builtin", "expected"),
    [(3, 0, "CONV_2D"), (127, 150, "GELU"), (4, 4, "DEPTHWISE_CONV_2D")],
)
def test_builtin_code_is_max_of_both_fields(deprecated, builtin, expected):
    def edit(model):
        model.operatorCodes[0].deprecatedBuiltinCode = deprecated
        model.operatorCodes[0].builtinCode = builtin

    graph = read_model(repack(fixture("conv_float").read_bytes(), edit))
    assert graph.operators[0].builtin == expected


def test_external_buffers_at_file_offsets():
    """Models > 2 GB keep buffer data after the flatbuffer, located by Buffer.offset/size."""
    original = fixture("conv_int8").read_bytes()
    blobs: list[bytes] = []

    def to_placeholders(model):
        for buf in model.buffers:
            blobs.append(bytes(buf.data) if buf.data is not None else b"")
            buf.data, buf.offset, buf.size = None, 1, len(blobs[-1])

    size = len(repack(original, to_placeholders))
    size += -size % 16

    def to_offsets(model):
        to_placeholders(model)
        del blobs[len(model.buffers) :]
        position = size
        for buf, blob in zip(model.buffers, blobs):
            buf.offset, position = (position if blob else 1), position + len(blob)

    blobs.clear()
    head = repack(original, to_offsets)
    assert len(head) == size - (-len(head) % 16)
    data = head.ljust(size, b"\0") + b"".join(blobs)
    graph, reference = read_model(data), read_model(original)
    assert [t.data for t in graph.tensors] == [t.data for t in reference.tensors]
    with pytest.raises(ModelFormatError, match="buffer"):
        read_model(data[: len(data) - 1])


# --- bad input --------------------------------------------------------------------------


def assert_one_line(exc: pytest.ExceptionInfo, *needles: str) -> None:
    message = str(exc.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tflite"
    path.write_bytes(b"")
    with pytest.raises(ModelFormatError) as exc:
        read_model(path)
    assert str(exc.value) == f"{path} is empty (0 bytes)"


def test_missing_file(tmp_path):
    path = tmp_path / "missing.tflite"
    with pytest.raises(ModelFormatError) as exc:
        read_model(path)
    assert str(exc.value) == f"{path}: no such file"


def test_directory(tmp_path):
    with pytest.raises(ModelFormatError) as exc:
        read_model(tmp_path)
    assert_one_line(exc, str(tmp_path), "directory")


def test_text_file(tmp_path):
    path = tmp_path / "notes.tflite"
    path.write_text("this is not a model\nat all\n")
    with pytest.raises(ModelFormatError) as exc:
        read_model(path)
    assert_one_line(exc, str(path), "not a TFLite model", "b'TFL3'")


def test_wrong_file_identifier(tmp_path):
    data = bytearray(fixture("conv_int8").read_bytes())
    data[4:8] = b"abcd"
    path = tmp_path / "bad.tflite"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError) as exc:
        read_model(path)
    expected = f"{path} is not a TFLite model (file identifier b'abcd', expected b'TFL3'); "
    assert str(exc.value) == expected + "pass a .tflite flatbuffer"


def test_tiny_file():
    with pytest.raises(ModelFormatError) as exc:
        read_model(b"\x08\x00\x00")
    assert_one_line(exc, "too small")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fraction", [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
def test_truncated(name, fraction):
    data = fixture(name).read_bytes()
    with pytest.raises(ModelFormatError) as exc:
        read_model(data[: max(8, int(len(data) * fraction))], name=f"{name}.tflite")
    assert_one_line(exc, f"{name}.tflite")


def test_root_offset_outside_file():
    data = bytearray(fixture("conv_int8").read_bytes())
    data[0:4] = struct.pack("<I", len(data) + 100)
    with pytest.raises(ModelFormatError) as exc:
        read_model(bytes(data))
    assert_one_line(exc, "outside")


def _op_input_position(data: bytes, op_index: int) -> int:
    """Byte position of the first input index of operator ``op_index`` in ``data``."""
    model = FlatBuffer(data, "x").root()
    subgraph = model.tables(schema.ModelSlot.SUBGRAPHS)[0]
    op = subgraph.tables(schema.SubGraphSlot.OPERATORS)[op_index]
    return op.target(schema.OperatorSlot.INPUTS) + 4


@pytest.mark.parametrize("bad_index", [999, -2, 2**31 - 1])
def test_tensor_index_out_of_range(bad_index):
    data = bytearray(fixture("conv_int8").read_bytes())
    pos = _op_input_position(bytes(data), 1)
    struct.pack_into("<i", data, pos, bad_index)
    with pytest.raises(ModelFormatError) as exc:
        read_model(bytes(data), name="patched.tflite")
    assert_one_line(exc, "patched.tflite", "operator 1", f"tensor {bad_index}")


def test_optional_input_minus_one_is_allowed():
    data = bytearray(fixture("conv_int8").read_bytes())
    struct.pack_into("<i", data, _op_input_position(bytes(data), 0) + 8, -1)  # conv bias
    assert read_model(bytes(data)).operators[0].inputs[2] == -1


def test_two_subgraphs_rejected():
    def edit(model):
        model.subgraphs.append(copy.deepcopy(model.subgraphs[0]))

    with pytest.raises(ModelFormatError) as exc:
        read_model(repack(fixture("conv_float").read_bytes(), edit), name="multi.tflite")
    assert_one_line(exc, "multi.tflite has 2 subgraphs; edgeq supports single-subgraph models")


def test_constant_data_size_must_match_shape():
    def edit(model):
        model.subgraphs[0].tensors[5].shape = [8, 3, 3, 4]  # conv weights, data is 8x3x3x3

    with pytest.raises(ModelFormatError) as exc:
        read_model(repack(fixture("conv_float").read_bytes(), edit))
    assert_one_line(exc, "tensor 5", "864 bytes")


def test_per_channel_scale_count_must_match_axis():
    def edit(model):
        model.subgraphs[0].tensors[6].quantization.quantizedDimension = 1  # 3 != 8 scales

    with pytest.raises(ModelFormatError) as exc:
        read_model(repack(fixture("conv_int8").read_bytes(), edit))
    assert_one_line(exc, "tensor 6", "8 scales")


def test_per_channel_bias_keeps_any_quantized_dimension():
    """Older converters wrote the weights' channel axis (3) into the 1-D bias; its one axis is what counts."""

    def edit(model):
        model.subgraphs[0].tensors[4].quantization.quantizedDimension = 3  # a bias of 8 channels

    bias = read_model(repack(fixture("conv_int8").read_bytes(), edit)).tensors[4]
    assert bias.shape == (8,) and bias.quantization.per_channel and bias.quantization.quantized_dimension == 0


def test_offsets_edgeq_does_not_use_are_still_checked():
    """A calibration range or a signature's tensor map pointing outside the file: the runtimes reject it too."""
    data = fixture("conv_int8").read_bytes()
    broken = bytearray(data)
    broken[7379] = 111  # the offset of a tensor's quantization max vector
    with pytest.raises(ModelFormatError) as exc:
        read_model(bytes(broken))
    assert_one_line(exc, "outside the 7608-byte file")
    broken = bytearray(data)
    broken[119] = 231  # the vtable offset of a signature's output tensor map
    with pytest.raises(ModelFormatError) as exc:
        read_model(bytes(broken))
    assert_one_line(exc, "outside the 7608-byte file")


def test_negative_dimension_rejected():
    def edit(model):
        model.subgraphs[0].tensors[7].shape = [1, -16, 16, 8]

    with pytest.raises(ModelFormatError) as exc:
        read_model(repack(fixture("conv_int8").read_bytes(), edit))
    assert_one_line(exc, "tensor 7")
